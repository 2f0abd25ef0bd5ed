# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from werkzeug.exceptions import HTTPException

from odoo import models
from odoo.http import request

INTEGRATION_PATH_PREFIX = "/integration/"


class IrHttp(models.AbstractModel):
    """Errors that escape the integration routes are answered in JSON, never as a 500 page.

    What reaches this point is what the controllers leave to Odoo: a
    concurrency error that was still there after Odoo ran the request again,
    a lost database connection, a bug (Odoo has logged its traceback), or
    werkzeug's own refusals (404, 413). The request's transaction was not
    committed, so nothing was stored.
    """

    _inherit = "ir.http"

    @classmethod
    def _handle_error(cls, exception):
        if not (request and request.httprequest.path.startswith(INTEGRATION_PATH_PREFIX)):
            return super()._handle_error(exception)
        if isinstance(exception, HTTPException) and exception.code and exception.code < 500:
            status, body, headers = (
                exception.code,
                {"error": exception.name.lower().replace(" ", "_"), "message": exception.description},
                {},
            )
        else:
            status = 503
            body = {
                "error": "unavailable",
                "message": "The server could not handle the request and stored nothing: retry later.",
            }
            headers = {"Retry-After": "5"}
        return request.make_json_response(body, headers=list(headers.items()), status=status)
