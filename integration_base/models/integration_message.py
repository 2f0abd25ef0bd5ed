# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import json
import logging
import random
import time
import traceback
import uuid
from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import mute_logger

from ..exceptions import (
    DeliveryFailed,
    DeliveryRefused,
    IntegrationBusinessError,
    PayloadValidationError,
)
from ..lib import http_delivery
from ..lib.json_contract import format_errors, resolve_pointer_text, validation_errors

_logger = logging.getLogger(__name__)

# States from which the engine (or an operator) may process a message again.
RETRYABLE_STATES = ("exception", "failed", "dead")
# States that no longer hold back later messages with the same ordering key.
SETTLED_STATES = ("done", "cancelled")
ERROR_DETAIL_LIMIT = 4000


def canonical_json(payload):
    """The payload as compact JSON with sorted keys: equal payloads give equal text."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class IntegrationMessage(models.Model):
    """One message in the durable inbox/outbox.

    Every message exchanged with a backend is stored before anything is done
    with it, identified by an idempotency key (a message sent twice is stored
    once), traced by a correlation id, then processed asynchronously by a
    queue job. Its state tells where it stands: a technical failure is
    retried with backoff until the flow's attempts run out (``dead``); a
    business failure is parked in ``exception`` for a functional user, who can
    fix it, edit it and retry it, or cancel it. A message reaches ``done`` in
    the same transaction as its effect on Odoo, so it is never applied twice.
    """

    _name = "integration.message"
    _description = "Integration Message"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "idempotency_key"

    backend_id = fields.Many2one("integration.backend", required=True, index=True, readonly=True)
    flow_id = fields.Many2one(
        "integration.flow", string="Contract", required=True, index=True, readonly=True, ondelete="restrict"
    )
    flow_code = fields.Char(required=True, index=True, readonly=True)
    flow_version = fields.Integer(related="flow_id.version", store=True, string="Version")
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], required=True, readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    warehouse_id = fields.Many2one(related="backend_id.warehouse_id", store=True, string="Plant", index=True)
    payload = fields.Text(
        required=True,
        tracking=True,
        help="The message content as JSON. Operators may correct it on a message in "
        "exception before retrying it; the change is kept in the chatter.",
    )
    idempotency_key = fields.Char(
        required=True,
        readonly=True,
        help="Identifies the message at its sender: a message received again with the same "
        "key is not stored or applied again.",
    )
    correlation_id = fields.Char(
        required=True,
        index=True,
        readonly=True,
        default=lambda self: str(uuid.uuid4()),
        help="Shared by every message caused by the same business event, across systems.",
    )
    ordering_key = fields.Char(
        index=True,
        readonly=True,
        help="Messages with the same ordering key are applied in the order received.",
    )
    parent_id = fields.Many2one(
        "integration.message", string="Caused By", readonly=True, index="btree_not_null"
    )
    state = fields.Selection(
        [
            ("received", "Received"),
            ("queued", "Queued"),
            ("processing", "Processing"),
            ("done", "Done"),
            ("exception", "Exception"),
            ("failed", "Failed (will retry)"),
            ("dead", "Dead"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="received",
        index=True,
        tracking=True,
        readonly=True,
    )
    attempts = fields.Integer(readonly=True)
    next_retry_at = fields.Datetime(readonly=True, index="btree_not_null")
    error_kind = fields.Selection(
        [("technical", "Technical"), ("business", "Business")], readonly=True, index="btree_not_null"
    )
    error_message = fields.Text(string="Reason", readonly=True)
    error_detail = fields.Text(string="Technical Detail", readonly=True)
    missing_model = fields.Char(readonly=True, help="The model of the mapping this message waits for.")
    missing_code = fields.Char(readonly=True, help="The external code of the mapping this message waits for.")
    received_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now, index=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True, index="btree_not_null")
    duration = fields.Float(compute="_compute_duration", store=True, help="Seconds from arrival to done.")
    link_ids = fields.One2many("integration.message.link", "message_id", string="Records", readonly=True)
    job_id = fields.Many2one("queue.job", string="Queue Job", readonly=True, index="btree_not_null")
    event_code = fields.Char(
        string="Event", readonly=True, index="btree_not_null", help="The business event that raised it."
    )
    payload_pending = fields.Boolean(
        readonly=True,
        help="The outbound payload could not be built when the event happened; it is built again "
        "when the message is retried.",
    )
    exception_since = fields.Datetime(
        readonly=True, help="When the message was parked in exception, waiting for someone."
    )
    delivery_attempt_ids = fields.One2many(
        "integration.delivery.attempt", "message_id", string="Delivery Attempts", readonly=True
    )
    flow_owner_id = fields.Many2one(related="flow_id.owner_id", string="Business Owner")

    _idempotency_key_unique = models.Constraint(
        "UNIQUE(backend_id, flow_code, direction, idempotency_key)",
        "A message with this idempotency key already exists for this backend and flow.",
    )

    @api.depends("received_at", "finished_at")
    def _compute_duration(self):
        for message in self:
            if message.received_at and message.finished_at:
                message.duration = (message.finished_at - message.received_at).total_seconds()
            else:
                message.duration = 0.0

    @api.depends("flow_code", "idempotency_key")
    def _compute_display_name(self):
        for message in self:
            message.display_name = f"{message.flow_code} {message.idempotency_key}"

    # ------------------------------------------------------------------
    # Ingest: the one entrance for inbound and outbound messages
    # ------------------------------------------------------------------

    @api.model
    def _ingest(
        self,
        backend,
        flow_code,
        payload,
        idempotency_key=None,
        correlation_id=None,
        version=None,
        direction="inbound",
        parent=None,
        ordering_key=None,
        event_code=None,
    ):
        """Store a message and enqueue its processing, once.

        Controllers, file imports, connectors and tests all come through here.
        The payload is checked against the backend's contract for
        ``flow_code`` (a given ``version``, or the newest one in force); a
        :class:`PayloadValidationError` lists every violation by JSON pointer.
        When a message with the same idempotency key exists, it is returned
        unchanged. The message and its job are created in the caller's
        transaction, so a rolled-back business change sends nothing.

        Returns ``(message, created)``.
        """
        backend.ensure_one()
        if backend.state != "active":
            raise UserError(_("Backend %s is not active: it takes no messages.", backend.display_name))
        flow = self._find_contract(backend, flow_code, direction, version)
        key = (
            resolve_pointer_text(payload, flow.idempotency_key_pointer)
            or idempotency_key
            or hashlib.sha256(canonical_json(payload).encode()).hexdigest()
        )
        existing = self._find_by_key(backend, flow_code, direction, key)
        if existing:
            return existing, False
        errors = validation_errors(payload, flow._get_schema())
        if errors:
            raise PayloadValidationError(
                _(
                    "The %(flow)s payload breaks its contract:\n%(errors)s",
                    flow=flow.display_name,
                    errors=format_errors(errors),
                ),
                errors,
            )
        values = {
            "backend_id": backend.id,
            "flow_id": flow.id,
            "flow_code": flow_code,
            "direction": direction,
            "payload": json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False),
            "idempotency_key": key,
            "correlation_id": correlation_id or (parent and parent.correlation_id) or str(uuid.uuid4()),
            "ordering_key": ordering_key or resolve_pointer_text(payload, flow.ordering_key_pointer),
            "parent_id": parent.id if parent else False,
            "event_code": event_code,
        }
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                message = self.create(values)
        except IntegrityError:
            # Another transaction stored the same message first.
            return self._find_by_key(backend, flow_code, direction, key), False
        if flow.sync_policy == "realtime":
            message._enqueue()
        return message, True

    @api.model
    def _ingest_event(self, flow, event_code, record, correlation_id=None):
        """Store the outbound message of contract ``flow`` about ``record`` after ``event_code``.

        Messages raised by events about one record are delivered in the order
        the events happened (the record is their ordering key). When the
        processor cannot build the payload for a business reason, the event is
        not lost: the message is kept in exception and built again on retry.
        """
        values = {
            "idempotency_key": f"{event_code}:{record._name}:{record.id}:{uuid.uuid4().hex}",
            "correlation_id": correlation_id,
            "version": flow.version,
            "direction": "outbound",
            "ordering_key": f"{record._name},{record.id}",
            "event_code": event_code,
        }
        try:
            with self.env.cr.savepoint():
                payload = flow._get_processor()._prepare_payload(flow, record, event_code)
                message, _created = self._ingest(flow.backend_id, flow.code, payload, **values)
        except UserError as error:
            message = self._store_pending(flow, record, values)
            message._park_as_exception(error, fields.Datetime.now())
        message._link_records(record)
        return message

    def _store_pending(self, flow, record, values):
        """A message whose payload is still to be built: it names its record instead."""
        reference = {"event": values["event_code"], "model": record._name, "id": record.id}
        return self.create(
            {
                "backend_id": flow.backend_id.id,
                "flow_id": flow.id,
                "flow_code": flow.code,
                "direction": "outbound",
                "payload": json.dumps(reference, indent=2, sort_keys=True),
                "payload_pending": True,
                "idempotency_key": values["idempotency_key"],
                "correlation_id": values["correlation_id"] or str(uuid.uuid4()),
                "ordering_key": values["ordering_key"],
                "event_code": values["event_code"],
            }
        )

    def _build_pending_payload(self):
        """Build, check and keep the payload of a message whose event could not be turned into one."""
        source = self.link_ids[:1]
        record = self.env[source.res_model].browse(source.res_id).exists() if source else None
        if not record:
            raise IntegrationBusinessError(_("The record this message was about no longer exists."))
        payload = self.flow_id._get_processor()._prepare_payload(self.flow_id, record, self.event_code)
        errors = validation_errors(payload, self.flow_id._get_schema())
        if errors:
            raise IntegrationBusinessError(
                _("The built payload breaks its contract:\n%s", format_errors(errors))
            )
        super().write(
            {
                "payload": json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False),
                "payload_pending": False,
            }
        )
        return payload

    @api.model
    def _find_contract(self, backend, flow_code, direction, version=None):
        """The contract version in force for ``flow_code`` on ``backend``."""
        domain = [("backend_id", "=", backend.id), ("code", "=", flow_code), ("direction", "=", direction)]
        if version is not None:
            domain.append(("version", "=", int(version)))
        flow = self.env["integration.flow"].search(domain, order="version desc")._in_force()[:1]
        if flow:
            return flow
        raise UserError(
            _(
                "Backend %(backend)s has no %(direction)s contract '%(code)s'%(version)s in force.",
                backend=backend.display_name,
                direction=direction,
                code=flow_code,
                version=f" v{version}" if version is not None else "",
            )
        )

    @api.model
    def _find_by_key(self, backend, flow_code, direction, key):
        return self.search(
            [
                ("backend_id", "=", backend.id),
                ("flow_code", "=", flow_code),
                ("direction", "=", direction),
                ("idempotency_key", "=", key),
            ],
            limit=1,
        )

    def _enqueue(self):
        """Queue the messages and make sure their backends have a job to drain them."""
        self.write({"state": "queued", "next_retry_at": False})
        for backend in self.backend_id:
            job = backend._enqueue_processing()
            self.filtered(lambda m, b=backend: m.backend_id == b).write({"job_id": job.id})

    # ------------------------------------------------------------------
    # Processing (called by the backend's queue job)
    # ------------------------------------------------------------------

    def _is_waiting_for_earlier(self):
        """Whether an earlier message with the same ordering key is still unsettled."""
        self.ensure_one()
        if not self.ordering_key:
            return False
        return bool(
            self.search_count(
                [
                    ("backend_id", "=", self.backend_id.id),
                    ("direction", "=", self.direction),
                    ("ordering_key", "=", self.ordering_key),
                    ("id", "<", self.id),
                    ("state", "not in", SETTLED_STATES),
                ],
                limit=1,
            )
        )

    def _process(self):
        """Apply one message, exactly once.

        The processor's effect and the ``done`` state are written in one
        savepoint: both commit with the job's transaction or neither does, and
        a message already done is left alone, so re-running a job or replaying
        it after a crash never applies the message twice. Returns whether the
        message was settled (done) by this call.
        """
        self.ensure_one()
        if self.state not in ("queued", "failed"):
            return False
        started_at = fields.Datetime.now()
        try:
            with self.env.cr.savepoint():
                self.state = "processing"
                processor = self.flow_id._get_processor()
                payload = self._build_pending_payload() if self.payload_pending else json.loads(self.payload)
                if self.direction == "inbound":
                    records = processor._process_inbound(self, payload)
                else:
                    records = processor._process_outbound(self, payload)
                self._link_records(records)
                self.write(
                    {
                        "state": "done",
                        "attempts": self.attempts + 1,
                        "started_at": started_at,
                        "finished_at": fields.Datetime.now(),
                        "next_retry_at": False,
                        "error_kind": False,
                        "error_message": False,
                        "error_detail": False,
                        "missing_model": False,
                        "missing_code": False,
                        "exception_since": False,
                    }
                )
        except UserError as error:
            # Odoo's own refusals (a done work order cannot start) need a person as much as ours do.
            self._log_attempt(error)
            self._park_as_exception(error, started_at)
            return False
        except Exception as error:
            self._log_attempt(error)
            self._record_technical_failure(error, started_at)
            return False
        return True

    def _log_attempt(self, error):
        """Keep the delivery attempt a failure carries: the processing savepoint rolled it back."""
        attempt = getattr(error, "attempt", None)
        if attempt:
            self.env["integration.delivery.attempt"].create(attempt)

    def _link_records(self, records):
        if not records:
            return
        self.env["integration.message.link"].create(
            [{"message_id": self.id, "res_model": record._name, "res_id": record.id} for record in records]
        )

    def _park_as_exception(self, error, started_at):
        """Stop on a business error and ask the flow's owner to act."""
        reason = str(error.args[0]) if error.args else str(error)
        self.write(
            {
                "state": "exception",
                "attempts": self.attempts + 1,
                "started_at": started_at,
                "error_kind": "business",
                "error_message": reason,
                "error_detail": False,
                "missing_model": getattr(error, "res_model", False),
                "missing_code": getattr(error, "external_code", False),
                "exception_since": fields.Datetime.now(),
            }
        )
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=self.flow_id.owner_id.id,
            summary=_("Integration exception: %s", self.flow_code),
            note=reason,
        )
        _logger.info("message %s parked in exception: %s", self.id, reason)

    def _record_technical_failure(self, error, started_at):
        """Retry later with exponential backoff, or give up once the attempts are spent."""
        attempts = self.attempts + 1
        flow = self.flow_id
        values = {
            "attempts": attempts,
            "started_at": started_at,
            "error_kind": "technical",
            "error_message": f"{type(error).__name__}: {error}",
            "error_detail": traceback.format_exc()[-ERROR_DETAIL_LIMIT:],
        }
        if attempts >= flow.retry_max:
            values.update(state="dead", next_retry_at=False)
            _logger.error("message %s is dead after %s attempts", self.id, attempts, exc_info=error)
        else:
            delay = self._retry_delay(attempts, getattr(error, "retry_after", None))
            values.update(state="failed", next_retry_at=fields.Datetime.now() + timedelta(seconds=delay))
            _logger.info("message %s failed (attempt %s), retry in %ss: %s", self.id, attempts, delay, error)
        self.write(values)
        if values["state"] == "failed":
            self.backend_id._enqueue_processing(eta=values["next_retry_at"])

    def _retry_delay(self, attempts, asked=None):
        """Seconds before the next try: exponential backoff with jitter, at least what the receiver asked.

        The jitter (the delay is drawn between half and all of the backoff)
        spreads the retries of many messages that failed together, so that a
        recovering partner is not hit by all of them at the same second.
        """
        backoff = self.flow_id.retry_backoff_seconds * 2 ** (attempts - 1)
        delay = round(backoff / 2 + random.uniform(0, backoff / 2))
        return max(delay, asked or 0)

    # ------------------------------------------------------------------
    # Delivery (outbound)
    # ------------------------------------------------------------------

    def _deliver(self, payload):
        """POST the message to its backend, signed, and log the attempt.

        The body follows the Standard Webhooks shape (``type``, ``timestamp``,
        ``data``); ``webhook-id`` stays the same across retries so that the
        receiver can drop a copy it already has. A 2xx delivers; no answer,
        429 or 5xx raises :class:`DeliveryFailed` (retried with backoff); any
        other answer raises :class:`DeliveryRefused` (exception for a person).
        """
        self.ensure_one()
        backend = self.backend_id
        if not backend.outbound_url:
            raise IntegrationBusinessError(
                _("Backend %s has no outbound URL: set it on the backend, then retry.", backend.display_name)
            )
        webhook_id = f"{self.flow_code}.{self.idempotency_key}"
        timestamp = int(time.time())
        body = canonical_json(
            {
                "type": self.flow_code,
                "version": self.flow_version,
                "timestamp": fields.Datetime.now().isoformat() + "Z",
                "correlation_id": self.correlation_id,
                "data": payload,
            }
        ).encode()
        headers = backend._outbound_headers(webhook_id, timestamp, body)
        result = http_delivery.post(
            backend.outbound_url, body, headers, backend.connect_timeout, backend.read_timeout
        )
        outcome = http_delivery.outcome(result)
        attempt = {
            "message_id": self.id,
            "url": backend.outbound_url,
            "status_code": result.status_code or 0,
            "latency_ms": result.latency_ms,
            "outcome": outcome,
            "error": result.error,
            "response_excerpt": result.excerpt,
        }
        if outcome == http_delivery.DELIVERED:
            self.env["integration.delivery.attempt"].create(attempt)
            return
        answer = result.error or f"HTTP {result.status_code}: {result.excerpt[:200]}"
        if outcome == http_delivery.RETRY:
            raise DeliveryFailed(
                _("%(backend)s did not take the message: %(answer)s", backend=backend.code, answer=answer),
                attempt,
                retry_after=result.retry_after,
            )
        raise DeliveryRefused(
            _("%(backend)s refused the message: %(answer)s", backend=backend.code, answer=answer), attempt
        )

    # ------------------------------------------------------------------
    # Resolution by operators
    # ------------------------------------------------------------------

    def write(self, vals):
        if "payload" in vals:
            for message in self:
                message._check_edited_payload(vals["payload"])
        return super().write(vals)

    def _check_edited_payload(self, text):
        """An edited payload must still be JSON and still satisfy the message's contract."""
        if self.state not in RETRYABLE_STATES:
            raise UserError(_("Only a message in exception, failed or dead can be edited."))
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(_("The payload is not valid JSON: %s", error)) from error
        errors = validation_errors(payload, self.flow_id._get_schema())
        if errors:
            raise ValidationError(
                _(
                    "The edited payload breaks its contract:\n%s",
                    format_errors(errors),
                )
            )

    def action_retry(self):
        """Process the messages again (after a fix, an edit or a new mapping)."""
        to_retry = self.filtered(lambda m: m.state in RETRYABLE_STATES)
        if not to_retry:
            raise UserError(_("Only messages in exception, failed or dead can be retried."))
        to_retry._retry_by_itself(_("Retried"), _("Retried by %s.", self.env.user.name))
        return True

    def action_cancel(self):
        """Give up on the messages: they will never be applied, and no longer hold back later ones."""
        to_cancel = self.filtered(lambda m: m.state not in ("done", "cancelled", "processing"))
        if not to_cancel:
            raise UserError(_("Done, processing or cancelled messages cannot be cancelled."))
        to_cancel.activity_ids.action_feedback(feedback=_("Cancelled"))
        to_cancel.write({"state": "cancelled", "next_retry_at": False, "finished_at": fields.Datetime.now()})
        for message in to_cancel:
            message.message_post(body=_("Cancelled by %s.", self.env.user.name))
        # Messages that waited behind the cancelled ones may go on.
        to_cancel.backend_id._enqueue_processing()
        return True

    @api.model
    def _retry_waiting_for_mapping(self, missing_model, external_code, backend=None, warehouse=None):
        """Retry, by themselves, the messages in exception that waited for this mapping.

        The mapping's scope limits which messages it can serve: one backend's,
        one plant's, or every backend's.
        """
        domain = [
            ("state", "=", "exception"),
            ("missing_model", "=", missing_model),
            ("missing_code", "=", external_code),
        ]
        if backend:
            domain.append(("backend_id", "=", backend.id))
        elif warehouse:
            domain.append(("warehouse_id", "=", warehouse.id))
        waiting = self.search(domain)
        waiting._retry_by_itself(
            _("Mapping created"),
            _("Retried automatically: the mapping for %(code)s now exists.", code=external_code),
        )
        return waiting

    def _retry_by_itself(self, feedback, note):
        """Retry these messages because what they waited for happened (a mapping, a release...).

        Their activities are closed with ``feedback`` and ``note`` goes to their chatter.
        """
        if not self:
            return
        self.activity_ids.action_feedback(feedback=feedback)
        for message in self:
            message.message_post(body=note)
        self._enqueue()

    # ------------------------------------------------------------------
    # Crons: they only search and enqueue
    # ------------------------------------------------------------------

    @api.model
    def _cron_enqueue_due(self):
        """Enqueue batch contracts whose run is due, and technical retries that are due."""
        now = fields.Datetime.now()
        due_flows = self.env["integration.flow"].search(
            [("sync_policy", "=", "batch"), "|", ("next_batch_at", "=", False), ("next_batch_at", "<=", now)]
        )
        for flow in due_flows:
            self.search([("state", "=", "received"), ("flow_id", "=", flow.id)])._enqueue()
            flow.next_batch_at = now + timedelta(minutes=flow.batch_interval_minutes)
        due = self.search([("state", "=", "failed"), ("next_retry_at", "<=", fields.Datetime.now())])
        for backend in due.backend_id:
            backend._enqueue_processing()

    @api.model
    def _cron_purge_done(self, batch_size=1000):
        """Delete done messages older than the retention period, a batch at a time."""
        days = int(self.env["ir.config_parameter"].sudo().get_param("integration_base.retention_days", 90))
        limit = fields.Datetime.now() - timedelta(days=days)
        old = self.search([("state", "=", "done"), ("finished_at", "<", limit)], limit=batch_size)
        old.unlink()
        return len(old)
