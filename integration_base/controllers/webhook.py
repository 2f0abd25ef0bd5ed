# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""HTTP endpoints that plant systems call. Thin: read the request, hand it to
``integration.webhook``, answer JSON with a precise status code.

An answer other than 2xx never leaves anything stored: the request's
transaction is rolled back before a refusal is sent. Any other exception is
left to Odoo: it runs the request again in a fresh transaction after a
concurrency error (two requests storing the same message at once, a
serialization failure), logs the rest with its traceback, commits nothing,
and ``ir.http`` answers in JSON (503 for the server's own failures).
"""

import functools
import json

from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from odoo import http, sql_db
from odoo.http import request

from ..exceptions import Unauthenticated, WebhookRefused
from ..models.integration_webhook import WebhookCall

NO_DATABASE_RETRY_AFTER_SECONDS = 5


def json_response(status, body, headers=None):
    return request.make_response(
        json.dumps(body),
        headers=[("Content-Type", "application/json"), *(headers or {}).items()],
        status=status,
    )


def webhook_route(path, readonly):
    """A route for machines: no session, no CSRF token, authentication done by the model.

    Routes that authenticate callers are read/write even when they only read:
    a failed authentication is counted (for the rate limit of guessers) on a
    cursor of its own, which a read-only request may not open.

    When no database can serve the request (PostgreSQL is down or
    restarting), Odoo serves it without one, from the routes of its
    server-wide modules: with ``integration_base`` among them (see
    CONFIGURE.md), the route then answers a JSON 503 with ``Retry-After``, so
    that senders try again, instead of Odoo's HTML 404, which a sender takes
    for a wrong address and gives up on.
    """

    def decorate(endpoint):
        @functools.wraps(endpoint)
        def serve(self, *args, **kwargs):
            if not request.db:
                return no_database_response()
            return endpoint(self, *args, **kwargs)

        return http.route(path, type="http", auth="none", csrf=False, save_session=False, readonly=readonly)(
            serve
        )

    return decorate


def no_database_response():
    """The answer of a request no database could serve: 503 while PostgreSQL is away, else 404."""
    try:
        with sql_db.db_connect("postgres").cursor() as cr:
            cr.execute("SELECT 1")
        database_server_answers = True
    except Exception:  # whatever stops the connection, the database server is not usable
        database_server_answers = False
    if database_server_answers:
        return json_response(
            404, {"error": "no_database", "message": "No database of this server answers this address."}
        )
    return json_response(
        503,
        {
            "error": "database_unavailable",
            "message": "The database is not available (restarting?): nothing was stored, retry later.",
        },
        {"Retry-After": str(NO_DATABASE_RETRY_AFTER_SECONDS)},
    )


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


def request_headers():
    """The request's headers, lower-case."""
    return {key.lower(): value for key, value in request.httprequest.headers.items()}


def read_body(limit):
    """The body, read once and kept for a request that Odoo runs again.

    Raises ``OverflowError`` past ``limit`` bytes (werkzeug stops reading
    there, with or without ``Content-Length``) and ``OSError`` when the body
    cannot be read (a broken chunked encoding, a client gone).
    """
    httprequest = request.httprequest
    httprequest.max_content_length = limit
    try:
        return httprequest.get_data(cache=True)
    except RequestEntityTooLarge:
        raise OverflowError(f"the body is larger than {limit} bytes") from None
    except BadRequest as error:
        raise OSError(error.description) from None


def current_call():
    """The request as the webhook model sees it."""
    httprequest = request.httprequest
    return WebhookCall(
        headers=request_headers(),
        content_type=httprequest.content_type or "",
        content_length=httprequest.content_length,
        remote_addr=httprequest.remote_addr or "",
        read_body=read_body,
    )


class IntegrationWebhookController(http.Controller):
    def _answer(self, allowed_method, handler):
        """Run ``handler`` for a call made with ``allowed_method``, and answer in JSON."""
        if refused_method := wrong_method(allowed_method):
            return refused_method
        webhook = request.env["integration.webhook"].sudo()
        try:
            status, body = handler(webhook)
        except WebhookRefused as refused:
            request.env.cr.rollback()
            if isinstance(refused, Unauthenticated):
                refused = webhook._slow_down_guessing(request.httprequest.remote_addr) or refused
            return refusal_response(refused)
        return json_response(status, body)

    @webhook_route("/integration/v1/<string:backend_code>/<string:flow_code>", readonly=False)
    def receive(self, backend_code, flow_code, **_params):
        """One message for a backend's inbound contract."""
        return self._answer("POST", lambda webhook: webhook._receive(backend_code, flow_code, current_call()))

    @webhook_route("/integration/v1/<string:backend_code>/<string:flow_code>/batch", readonly=False)
    def receive_batch(self, backend_code, flow_code, **_params):
        """Many messages for one contract: a JSON array or NDJSON, answered item by item."""
        return self._answer(
            "POST", lambda webhook: webhook._receive_batch(backend_code, flow_code, current_call())
        )

    @webhook_route("/integration/v1/<string:backend_code>/openapi.json", readonly=False)
    def openapi(self, backend_code, **_params):
        """The OpenAPI 3.1 document of the backend's contracts (same authentication as the webhooks)."""
        server_url = request.httprequest.host_url.rstrip("/")
        return self._answer("GET", lambda webhook: webhook._openapi(backend_code, current_call(), server_url))

    @webhook_route(
        "/integration/v1/<string:backend_code>/schemas/<string:flow_code>/v<int:version>.json", readonly=False
    )
    def schema(self, backend_code, flow_code, version, **_params):
        """The JSON Schema of one contract version (what a CloudEvent's ``dataschema`` points at)."""
        return self._answer(
            "GET", lambda webhook: webhook._schema(backend_code, flow_code, version, current_call())
        )

    @webhook_route("/integration/v1/<string:backend_code>/messages/<int:message_id>", readonly=False)
    def message_status(self, backend_code, message_id, **_params):
        """The state of a message the backend sent, for the backend only."""
        return self._answer(
            "GET", lambda webhook: webhook._message_status(backend_code, message_id, current_call())
        )
