# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Secrets stay out of the server log, even at ``--log-level=debug_rpc``.

At debug level Odoo logs every model call with its arguments
(``odoo.service.model``: "call integration.credential().create({... 'secret':
'whsec_...'})"). A credential's secret is write-only everywhere else; a
filter hides the arguments of such a call in the log. It costs nothing at
the usual levels: Odoo does not build debug records it would not write.

The access log (``werkzeug``) writes each request's URL in full. A sender
that puts a token in the query string of a webhook (refused, but sent all
the same) would leave it there: the query strings of the suite's routes are
hidden from that log.
"""

import logging
import re

MODEL_CALL_LOGGER = "odoo.service.model"
MODEL_CALL_MESSAGE = "call %s.%s(%s)"
# How a secret shows in a call's arguments: a credential's field, in values or commands.
SECRET_MARKERS = ("'secret':",)
HIDDEN = "<arguments hidden: they hold a secret>"
ACCESS_LOGGER = "werkzeug"
INTEGRATION_QUERY = re.compile(r"(/integration/[^?\s]*)\?\S*")
HIDDEN_QUERY = r"\1?<query hidden>"


class HideSecretArguments(logging.Filter):
    """Replace the arguments of a logged model call that carry a secret."""

    def filter(self, record):
        if record.msg == MODEL_CALL_MESSAGE and isinstance(record.args, tuple) and len(record.args) == 3:
            if any(marker in str(record.args[2]) for marker in SECRET_MARKERS):
                record.args = (*record.args[:2], HIDDEN)
        return True


class HideIntegrationQueries(logging.Filter):
    """Cut the query string off the suite's URLs in the access log."""

    def filter(self, record):
        if isinstance(record.args, tuple) and any(
            isinstance(arg, str) and "/integration/" in arg for arg in record.args
        ):
            record.args = tuple(
                INTEGRATION_QUERY.sub(HIDDEN_QUERY, arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def install():
    """Put the filters on their loggers, once each (a module import may run twice)."""
    for logger_name, filter_class in (
        (MODEL_CALL_LOGGER, HideSecretArguments),
        (ACCESS_LOGGER, HideIntegrationQueries),
    ):
        logger = logging.getLogger(logger_name)
        if not any(isinstance(existing, filter_class) for existing in logger.filters):
            logger.addFilter(filter_class())
