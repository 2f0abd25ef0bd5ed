# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging
import time

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..exceptions import PayloadValidationError, WebhookRefused
from ..lib.openapi import build_document
from ..lib.webhook_signature import SignatureError, bearer_token_matches, verify

_logger = logging.getLogger(__name__)

JSON_CONTENT_TYPES = ("application/json",)
BATCH_CONTENT_TYPES = ("application/json", "application/x-ndjson")
MAX_BATCH_ITEMS = 500
UNAUTHORIZED = "The request is not authenticated: check the signature headers or the token."


def media_type(content_type):
    """'application/json; charset=utf-8' -> 'application/json'."""
    return (content_type or "").split(";")[0].strip().lower()


class IntegrationWebhook(models.AbstractModel):
    """The inbound door for plant systems calling over HTTP.

    It turns one HTTP request into an ingested message, in this order:
    backend known (404), body size (413), content type (415), credentials
    (401, the same answer whatever was wrong), backend in service (403),
    rate limit (429), JSON (400), contract known and in force (404, 403),
    payload valid (422); then the message is accepted (202) or recognised as
    a duplicate (200). Every refusal is a :class:`WebhookRefused` that the
    controller answers as JSON; nothing here knows about werkzeug.
    """

    _name = "integration.webhook"
    _description = "Integration Webhook"

    @api.model
    def _receive(self, backend_code, flow_code, headers, body, content_type):
        """Accept one message. Returns ``(status, answer dict)``."""
        backend, key = self._accept_call(
            backend_code, flow_code, headers, body, content_type, JSON_CONTENT_TYPES
        )
        payload = self._parse_json(body)
        return self._ingest_one(backend, flow_code, payload, key, headers)

    @api.model
    def _receive_batch(self, backend_code, flow_code, headers, body, content_type):
        """Accept many messages: a JSON array, or NDJSON (one JSON document a line).

        The call as a whole is authenticated, limited and parsed once; each
        item is then ingested on its own (in a savepoint), so one invalid item
        does not hold back the others. The answer lists, per item in order,
        the status a single call would have had. Item keys are the payload's
        own event id or ``<webhook-id>:<index>``.
        """
        backend, key = self._accept_call(
            backend_code, flow_code, headers, body, content_type, BATCH_CONTENT_TYPES
        )
        if media_type(content_type) == "application/x-ndjson":
            lines = [line for line in body.splitlines() if line.strip()]
            items = [self._parse_json(line, f"line {number}") for number, line in enumerate(lines, 1)]
        else:
            items = self._parse_json(body)
            if not isinstance(items, list):
                raise WebhookRefused(400, "not_a_batch", "A batch is a JSON array of messages.")
        if not items or len(items) > MAX_BATCH_ITEMS:
            raise WebhookRefused(
                413 if items else 400,
                "batch_size",
                f"A batch holds between 1 and {MAX_BATCH_ITEMS} messages; this one has {len(items)}.",
            )
        answers = []
        for index, payload in enumerate(items):
            item_key = f"{key}:{index}" if key else None
            try:
                with self.env.cr.savepoint():
                    status, answer = self._ingest_one(backend, flow_code, payload, item_key, headers)
            except WebhookRefused as refused:
                status, answer = refused.status, refused.as_dict()
            answers.append({"index": index, "status": status, **answer})
        accepted = sum(1 for answer in answers if answer["status"] in (200, 202))
        return 200, {"accepted": accepted, "refused": len(answers) - accepted, "items": answers}

    def _accept_call(self, backend_code, flow_code, headers, body, content_type, content_types):
        """Every check of a call before its payload: returns the backend and the call's key."""
        backend = self._find_backend(backend_code)
        self._check_body(backend, body, content_type, content_types)
        authenticated_id = self._authenticate(backend, headers, body)
        self._check_in_service(backend)
        self._check_rate(backend)
        self._check_contract(backend, flow_code)
        return backend, authenticated_id or headers.get("idempotency-key")

    def _ingest_one(self, backend, flow_code, payload, idempotency_key, headers):
        try:
            message, created = self.env["integration.message"]._ingest(
                backend,
                flow_code,
                payload,
                idempotency_key=idempotency_key,
                correlation_id=headers.get("x-correlation-id"),
            )
        except PayloadValidationError as error:
            raise WebhookRefused(
                422,
                "schema_violation",
                f"The payload breaks the {flow_code} contract.",
                details=[{"pointer": pointer or "/", "error": reason} for pointer, reason in error.errors],
            ) from None
        return (202 if created else 200), self._message_answer(backend, message, duplicate=not created)

    @api.model
    def _message_status(self, backend_code, message_id, headers):
        """What the sender may know of a message it sent: its state and reason."""
        backend = self._find_backend(backend_code)
        self._authenticate(backend, headers, b"")
        message = self.env["integration.message"].search(
            [("id", "=", message_id), ("backend_id", "=", backend.id), ("direction", "=", "inbound")]
        )
        if not message:
            raise WebhookRefused(
                404, "unknown_message", f"Backend {backend_code} sent no message {message_id}."
            )
        return 200, self._message_answer(backend, message)

    @api.model
    def _openapi(self, backend_code, headers, server_url):
        """The OpenAPI document of the backend's inbound contracts in force (newest version of each)."""
        backend = self._find_backend(backend_code)
        self._authenticate(backend, headers, b"")
        inbound = backend.flow_ids.filtered(lambda flow: flow.direction == "inbound")
        newest = {flow.code: flow for flow in inbound._in_force().sorted("version")}
        contracts = [
            {
                "code": flow.code,
                "version": flow.version,
                "name": flow.name,
                "description": flow.description and str(flow.description),
                "schema": flow._get_schema(),
            }
            for flow in newest.values()
        ]
        return 200, build_document(backend.name, backend.code, server_url, backend.auth_method, contracts)

    def _message_answer(self, backend, message, duplicate=False):
        return {
            "message_id": message.id,
            "state": message.state,
            "duplicate": duplicate,
            "correlation_id": message.correlation_id,
            "idempotency_key": message.idempotency_key,
            "reason": message.error_message or None,
            "status_url": f"/integration/v1/{backend.code}/messages/{message.id}",
        }

    # ------------------------------------------------------------------
    # The checks, in the order they are made
    # ------------------------------------------------------------------

    def _find_backend(self, backend_code):
        backend = self.env["integration.backend"].search([("code", "=", backend_code)], limit=1)
        if not backend:
            raise WebhookRefused(404, "unknown_backend", f"No backend has the code '{backend_code}'.")
        return backend

    def _check_body(self, backend, body, content_type, content_types):
        if len(body) > backend.max_body_bytes:
            raise WebhookRefused(
                413, "body_too_large", f"The body is larger than {backend.max_body_bytes} bytes."
            )
        if media_type(content_type) not in content_types:
            raise WebhookRefused(
                415, "unsupported_media_type", f"Send the body as {' or '.join(content_types)}."
            )

    def _authenticate(self, backend, headers, body):
        """Check the caller's credentials; return the webhook-id of a signed request."""
        kind = backend.auth_method
        credential = backend._get_credential(kind)
        try:
            secrets = credential._get_valid_secrets() if credential else []
        except UserError:
            _logger.error("backend %s: its %s credential cannot be decrypted", backend.code, kind)
            secrets = []
        if not secrets:
            _logger.warning("backend %s has no usable %s credential: call refused", backend.code, kind)
            raise WebhookRefused(401, "unauthorized", UNAUTHORIZED)
        if kind == "token":
            if not bearer_token_matches(headers.get("authorization", ""), secrets):
                raise WebhookRefused(401, "unauthorized", UNAUTHORIZED)
            return None
        try:
            verify(
                secrets,
                headers.get("webhook-id"),
                headers.get("webhook-timestamp"),
                headers.get("webhook-signature"),
                body,
                tolerance=backend.signature_tolerance_seconds,
            )
        except SignatureError as error:
            _logger.info("backend %s: signature refused: %s", backend.code, error)
            raise WebhookRefused(401, "unauthorized", UNAUTHORIZED) from None
        return headers.get("webhook-id")

    def _check_in_service(self, backend):
        if backend.state != "active":
            raise WebhookRefused(403, "backend_not_active", f"Backend {backend.code} is {backend.state}.")

    def _check_rate(self, backend):
        """Count the call in a fixed one-minute window, committed at once on its own cursor.

        A call refused later (bad JSON, schema) still counts: the limit protects
        the server, whatever the calls contain.
        """
        if not backend.rate_limit_per_minute:
            return
        window = int(time.time() // 60) * 60
        with self.env.registry.cursor() as cr:
            cr.execute(
                SQL(
                    "INSERT INTO integration_backend_rate (backend_id, window_start, hits) "
                    "VALUES (%s, %s, 1) "
                    "ON CONFLICT (backend_id, window_start) DO UPDATE "
                    "SET hits = integration_backend_rate.hits + 1 RETURNING hits",
                    backend.id,
                    window,
                )
            )
            hits = cr.fetchone()[0]
            cr.execute(SQL("DELETE FROM integration_backend_rate WHERE window_start < %s", window - 3600))
        if hits > backend.rate_limit_per_minute:
            retry_after = max(1, window + 60 - int(time.time()))
            raise WebhookRefused(
                429,
                "rate_limited",
                f"More than {backend.rate_limit_per_minute} calls this minute: retry after {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )

    def _parse_json(self, body, where="the body"):
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise WebhookRefused(
                400, "malformed_json", f"{where.capitalize()} is not valid JSON: {error}"
            ) from None

    def _check_contract(self, backend, flow_code):
        flows = self.env["integration.flow"].search(
            [("backend_id", "=", backend.id), ("code", "=", flow_code), ("direction", "=", "inbound")]
        )
        if not flows:
            raise WebhookRefused(
                404, "unknown_flow", f"Backend {backend.code} has no contract '{flow_code}'."
            )
        if not flows._in_force():
            raise WebhookRefused(
                403, "flow_not_allowed", f"The contract '{flow_code}' of {backend.code} is not in force."
            )
