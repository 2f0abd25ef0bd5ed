# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Secrets typed into forms stay out of the server log, even at ``--log-level=debug_rpc``.

At debug level Odoo logs every model call with its arguments
(``odoo.service.model``: "call integration.credential().create({... 'secret':
'whsec_...'})"). A credential's secret is write-only everywhere else; this
filter hides the arguments of such a call in the log. It costs nothing at
the usual levels: Odoo does not build debug records it would not write.
"""

import logging

MODEL_CALL_LOGGER = "odoo.service.model"
MODEL_CALL_MESSAGE = "call %s.%s(%s)"
# How a secret shows in a call's arguments: a credential's field, in values or commands.
SECRET_MARKERS = ("'secret':",)
HIDDEN = "<arguments hidden: they hold a secret>"


class HideSecretArguments(logging.Filter):
    """Replace the arguments of a logged model call that carry a secret."""

    def filter(self, record):
        if record.msg == MODEL_CALL_MESSAGE and isinstance(record.args, tuple) and len(record.args) == 3:
            if any(marker in str(record.args[2]) for marker in SECRET_MARKERS):
                record.args = (*record.args[:2], HIDDEN)
        return True


def install():
    """Put the filter on Odoo's model call logger, once (a module import may run twice)."""
    logger = logging.getLogger(MODEL_CALL_LOGGER)
    if not any(isinstance(existing, HideSecretArguments) for existing in logger.filters):
        logger.addFilter(HideSecretArguments())
