# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""HTTP endpoints that plant systems call. Thin: read the request, hand it to
``integration.webhook``, answer JSON with a precise status code."""

import json
import logging

from odoo import http
from odoo.http import request

from ..exceptions import WebhookRefused

_logger = logging.getLogger(__name__)


def json_response(status, body, headers=None):
    return request.make_response(
        json.dumps(body),
        headers=[("Content-Type", "application/json"), *(headers or {}).items()],
        status=status,
    )


def webhook_route(path, readonly):
    """A route for machines: no session, no CSRF token, authentication done by the model."""
    return http.route(path, type="http", auth="none", csrf=False, save_session=False, readonly=readonly)


def refusal_response(refused):
    """The JSON answer of a refused call."""
    return json_response(refused.status, refused.as_dict(), refused.headers)


def wrong_method(allowed_method):
    """A JSON 405 when the request does not use ``allowed_method``, else None."""
    if request.httprequest.method == allowed_method:
        return None
    return json_response(
        405, {"error": "method_not_allowed", "message": f"Use {allowed_method}."}, {"Allow": allowed_method}
    )


def call_details():
    """The parts of the current request the webhook model needs: headers (lower-case), body, type."""
    httprequest = request.httprequest
    headers = {key.lower(): value for key, value in httprequest.headers.items()}
    return headers, httprequest.get_data(), httprequest.content_type


class IntegrationWebhookController(http.Controller):
    def _answer(self, allowed_method, handler):
        """Run ``handler`` for a call made with ``allowed_method``, and answer in JSON."""
        if refused_method := wrong_method(allowed_method):
            return refused_method
        webhook = request.env["integration.webhook"].sudo()
        try:
            status, body = handler(webhook)
        except WebhookRefused as refused:
            return refusal_response(refused)
        except Exception:
            _logger.exception("integration webhook failed on %s", request.httprequest.path)
            return json_response(
                500, {"error": "internal_error", "message": "The server failed; retry later."}
            )
        return json_response(status, body)

    @webhook_route("/integration/v1/<string:backend_code>/<string:flow_code>", readonly=False)
    def receive(self, backend_code, flow_code, **_params):
        """One message for a backend's inbound contract."""
        return self._answer(
            "POST", lambda webhook: webhook._receive(backend_code, flow_code, *call_details())
        )

    @webhook_route("/integration/v1/<string:backend_code>/<string:flow_code>/batch", readonly=False)
    def receive_batch(self, backend_code, flow_code, **_params):
        """Many messages for one contract: a JSON array or NDJSON, answered item by item."""
        return self._answer(
            "POST", lambda webhook: webhook._receive_batch(backend_code, flow_code, *call_details())
        )

    @webhook_route("/integration/v1/<string:backend_code>/openapi.json", readonly=True)
    def openapi(self, backend_code, **_params):
        """The OpenAPI 3.1 document of the backend's contracts (same authentication as the webhooks)."""
        headers = call_details()[0]
        server_url = request.httprequest.host_url.rstrip("/")
        return self._answer("GET", lambda webhook: webhook._openapi(backend_code, headers, server_url))

    @webhook_route("/integration/v1/<string:backend_code>/messages/<int:message_id>", readonly=True)
    def message_status(self, backend_code, message_id, **_params):
        """The state of a message the backend sent, for the backend only."""
        headers = call_details()[0]
        return self._answer("GET", lambda webhook: webhook._message_status(backend_code, message_id, headers))
