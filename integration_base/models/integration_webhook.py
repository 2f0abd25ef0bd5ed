# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from odoo import api, fields, models, sql_db
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..exceptions import PayloadValidationError, Unauthenticated, WebhookRefused
from ..lib import formats, strict_json
from ..lib.openapi import build_document
from ..lib.webhook_signature import SignatureError, bearer_token_matches, verify
from .integration_backend import BACKEND_CODE_PATTERN
from .integration_message import KEY_MAX_LENGTH

_logger = logging.getLogger(__name__)

JSON_CONTENT_TYPES = ("application/json",)
# Generic media types a file upload may carry whatever its format (the contract says which it is).
FORMAT_CONTENT_TYPES = ("application/octet-stream", "text/plain")
BATCH_CONTENT_TYPES = ("application/json", "application/x-ndjson")
MAX_BATCH_ITEMS = 1000
# The most a request may carry before anyone knows who sent it (the backend's own,
# smaller limit applies once the call is authenticated).
MAX_REQUEST_BYTES = 10 * 1024 * 1024
# Failed authentications accepted per client address and minute before 429.
UNAUTHENTICATED_PER_MINUTE = 60
# Keys that senders give in headers: printable, no '#' (kept for the keys of batch items).
HEADER_KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:@/+=~-]{1,255}$")
FLOW_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_MESSAGE_ID = 2**31 - 1


def media_type(content_type):
    """'application/json; charset=utf-8' -> 'application/json'."""
    return (content_type or "").split(";")[0].strip().lower()


@dataclass
class WebhookCall:
    """One HTTP request, as the door needs it: no werkzeug here.

    ``read_body(limit)`` returns the body, or raises ``OverflowError`` as
    soon as it is known to be larger than ``limit`` bytes (without reading
    the rest) and ``OSError`` when it cannot be read.
    """

    headers: dict
    content_type: str = ""
    content_length: int | None = None
    remote_addr: str = ""
    read_body: Callable[[int], bytes] = field(default=lambda _limit: b"")


class IntegrationWebhook(models.AbstractModel):
    """The inbound door for plant systems calling over HTTP.

    It turns one HTTP request into an ingested message, in this order:
    request size (413, from ``Content-Length`` before the body is read),
    content type (415), credentials (401, the same answer for an unknown backend or any wrong
    credential, and 429 once an address keeps failing), body size within the
    backend's limit (413), backend in service (403), rate
    limit (429), strict JSON (400), keys in headers (400), contract known and in
    force (404, 403), key not replayed from another contract (409), payload
    valid (422); then the message is accepted (202) or recognised as a
    duplicate (200). Every refusal is a :class:`WebhookRefused`
    that the controller answers as JSON, after rolling back anything the
    request wrote.
    """

    _name = "integration.webhook"
    _description = "Integration Webhook"

    @api.model
    def _receive(self, backend_code, flow_code, call):
        """Accept one message. Returns ``(status, answer dict)``.

        A contract whose format is not JSON (an EDI interchange, a CSV file)
        takes the body in that format: it is read by the format's codec
        (400 with the reason and position when it cannot be), each document
        it holds becomes a message (one per interchange of an EDI file), and
        the bytes are kept with them as they came.
        """
        backend, key, body = self._accept_call(backend_code, call, self._accepted_content_types())
        flow = self._check_contract(backend, flow_code, call.headers)
        if flow.data_format == "json":
            self._check_content_type(call, JSON_CONTENT_TYPES)
            return self._ingest_one(backend, flow, self._parse_json(body), key, call.headers)
        documents = self._decode(flow, call, body)
        answers = [
            self._ingest_one(backend, flow, document, key if len(documents) == 1 else None, call.headers)
            for document in documents
        ]
        messages = self.env["integration.message"].browse(
            [answer["message_id"] for _status, answer in answers]
        )
        messages.filtered(lambda message: not message.raw_attachment_id)._keep_raw(
            body, f"{flow.code}-{key or messages[:1].idempotency_key}", media_type(call.content_type)
        )
        if len(answers) == 1:
            return answers[0]
        created = any(status == 202 for status, _answer in answers)
        return (202 if created else 200), {"messages": [answer for _status, answer in answers]}

    @api.model
    def _accepted_content_types(self):
        """JSON, and the media types of every installed format (the contract then says which it reads)."""
        types = {*JSON_CONTENT_TYPES, *FORMAT_CONTENT_TYPES}
        for name in formats.names():
            types.update(formats.codec(name).CONTENT_TYPES)
        return tuple(sorted(types))

    def _check_content_type(self, call, content_types):
        if media_type(call.content_type) not in content_types:
            raise WebhookRefused(
                415, "unsupported_media_type", f"Send the body as {' or '.join(content_types)}."
            )

    def _decode(self, flow, call, body):
        """The documents of a body in the contract's format, or 400 saying where it cannot be read."""
        self._check_content_type(
            call, (*formats.codec(flow.data_format).CONTENT_TYPES, *FORMAT_CONTENT_TYPES)
        )
        try:
            documents = formats.decode(flow.data_format, body, flow._json_setting("format_options"))
        except ValueError as error:  # FormatError, or format options that make no sense
            raise WebhookRefused(
                400, "unreadable_body", f"The body is not readable as {flow.data_format.upper()}: {error}"
            ) from None
        if not documents:
            raise WebhookRefused(400, "empty_body", "The body holds no document.")
        return documents

    @api.model
    def _receive_batch(self, backend_code, flow_code, call):
        """Accept many messages: a JSON array, or NDJSON (one JSON document a line).

        The call as a whole is authenticated, limited and parsed once; a batch
        that cannot be parsed is refused whole. Each item is then ingested on
        its own, and refused before anything of it is written, so one invalid
        item does not hold back the others; the answer lists, per item in
        order, the status a single call would have had. An item's key is the
        payload's own event id, or the call's key and the item's hash
        (``<webhook-id>#<sha256>``, see :meth:`_batch_item_key`): it does not
        depend on the item's position and cannot be a single call's key.
        """
        backend, key, body = self._accept_call(backend_code, call, BATCH_CONTENT_TYPES)
        flow = self._check_contract(backend, flow_code, call.headers)
        if media_type(call.content_type) == "application/x-ndjson":
            lines = [line for line in body.split(b"\n") if line.strip()]
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
            item_key = self._batch_item_key(key, payload) if key else None
            try:
                # No savepoint needed: an item is refused before anything of it is written.
                status, answer = self._ingest_one(backend, flow, payload, item_key, call.headers)
            except WebhookRefused as refused:
                status, answer = refused.status, refused.as_dict()
            answers.append({"index": index, "status": status, **answer})
        accepted = sum(1 for answer in answers if answer["status"] in (200, 202))
        return 200, {"accepted": accepted, "refused": len(answers) - accepted, "items": answers}

    def _batch_item_key(self, call_key, payload):
        """``<call key>#<sha256 of the item>``; a call key too long for that is itself hashed.

        (A call key may have 255 characters, as many as a message key.)
        """
        digest = hashlib.sha256(strict_json.dumps(payload).encode()).hexdigest()
        item_key = f"{call_key}#{digest}"
        if len(item_key) > KEY_MAX_LENGTH:
            item_key = f"sha256:{hashlib.sha256(call_key.encode()).hexdigest()}#{digest}"
        return item_key

    def _accept_call(self, backend_code, call, content_types):
        """Every check of a call before its contract: returns the backend, the call's key and the body."""
        self._check_request_size(call)
        self._check_content_type(call, content_types)
        body = self._read_body(call, MAX_REQUEST_BYTES)
        backend = self._authenticate_call(backend_code, call, body)
        if len(body) > backend.max_body_bytes:
            raise WebhookRefused(
                413, "body_too_large", f"The body is larger than {backend.max_body_bytes} bytes."
            )
        self._check_in_service(backend)
        self._check_rate(f"backend:{backend.id}", backend.rate_limit_per_minute)
        key = call.headers.get("webhook-id") if backend.auth_method == "hmac" else None
        key = key or call.headers.get("idempotency-key")
        self._check_header_value("idempotency key", key, HEADER_KEY_PATTERN)
        self._check_header_value("x-correlation-id", call.headers.get("x-correlation-id"), HEADER_KEY_PATTERN)
        return backend, key, body

    def _ingest_one(self, backend, flow, payload, idempotency_key, headers):
        if idempotency_key:
            self._check_key_not_replayed(backend, flow, idempotency_key)
        try:
            message, created = self.env["integration.message"]._ingest(
                backend,
                flow.code,
                payload,
                idempotency_key=idempotency_key,
                correlation_id=headers.get("x-correlation-id"),
                flow=flow,
            )
        except PayloadValidationError as error:
            raise WebhookRefused(
                422,
                "schema_violation",
                f"The payload breaks the {flow.code} contract.",
                details=[{"pointer": pointer or "/", "error": reason} for pointer, reason in error.errors],
            ) from None
        return (202 if created else 200), self._message_answer(backend, message, duplicate=not created)

    @api.model
    def _message_status(self, backend_code, message_id, call):
        """What the sender may know of a message it sent: its state and reason."""
        backend = self._authenticate_call(backend_code, call, b"")
        message = self.env["integration.message"]
        if message_id <= MAX_MESSAGE_ID:
            message = message.search(
                [("id", "=", message_id), ("backend_id", "=", backend.id), ("direction", "=", "inbound")]
            )
        if not message:
            raise WebhookRefused(
                404, "unknown_message", f"Backend {backend_code} sent no message {message_id}."
            )
        return 200, self._message_answer(backend, message)

    @api.model
    def _openapi(self, backend_code, call, server_url):
        """The OpenAPI document of the backend's inbound contracts in force (newest version of each)."""
        backend = self._authenticate_call(backend_code, call, b"")
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

    @api.model
    def _schema(self, backend_code, flow_code, version, call):
        """The JSON Schema of a contract version of the backend, for the backend's system only."""
        backend = self._authenticate_call(backend_code, call, b"")
        flow = backend.flow_ids.filtered(lambda f: f.code == flow_code and f.version == version)[:1]
        if not flow:
            what = f"version {version} of '{flow_code[:128]}'"
            raise WebhookRefused(404, "unknown_flow", f"Backend {backend.code} has no {what}.")
        return 200, flow._get_schema()

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

    def _check_request_size(self, call):
        if call.content_length is not None and call.content_length > MAX_REQUEST_BYTES:
            raise WebhookRefused(413, "body_too_large", f"The body is larger than {MAX_REQUEST_BYTES} bytes.")

    def _read_body(self, call, limit):
        try:
            body = call.read_body(limit)
        except OverflowError:
            body = None
        except (OSError, ValueError) as error:
            _logger.info("webhook body unreadable: %s", error)
            raise WebhookRefused(
                400, "unreadable_body", "The body could not be read (broken chunked encoding?)."
            ) from None
        if body is None or len(body) > limit:
            raise WebhookRefused(413, "body_too_large", f"The body is larger than {limit} bytes.")
        return body

    def _authenticate_call(self, backend_code, call, body):
        """The backend whose credentials the call carries; the same 401 for anything else.

        The controller counts failed calls per client address (see
        :meth:`_slow_down_guessing`).
        """
        backend = self.env["integration.backend"]
        if BACKEND_CODE_PATTERN.match(backend_code or ""):
            backend = backend.browse(backend._id_for_code(backend_code))
        if not backend or not self._authenticate(backend, call.headers, body):
            raise Unauthenticated()
        return backend

    @api.model
    def _slow_down_guessing(self, remote_addr):
        """Count a call refused for its credentials; past the limit, the 429 to answer instead."""
        try:
            self._check_rate(f"anonymous:{remote_addr or 'unknown'}", UNAUTHENTICATED_PER_MINUTE)
        except WebhookRefused as limited:
            return limited
        return None

    def _authenticate(self, backend, headers, body):
        """Whether the caller's credentials are the backend's inbound ones (never its outbound key)."""
        kind = backend.auth_method
        credential = backend._get_credential(kind, "inbound")
        try:
            secrets = credential._get_valid_secrets() if credential else []
        except UserError:
            _logger.error("backend %s: its %s credential cannot be decrypted", backend.code, kind)
            secrets = []
        if not secrets:
            _logger.warning("backend %s has no usable %s credential: call refused", backend.code, kind)
            return False
        if kind == "token":
            return bearer_token_matches(headers.get("authorization", ""), secrets)
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
            return False
        return True

    def _check_key_not_replayed(self, backend, flow, key):
        """409 when the call's key already names a message of another contract of the backend.

        A ``webhook-id`` names one message of its sender, and the signature
        does not cover the address: a captured call resent to another
        contract within the tolerance would otherwise be stored there as a new
        message. (At the same contract it is the duplicate it is.) One probe
        of the key's unique index per contract code of the backend.
        """
        self.env.cr.execute(
            SQL(
                "SELECT flow_code FROM integration_message WHERE backend_id = %s AND direction = 'inbound' "
                "AND idempotency_key = %s AND flow_code = ANY(ARRAY("
                "SELECT DISTINCT code FROM integration_flow "
                "WHERE backend_id = %s AND direction = 'inbound' AND code != %s)) LIMIT 1",
                backend.id,
                key,
                backend.id,
                flow.code,
            )
        )
        if self.env.cr.fetchone():
            raise WebhookRefused(
                409,
                "key_reused",
                "This webhook-id (or Idempotency-Key) already names a message sent to another contract: "
                "a replayed call is not stored again. Give each message an id of its own.",
            )

    def _check_in_service(self, backend):
        if backend.state != "active":
            raise WebhookRefused(403, "backend_not_active", f"Backend {backend.code} is {backend.state}.")

    def _check_header_value(self, name, value, pattern):
        if value is not None and not pattern.match(value):
            raise WebhookRefused(
                400,
                "invalid_header",
                f"The {name} must be 1 to 255 letters, digits or '._:@/+=~-' characters.",
            )

    def _check_rate(self, bucket, limit):
        """Count the call in ``bucket``'s one-minute window (committed at once); 429 past ``limit``.

        A call refused later (bad JSON, schema) still counts: the limit protects
        the server, whatever the calls contain.
        """
        if not limit:
            return
        window = int(time.time() // 60) * 60
        with self.env.registry.cursor() as cr:
            if isinstance(cr, sql_db.Cursor):  # (a test cursor shares the test's transaction)
                # Concurrent calls count on one row: under Odoo's repeatable read, all but
                # one would fail to serialise and be run again whole; read committed makes
                # them wait their turn on the row for the microseconds the upsert takes.
                cr.execute(SQL("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"))
            cr.execute(
                SQL(
                    "INSERT INTO integration_rate_window (bucket, window_start, hits) "
                    "VALUES (%s, %s, 1) "
                    "ON CONFLICT (bucket, window_start) DO UPDATE "
                    "SET hits = integration_rate_window.hits + 1 RETURNING hits",
                    bucket,
                    window,
                )
            )
            hits = cr.fetchone()[0]
            if hits == 1:
                cr.execute(SQL("DELETE FROM integration_rate_window WHERE window_start < %s", window - 3600))
        if hits > limit:
            self._refuse_rate(limit)

    def _refuse_rate(self, limit):
        window = int(time.time() // 60) * 60
        retry_after = max(1, window + 60 - int(time.time()))
        raise WebhookRefused(
            429,
            "rate_limited",
            f"More than {limit} calls this minute: retry after {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )

    def _parse_json(self, body, where="the body"):
        try:
            return strict_json.loads(body)
        except strict_json.JsonRefused as error:
            raise WebhookRefused(400, "malformed_json", f"{where.capitalize()} is refused: {error}") from None

    def _check_contract(self, backend, flow_code, headers=None):
        """The version in force of ``flow_code`` on ``backend`` (one lookup per call).

        The newest one, or the one the sender names in a ``Contract-Version``
        header. A version past its sunset is gone (410) and the answer says
        since when; a draft or retired one is not allowed (403).
        """
        Flow = self.env["integration.flow"]
        asked = (headers or {}).get("contract-version")
        if asked is not None and not (asked.isdigit() and 0 < int(asked) < MAX_MESSAGE_ID):
            raise WebhookRefused(400, "bad_contract_version", "Contract-Version must be a version number.")
        version = int(asked) if asked else 0
        day = fields.Date.context_today(self)
        known_id, in_force_id = 0, 0
        if FLOW_CODE_PATTERN.match(flow_code or ""):
            known_id, in_force_id = Flow._inbound_contract_ids(backend.id, flow_code, day, version)
        if not known_id:
            what = f"version {version} of contract" if version else "contract"
            raise WebhookRefused(
                404, "unknown_flow", f"Backend {backend.code} has no {what} '{flow_code[:128]}'."
            )
        in_force = Flow.browse(in_force_id)
        if not in_force:
            known = Flow.browse(known_id)
            reason = known._not_in_force_reason(day)
            if known.state == "deprecated":
                raise WebhookRefused(410, "contract_sunset", f"{reason[:1].upper()}{reason[1:]}.")
            raise WebhookRefused(
                403,
                "flow_not_allowed",
                f"The contract '{flow_code}' of {backend.code} is not in force: {reason}.",
            )
        return in_force
