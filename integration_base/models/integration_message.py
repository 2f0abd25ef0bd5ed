# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import difflib
import hashlib
import json
import logging
import random
import time
import uuid
from datetime import timedelta
from functools import partial

from psycopg2.errors import UniqueViolation

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, ConcurrencyError, UserError, ValidationError
from odoo.tools import SQL, mute_logger

from ..exceptions import DefinitiveBusinessError, IntegrationBusinessError, PayloadValidationError
from ..lib import formats, strict_json, transports
from ..lib.formats import cloudevents
from ..lib.json_contract import format_errors, resolve_pointer_text
from .integration_dispatcher import CONCURRENCY_ERRORS, CONCURRENCY_TRIES

_logger = logging.getLogger(__name__)

# The engine's mark on a write: a context value RPC cannot forge (it is not JSON).
ENGINE_SENTINEL = object()
ENGINE_CONTEXT_KEY = "integration_engine"
ENGINE_CONTEXT = {ENGINE_CONTEXT_KEY: ENGINE_SENTINEL}

# States that no longer hold back later messages with the same ordering key.
SETTLED_STATES = ("done", "cancelled")
# Every state but the settled ones, spelled out so that PostgreSQL reads them from the state index.
UNSETTLED_STATES = ("received", "queued", "processing", "failed", "exception", "dead")
# States a person may send back to the queue.
RETRYABLE_STATES = ("exception", "failed", "dead")
CANCELLABLE_STATES = ("received", "queued", "failed", "exception", "dead")
# States the retention purge deletes, each after its own configured age.
TERMINAL_STATES = ("done", "cancelled", "dead")
ERROR_DETAIL_LIMIT = 4000
KEY_MAX_LENGTH = 255
# Fields people may write; everything else moves through the engine's methods.
PEOPLE_WRITABLE_FIELDS = frozenset({"payload_text"})
PURGE_BUDGET_SECONDS = 240


def engine(records):
    """``records`` with the engine's right to change messages."""
    return records.with_context(**ENGINE_CONTEXT)


class IntegrationMessage(models.Model):
    """One message in the durable inbox/outbox: data and its state transitions.

    Every message exchanged with a backend is stored before anything is done
    with it, identified by an idempotency key (a message sent twice is stored
    once) and traced by a correlation id. What happens to it after that, the
    scheduling, claiming, ordering, retrying and recovery, is the
    dispatcher's (``integration.dispatcher``). This model only knows the
    message's states and the one method per transition, each of which appends
    a line to the message's transition log.

    Messages are made by the engine thousands of times a day, so they carry
    no followers, notes or tracking: the transition log says what the engine
    did, the audit lines (``integration.message.audit``) what people did. Only
    the engine changes state, attempts, keys, backend, contract or payload;
    people retry, cancel, or correct the payload of a message in exception.
    """

    _name = "integration.message"
    _description = "Integration Message"
    _order = "id desc"
    _rec_name = "idempotency_key"

    backend_id = fields.Many2one(
        "integration.backend",
        required=True,
        index=True,
        readonly=True,
        help="The external system the message came from or goes to.",
    )
    flow_id = fields.Many2one(
        "integration.flow",
        string="Contract",
        required=True,
        index=True,
        readonly=True,
        ondelete="restrict",
        help="The message contract (and version) the payload follows.",
    )
    flow_code = fields.Char(
        required=True,
        index=True,
        readonly=True,
        help="The message type, the same for every version of its contract.",
    )
    flow_version = fields.Integer(
        aggregator=None,
        related="flow_id.version",
        store=True,
        string="Version",
        help="The version of the contract the payload follows.",
    )
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        readonly=True,
        help="Inbound: sent to Odoo by the backend. Outbound: sent by Odoo to the backend.",
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True, help="The company of the backend."
    )
    warehouse_id = fields.Many2one(
        related="backend_id.warehouse_id",
        store=True,
        string="Plant",
        index=True,
        help="The plant of the backend.",
    )
    payload = fields.Text(
        required=True,
        readonly=True,
        help="The message content, as compact JSON with sorted keys.",
    )
    payload_text = fields.Text(
        string="Payload",
        compute="_compute_payload_text",
        inverse="_inverse_payload_text",
        help="The message content as indented JSON. Operators may correct it on a message in "
        "exception before retrying it; the previous version is kept in the audit trail.",
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
        readonly=True,
        help="Messages with the same ordering key are applied one at a time, in the order received.",
    )
    parent_id = fields.Many2one(
        "integration.message",
        string="Caused By",
        readonly=True,
        index="btree_not_null",
        help="The message whose processing raised this one.",
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
        readonly=True,
        help="Received: waits for its batch run. Queued: waits for the dispatcher. Processing: being "
        "applied or delivered now. Exception: waits for a person. Failed: a technical error, retried "
        "by itself at the time shown. Dead: technical retries spent, waits for a person.",
    )
    attempts = fields.Integer(
        aggregator=None, readonly=True, help="How many times the engine started to apply or send it."
    )
    next_retry_at = fields.Datetime(
        readonly=True, index="btree_not_null", help="When the engine tries a failed message again, by itself."
    )
    error_kind = fields.Selection(
        [("technical", "Technical"), ("business", "Business")],
        readonly=True,
        index="btree_not_null",
        help="Business: a person must act (a mapping, the payload, the Odoo record). Technical: the "
        "engine retries by itself.",
    )
    error_message = fields.Text(
        string="Reason",
        readonly=True,
        help="Why the message waits or failed, in words for whoever follows the integration.",
    )
    # A traceback tells of the server's code, paths and data: for those who configure
    # the integration (managers), not for the functional users who resolve exceptions.
    error_detail = fields.Text(
        string="Technical Detail",
        readonly=True,
        groups="integration_base.group_integration_manager",
        help="What the server or the database said about the last error (a traceback), for managers.",
    )
    error_definitive = fields.Boolean(
        string="Retry Cannot Help",
        readonly=True,
        help="The connector said that this message fails the same way as long as it is unchanged "
        "(the order it confirms was cancelled, say): correct its payload or cancel it.",
    )
    missing_kind = fields.Selection(
        [("mapping", "Mapping"), ("record", "Record"), ("change", "Change of a record")],
        string="Waits For",
        readonly=True,
        help="What the message waits for, to go on by itself once it happens: a mapping of a code, an "
        "Odoo record (an order Odoo does not know yet, a record a later message creates), or a change "
        "of a record (a quality hold released).",
    )
    missing_model = fields.Char(
        readonly=True, help="The model of the mapping or record this message waits for."
    )
    missing_code = fields.Char(
        readonly=True, help="The external code, reference or id of what this message waits for."
    )
    missing_label = fields.Char(
        string="Missing",
        compute="_compute_missing_label",
        help="What the message waits for, in words: a code of the backend that no Odoo record stands "
        "for yet, or an Odoo record that has no code at the backend yet.",
    )
    can_retry = fields.Boolean(
        compute="_compute_can_retry",
        help="A retry may succeed now: the message is waiting and nothing known makes it fail again.",
    )
    retry_advice = fields.Char(
        compute="_compute_can_retry",
        help="Why a retry would fail the same way, and what to do instead.",
    )
    payload_diff = fields.Text(
        string="Corrections",
        compute="_compute_payload_diff",
        help="How the payload was corrected: the lines removed (-) from and added (+) to the payload "
        "as it was first stored.",
    )
    received_at = fields.Datetime(
        required=True,
        readonly=True,
        default=fields.Datetime.now,
        index=True,
        help="When the message was stored.",
    )
    started_at = fields.Datetime(
        readonly=True, index="btree_not_null", help="When the engine last started to apply or send it."
    )
    finished_at = fields.Datetime(
        readonly=True, index="btree_not_null", help="When it was done (or cancelled)."
    )
    duration = fields.Float(
        aggregator="avg",
        compute="_compute_duration",
        store=True,
        string="Duration (s)",
        help="Seconds from arrival to done.",
    )
    link_ids = fields.One2many(
        "integration.message.link",
        "message_id",
        string="Records",
        readonly=True,
        help="The Odoo records the message created, changed, or concerns.",
    )
    raw_attachment_id = fields.Many2one(
        "ir.attachment",
        string="As Exchanged",
        readonly=True,
        help="The bytes the message arrived or left with, when they are not its JSON payload (a CSV or XML "
        "file, an EDI interchange) or too large to show: the payload is what was read from them.",
    )
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
    failure_noted = fields.Boolean(
        readonly=True,
        help="The records this message concerns were told in their chatter that it waits for a "
        "person; they are told once, not again when a retry fails the same way.",
    )
    delivery_attempt_ids = fields.One2many(
        "integration.delivery.attempt",
        "message_id",
        string="Delivery Attempts",
        readonly=True,
        help="Each try to deliver the outbound message, with the answer.",
    )
    audit_ids = fields.One2many(
        "integration.message.audit",
        "message_id",
        string="Audit Trail",
        readonly=True,
        help="What people did to the message: retries, cancellations and payload corrections.",
    )
    transition_log = fields.Text(
        readonly=True, help="Every state change the engine made, one line each: when, from, to and why."
    )
    flow_owner_id = fields.Many2one(
        related="flow_id.owner_id",
        string="Business Owner",
        help="Who answers for the contract's messages: told when they wait for someone.",
    )
    blocked_by_id = fields.Many2one(
        "integration.message",
        compute="_compute_blocked_by",
        string="Waiting For",
        help="The earlier message with the same ordering key that must settle before this one is applied.",
    )
    waiting_reason = fields.Char(
        compute="_compute_blocked_by", help="Why the message waits behind an earlier one of its ordering key."
    )

    _idempotency_key_unique = models.Constraint(
        "UNIQUE(backend_id, flow_code, direction, idempotency_key)",
        "A message with this idempotency key already exists for this backend and flow.",
    )

    def init(self):
        # The dispatcher's questions, answered from small partial indexes: "the unsettled
        # messages of this key before this one" and "the next claimable message of a backend".
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS integration_message_unsettled_key_idx
                   ON integration_message (backend_id, direction, ordering_key, id)
                WHERE state NOT IN ('done', 'cancelled')"""
        )
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS integration_message_claimable_idx
                   ON integration_message (backend_id, id)
                WHERE state IN ('queued', 'failed', 'processing')"""
        )
        # "The messages waiting for this record or mapping", asked whenever one appears.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS integration_message_waiting_idx
                   ON integration_message (missing_model, missing_code)
                WHERE state = 'exception'"""
        )

    # ------------------------------------------------------------------
    # Computed fields
    # ------------------------------------------------------------------

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

    @api.depends("payload")
    def _compute_payload_text(self):
        for message in self:
            message.payload_text = self._indented(message.payload)

    def _inverse_payload_text(self):
        for message in self:
            message._edit_payload(message.payload_text)

    @api.depends("direction", "missing_kind", "missing_model", "missing_code", "backend_id")
    def _compute_missing_label(self):
        for message in self:
            if message.missing_kind in ("record", "change"):
                model = self.env[message.missing_model] if message.missing_model in self.env else None
                words = {
                    "model": model._description if model is not None else message.missing_model,
                    "key": message.missing_code,
                }
                message.missing_label = (
                    self.env._("%(model)s %(key)s, which Odoo does not have yet", **words)
                    if message.missing_kind == "record"
                    else self.env._("a change of %(model)s %(key)s", **words)
                )
                continue
            message.missing_label = message.missing_code and self._describe_missing(
                message.backend_id, message.direction, message.missing_model, message.missing_code
            )

    @api.model
    def _describe_missing(self, backend, direction, missing_model, missing_code):
        """What a message waits for, in the words of a functional user (not ``product.product,39``)."""
        if missing_model and missing_model.startswith("value:"):
            return self.env._(
                "%(backend)s code '%(code)s' of %(set)s has no value in Odoo",
                backend=backend.display_name,
                code=missing_code,
                set=missing_model.removeprefix("value:"),
            )
        model = self.env[missing_model] if missing_model in self.env else None
        if model is None:
            return self.env._("%(model)s '%(code)s'", model=missing_model, code=missing_code)
        if direction == "outbound":
            record = self._missing_record(missing_model, missing_code)
            return self.env._(
                "%(record)s (%(model)s) has no code at %(backend)s",
                record=record.display_name if record else missing_code,
                model=model._description,
                backend=backend.display_name,
            )
        return self.env._(
            "%(backend)s %(model)s code '%(code)s' stands for no %(model)s in Odoo",
            backend=backend.display_name,
            model=model._description,
            code=missing_code,
        )

    @api.model
    def _missing_record(self, missing_model, missing_code):
        """The Odoo record an outbound message needs a code for (its missing code is ``model,id``)."""
        model, _sep, res_id = (missing_code or "").partition(",")
        if model != missing_model or model not in self.env or not res_id.isdigit():
            return None
        return self.env[model].browse(int(res_id)).exists() or None

    @api.depends(
        "state",
        "error_kind",
        "error_definitive",
        "missing_kind",
        "missing_model",
        "missing_code",
        "exception_since",
        "audit_ids",
    )
    def _compute_can_retry(self):
        for message in self:
            advice = message._retry_advice() if message.state in RETRYABLE_STATES else False
            message.can_retry = message.state in RETRYABLE_STATES and not advice
            message.retry_advice = advice

    def _retry_advice(self):
        """Why retrying this waiting message now would fail the same way; ``False`` when it may succeed."""
        self.ensure_one()
        if self.error_kind != "business" or self._corrected_since_parked():
            return False
        if self.error_definitive:
            return self.env._("Retrying would fail the same way: correct the payload, or cancel the message.")
        if self.missing_kind == "mapping" and not self._mapping_now_found():
            return self.env._(
                "Create the missing mapping (Create Mapping): the message is then retried by itself."
            )
        if self.missing_kind == "record" and not self._waited_record_found():
            return self.env._(
                "The message waits for %s: it is retried by itself when that appears.", self.missing_label
            )
        return False

    def _corrected_since_parked(self):
        edits = self.audit_ids.filtered(lambda line: line.action == "edit")
        return any(not self.exception_since or line.date >= self.exception_since for line in edits)

    def _mapping_now_found(self):
        """Whether the mapping this message waits for exists now (it came after, in another scope...)."""
        Mapping = self.env["integration.mapping"]
        if self.direction == "outbound":
            record = self._missing_record(self.missing_model, self.missing_code)
            return bool(record) and bool(
                Mapping._most_specific(
                    self.backend_id, [("res_model", "=", record._name), ("res_id", "=", record.id)]
                )
            )
        if self.missing_model.startswith("value:"):
            return bool(Mapping._find(self.backend_id, self.missing_code, value_set=self.missing_model[6:]))
        return bool(Mapping._find(self.backend_id, self.missing_code, res_model=self.missing_model))

    def _wait_is_over(self, error):
        """Whether what this message waits for (``error``, the ``WaitingError`` that parked it) is there."""
        self.ensure_one()
        if self.missing_kind == "mapping":
            return self._mapping_now_found()
        if self.missing_kind == "record":
            return self._waited_record_found()
        return bool(error.is_over and error.is_over(self.env))

    def _waited_record_found(self):
        """Whether the record this message waits for is there now (by its reference, or bound)."""
        if self.missing_model not in self.env:
            return False
        Model = self.env[self.missing_model]
        if self.env["integration.binding"]._find_bound(
            self.backend_id, self.missing_model, self.missing_code
        ):
            return True
        reference = getattr(Model, "_integration_reference_field", None)
        if not reference:
            return False
        domain = [(reference, "=", self.missing_code)]
        if "company_id" in Model._fields:
            domain.append(("company_id", "in", (self.company_id.id, False)))
        return bool(Model.sudo().search_count(domain, limit=1))

    @api.depends("payload", "audit_ids")
    def _compute_payload_diff(self):
        for message in self:
            edits = message.audit_ids.filtered(lambda line: line.action == "edit").sorted("id")
            if not edits:
                message.payload_diff = False
                continue
            original = message._indented(edits[0].previous_payload).splitlines()
            now = message._indented(message.payload).splitlines()
            message.payload_diff = "\n".join(
                difflib.unified_diff(
                    original, now, self.env._("as stored"), self.env._("as corrected"), lineterm=""
                )
            )

    @api.model
    def _indented(self, payload):
        try:
            return json.dumps(json.loads(payload or "null"), indent=2, sort_keys=True, ensure_ascii=False)
        except ValueError:
            return payload

    @api.depends("state", "ordering_key")
    def _compute_blocked_by(self):
        waiting = self.filtered(
            lambda m: m.id and m.ordering_key and m.state in ("received", "queued", "failed")
        )
        blockers = {}
        if waiting:
            self.env.cr.execute(
                SQL(
                    """SELECT m.id, (SELECT e.id FROM integration_message e
                                      WHERE e.backend_id = m.backend_id AND e.direction = m.direction
                                        AND e.ordering_key = m.ordering_key AND e.id < m.id
                                        AND e.state NOT IN %s
                                   ORDER BY e.id LIMIT 1)
                         FROM integration_message m WHERE m.id IN %s""",
                    SETTLED_STATES,
                    tuple(waiting.ids),
                )
            )
            blockers = dict(self.env.cr.fetchall())
        for message in self:
            blocker = self.browse(blockers.get(message.id))
            message.blocked_by_id = blocker
            message.waiting_reason = blocker._holding_reason() if blocker else False

    def _holding_reason(self):
        """Why this message holds back the later ones of its key, in words."""
        self.ensure_one()
        state = dict(self._fields["state"]._description_selection(self.env))[self.state]
        since = self.exception_since or self.started_at or self.received_at
        return self.env._(
            "Waiting for message %(name)s (#%(id)s): %(state)s since %(since)s",
            name=self.display_name,
            id=self.id,
            state=state.lower(),
            since=fields.Datetime.to_string(since),
        )

    # ------------------------------------------------------------------
    # Protection: only the engine changes a message
    # ------------------------------------------------------------------

    def _is_engine(self):
        return self.env.context.get(ENGINE_CONTEXT_KEY) is ENGINE_SENTINEL

    @api.model_create_multi
    @api.private
    def create(self, vals_list):
        if not self._is_engine():
            raise AccessError(
                self.env._("Messages are stored by the engine only: send them through a webhook or ingest().")
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self._is_engine() and set(vals) - PEOPLE_WRITABLE_FIELDS:
            raise AccessError(
                self.env._(
                    "Only the integration engine changes messages (%(fields)s): use Retry or Cancel, or "
                    "correct the payload of a message in exception.",
                    fields=", ".join(sorted(set(vals) - PEOPLE_WRITABLE_FIELDS)),
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_unsettled(self):
        """People delete settled messages only; the engine (retention) deletes any."""
        if not self._is_engine() and any(m.state not in TERMINAL_STATES for m in self):
            raise UserError(
                self.env._("Only done, cancelled or dead messages can be deleted: cancel the others first.")
            )

    def _transition(self, state, note=None, **values):
        """Move these messages to ``state`` with ``values``, and log it. The one door to the state field."""
        for message in self:
            line = self._log_line(f"{message.state} -> {state}", note)
            engine(message).write(
                {**values, "state": state, "transition_log": (message.transition_log or "") + line}
            )

    @api.model
    def _log_line(self, what, note=None):
        """One line of the transition log: when, what, and why."""
        line = f"{fields.Datetime.to_string(fields.Datetime.now())} {what}"
        return f"{line}: {note}\n" if note else f"{line}\n"

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
        flow=None,
    ):
        """Store a message and schedule its processing, once.

        Controllers, file imports, connectors and tests all come through here.
        The payload is checked against the backend's contract for
        ``flow_code`` (``flow`` when the caller already found it, a given
        ``version``, or the newest one in force); a
        :class:`PayloadValidationError` lists every violation by JSON pointer.
        When a message with the same idempotency key exists, it is returned
        unchanged. The message is created in the caller's transaction, so a
        rolled-back business change sends nothing. When a concurrent
        transaction stores the same message first, a :class:`ConcurrencyError`
        asks Odoo to run the whole request again, which then finds it.

        Returns ``(message, created)``.
        """
        backend.ensure_one()
        if backend.state != "active":
            raise UserError(
                self.env._("Backend %s is not active: it takes no messages.", backend.display_name)
            )
        flow = flow or self.env["integration.flow"]._contract_in_force(backend, flow_code, direction, version)
        key = self._idempotency_key(flow, payload, idempotency_key)
        existing = self._find_by_key(backend, flow_code, direction, key)
        if existing:
            return existing, False
        flow._check_payload(payload)
        values = {
            "backend_id": backend.id,
            "flow_id": flow.id,
            "flow_code": flow_code,
            "direction": direction,
            "payload": strict_json.dumps(payload),
            "idempotency_key": key,
            "correlation_id": correlation_id or (parent and parent.correlation_id) or str(uuid.uuid4()),
            "ordering_key": ordering_key or self._key_at(payload, flow.ordering_key_pointer, "ordering key"),
            "parent_id": parent.id if parent else False,
            "event_code": event_code,
        }
        realtime = flow.sync_policy == "realtime"
        message = self._store(values, "queued" if realtime else "received")
        if realtime:
            self.env["integration.dispatcher"]._schedule(backend)
        return message, True

    def _store(self, values, state, note=None):
        """Create one message in ``state``; a concurrent twin makes the request run again."""
        dispatcher = self.env["integration.dispatcher"]
        if values.get("ordering_key"):
            dispatcher._lock_ordering_key(values["backend_id"], values["direction"], values["ordering_key"])
        backend = self.env["integration.backend"].browse(values["backend_id"])
        values = {
            # Given here, the stored related and computed fields make one INSERT, not an UPDATE after it.
            "flow_version": self.env["integration.flow"].browse(values["flow_id"]).version,
            "company_id": backend.company_id.id,
            "warehouse_id": backend.warehouse_id.id,
            "duration": 0.0,
            **values,
            "state": state,
            "transition_log": self._log_line(f"stored as {state}", note),
        }
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                # handed back without the engine's mark: the caller is not the engine
                return self.browse(engine(self).create(values).ids)
        except UniqueViolation:
            # Another transaction stored this message first; under repeatable read we cannot
            # see it yet, a fresh transaction will.
            raise ConcurrencyError(
                f"message {values['idempotency_key']} of {values['flow_code']} stored concurrently"
            ) from None

    @api.model
    def _idempotency_key(self, flow, payload, given=None):
        """The key that identifies the message: the sender's event id, its header, or one of ours.

        A hash of the payload only when the contract asks for it: two equal
        readings of a meter are two messages unless the contract says
        otherwise.
        """
        key = self._key_at(payload, flow.idempotency_key_pointer, "idempotency key") or given
        if key:
            if len(key) > KEY_MAX_LENGTH:
                raise UserError(
                    self.env._("The idempotency key is longer than %s characters.", KEY_MAX_LENGTH)
                )
            return key
        if flow.deduplicate_by_payload:
            return "sha256:" + hashlib.sha256(strict_json.dumps(payload).encode()).hexdigest()
        return f"uuid:{uuid.uuid4()}"

    @api.model
    def _key_at(self, payload, pointer, what):
        """The text at ``pointer`` of the payload, refused when it cannot serve as a key."""
        value = resolve_pointer_text(payload, pointer)
        if value is not None and len(value) > KEY_MAX_LENGTH:
            reason = f"the {what} is longer than {KEY_MAX_LENGTH} characters"
            raise PayloadValidationError(
                self.env._("The payload breaks its contract: %s", reason), [(pointer, reason)]
            )
        return value

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
            "flow": flow,
        }
        try:
            with self.env.cr.savepoint():
                payload = flow._get_processor()._prepare_payload(flow, record, event_code)
                message, _created = self._ingest(flow.backend_id, flow.code, payload, **values)
        except UserError as error:
            message = self._store_pending(flow, record, values, error)
            flow._alert_waiting_messages()
        message._link_records(record)
        self.env["integration.record.mixin"]._note_integration_failures(message)
        return message

    def _store_pending(self, flow, record, values, error):
        """A message whose payload is still to be built: it names its record and waits in exception."""
        reference = {"event": values["event_code"], "model": record._name, "id": record.id}
        return self._store(
            {
                "backend_id": flow.backend_id.id,
                "flow_id": flow.id,
                "flow_code": flow.code,
                "direction": "outbound",
                "payload": strict_json.dumps(reference),
                "payload_pending": True,
                "idempotency_key": values["idempotency_key"],
                "correlation_id": values["correlation_id"] or str(uuid.uuid4()),
                "ordering_key": values["ordering_key"],
                "event_code": values["event_code"],
                **self._exception_values(error),
            },
            "exception",
            note=self._reason(error),
        )

    def _keep_raw(self, body, name, mimetype):
        """Keep ``body`` as these messages' bytes as exchanged (one attachment, shared)."""
        if not self:
            return
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": name or f"{self[0].flow_code}-{self[0].id}",
                    "raw": body,
                    "mimetype": mimetype or "application/octet-stream",
                    "res_model": self._name,
                    "res_id": self[0].id,
                }
            )
        )
        engine(self).write({"raw_attachment_id": attachment.id})

    @api.model
    def _store_refused(self, flow, key, payload, reason):
        """Keep a fetched document that could not be accepted: in exception, as it came, with why.

        A webhook refuses such a document to its sender, who keeps it; a
        fetched one has no sender to refuse it to, so it waits here for a
        person to correct its payload (then retry) or cancel it.
        """
        return self._store(
            {
                "backend_id": flow.backend_id.id,
                "flow_id": flow.id,
                "flow_code": flow.code,
                "direction": "inbound",
                "payload": strict_json.dumps(payload),
                "idempotency_key": key,
                "correlation_id": str(uuid.uuid4()),
                **self._exception_values(IntegrationBusinessError(reason)),
            },
            "exception",
            note=reason[:200],
        )

    def _build_pending_payload(self):
        """Build, check and keep the payload of a message whose event could not be turned into one."""
        self.ensure_one()
        source = self.link_ids[:1]
        record = self.env[source.res_model].browse(source.res_id).exists() if source else None
        if not record:
            raise IntegrationBusinessError(self.env._("The record this message was about no longer exists."))
        payload = self.flow_id._get_processor()._prepare_payload(self.flow_id, record, self.event_code)
        errors = self.flow_id._validation_errors(payload)
        if errors:
            raise IntegrationBusinessError(
                self.env._("The built payload breaks its contract:\n%s", format_errors(errors))
            )
        engine(self).write({"payload": strict_json.dumps(payload), "payload_pending": False})
        return payload

    @api.model
    def _find_by_key(self, backend, flow_code, direction, key):
        """The message with this key, if stored: one lookup in the key's unique index.

        Asked once per message ingested, so in SQL (the key's fields are set at
        creation only, nothing waits to be flushed).
        """
        self.env.cr.execute(
            SQL(
                "SELECT id FROM integration_message WHERE backend_id = %s AND flow_code = %s "
                "AND direction = %s AND idempotency_key = %s",
                backend.id,
                flow_code,
                direction,
                key,
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _link_records(self, records):
        """Link the records this message concerns: those it made or changed, or those it failed for.

        ``records`` is a recordset or a list of records of several models. Each
        is linked once however often it is named (a retried message fails for
        the same order again), and records that do not exist (made by an
        attempt that was rolled back) are left out.
        """
        if not records:
            return
        self.ensure_one()
        named = {}
        for record in records:
            named.setdefault(record._name, set()).update(record.ids)
        Link = self.env["integration.message.link"].sudo()
        linked = {(link.res_model, link.res_id) for link in Link.search([("message_id", "=", self.id)])}
        Link.create(
            [
                {"message_id": self.id, "res_model": model, "res_id": res_id}
                for model, ids in named.items()
                for res_id in self.env[model].sudo().browse(sorted(ids)).exists().ids
                if (model, res_id) not in linked
            ]
        )

    def _outgoing(self, payload):
        """This outbound message's next delivery, resolved for its transport (see ``lib/transports``).

        The contract's target (or the backend's Outbound URL) chooses the
        transport; its format renders the payload and its envelope wraps it:
        Standard Webhooks (``type``, ``timestamp``, ``data``), CloudEvents,
        or none. The message key (``webhook-id``, file name, broker message
        id) is the same for every attempt, so that the receiver can drop a
        copy it already has. HTTP deliveries are signed with the backend's
        outbound credential.
        """
        self.ensure_one()
        backend, flow = self.backend_id, self.flow_id
        target = flow.target_url or backend.outbound_url
        if not target:
            raise IntegrationBusinessError(
                self.env._(
                    "Backend %s has no outbound URL: set it on the backend, then retry.", backend.display_name
                )
            )
        message_key = f"{self.flow_code}.{self.idempotency_key}"
        body, content_type = self._rendered_body(payload, message_key)
        topic = self._rendered_topic()
        if flow.data_format != "json" and not self.raw_attachment_id:
            self._keep_raw(body, topic or message_key, content_type)
        is_http = target.partition("://")[0].lower() in ("http", "https")
        # A webhook signed (or carrying its token) in its headers needs no secret in the transport.
        signed = is_http and not backend.oauth_token_url
        headers = {"x-correlation-id": self.correlation_id}
        if signed:
            headers.update(backend._outbound_headers(message_key, int(time.time()), body))
        elif is_http:
            headers.update({"webhook-id": message_key, "webhook-timestamp": str(int(time.time()))})
        return transports.Outgoing(
            target=target,
            body=body,
            message_key=message_key,
            content_type=content_type,
            headers=headers,
            topic=topic,
            ordering_key=self.ordering_key,
            **flow._transport_settings(with_secrets=not signed),
        )

    def _rendered_body(self, payload, message_key):
        """``(bytes, content type)`` of the payload in the contract's format and envelope."""
        flow = self.flow_id
        options = flow._json_setting("format_options")
        if flow.envelope == "none":
            return formats.encode(flow.data_format, payload, options), formats.content_type(flow.data_format)
        if flow.envelope == "cloudevents":
            data = payload
            if flow.data_format != "json":
                data = formats.encode(flow.data_format, payload, options)
            body = cloudevents.structured(
                data,
                id=message_key,
                source=f"/odoo/{self.env.cr.dbname}/{self.backend_id.code}",
                type=f"{self.flow_code}.v{self.flow_version}",
                subject=self.ordering_key or None,
                dataschema=self.flow_id._published_schema_url(),
                datacontenttype=formats.content_type(flow.data_format),
            )
            return body, "application/cloudevents+json"
        body = strict_json.dumps(
            {
                "type": self.flow_code,
                "version": self.flow_version,
                "timestamp": fields.Datetime.now().isoformat() + "Z",
                "correlation_id": self.correlation_id,
                "data": payload,
            }
        ).encode()
        return body, "application/json"

    def _rendered_topic(self):
        """The contract's topic (or file name) with its placeholders filled, or ``None``."""
        template = self.flow_id.topic
        if not template:
            return None
        backend = self.backend_id
        values = {
            "company": backend.company_id.name,
            "site": backend.warehouse_id.code or backend.code,
            "backend": backend.code,
            "flow": self.flow_code,
            "version": self.flow_version,
            "key": self.ordering_key or "",
            "id": self.idempotency_key,
        }
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError) as error:
            raise IntegrationBusinessError(
                self.env._(
                    "The topic %(topic)s of %(flow)s names an unknown placeholder (%(error)s): use "
                    "{company}, {site}, {backend}, {flow}, {version}, {key} or {id}.",
                    topic=template,
                    flow=self.flow_id.display_name,
                    error=error,
                )
            ) from error

    # ------------------------------------------------------------------
    # Outcomes (called by the dispatcher)
    # ------------------------------------------------------------------

    @staticmethod
    def _reason(error):
        return str(error.args[0]) if getattr(error, "args", None) else str(error)

    def _exception_values(self, error, detail=False):
        now = fields.Datetime.now()
        return {
            "error_kind": "business",
            "error_message": self._reason(error),
            "error_detail": detail[-ERROR_DETAIL_LIMIT:] if detail else False,
            "error_definitive": isinstance(error, DefinitiveBusinessError),
            "missing_kind": getattr(error, "wait_kind", False),
            "missing_model": getattr(error, "res_model", False),
            "missing_code": getattr(error, "external_code", False),
            "exception_since": now,
            "next_retry_at": False,
        }

    def _mark_done(self, started_at):
        self._transition(
            "done",
            started_at=started_at,
            finished_at=fields.Datetime.now(),
            next_retry_at=False,
            error_kind=False,
            error_message=False,
            error_detail=False,
            error_definitive=False,
            missing_kind=False,
            missing_model=False,
            missing_code=False,
            exception_since=False,
        )

    def _mark_exception(self, error, started_at=None, detail=None):
        """Park on a business error: a person must act (the dispatcher then tells the contract's owner).

        ``detail`` is what the database or the server said, when the reason is
        their refusal told in words: kept for managers.
        """
        values = self._exception_values(error, detail)
        if started_at:
            values["started_at"] = started_at
        self._transition("exception", note=values["error_message"][:200], **values)
        _logger.info("message %s parked in exception: %s", self.ids, values["error_message"])

    def _mark_failed(self, error, detail, next_retry_at, started_at=None):
        self._transition(
            "failed",
            note=f"retry at {fields.Datetime.to_string(next_retry_at)}",
            **self._technical_values(error, detail, started_at),
            next_retry_at=next_retry_at,
        )

    def _mark_dead(self, error, detail, started_at=None):
        self._transition(
            "dead",
            note=f"after {self.attempts} attempt(s)",
            **self._technical_values(error, detail, started_at),
            next_retry_at=False,
        )

    def _technical_values(self, error, detail, started_at):
        values = {
            "error_kind": "technical",
            "error_message": self._technical_reason(error),
            "error_detail": detail[-ERROR_DETAIL_LIMIT:] if detail else False,
            "error_definitive": False,
        }
        if started_at:
            values["started_at"] = started_at
        return values

    @staticmethod
    def _technical_reason(error):
        return error if isinstance(error, str) else f"{type(error).__name__}: {error}"

    # ------------------------------------------------------------------
    # Resolution by people
    # ------------------------------------------------------------------

    def _edit_payload(self, text):
        """Correct the payload of a message in exception; the previous one goes to the audit trail."""
        self.ensure_one()
        if self.state != "exception" or self.payload_pending:
            raise UserError(self.env._("Only the payload of a message in exception can be corrected."))
        try:
            payload = strict_json.loads(text or "")
        except strict_json.JsonRefused as error:
            raise ValidationError(self.env._("The payload is not valid JSON: %s", error)) from error
        errors = self.flow_id._validation_errors(payload)
        if errors:
            raise ValidationError(
                self.env._("The edited payload breaks its contract:\n%s", format_errors(errors))
            )
        compact = strict_json.dumps(payload)
        if compact == self.payload:
            return
        self._audit("edit", self.env._("Payload corrected."), previous_payload=self.payload)
        engine(self).write({"payload": compact})

    def _audit(self, action, note, previous_payload=False):
        self.env["integration.message.audit"].sudo().create(
            [
                {
                    "message_id": message.id,
                    "action": action,
                    "note": note,
                    "previous_payload": previous_payload,
                }
                for message in self
            ]
        )

    def _lock_for_people(self):
        """Lock the rows a person acts on, or say that the engine has them right now."""
        self.env.cr.execute(
            SQL("SELECT id FROM integration_message WHERE id IN %s FOR NO KEY UPDATE NOWAIT", tuple(self.ids))
        )

    def action_retry(self):
        """Process the messages again (after a fix, an edit or a new mapping).

        Messages that would fail the same way (see :meth:`_retry_advice`) are
        left waiting, and the user is told why.
        """
        waiting = self.filtered(lambda m: m.state in RETRYABLE_STATES)
        if not waiting:
            raise UserError(self.env._("Only messages in exception, failed or dead can be retried."))
        to_retry = waiting.filtered("can_retry")
        if not to_retry:
            raise UserError(waiting[0].retry_advice)
        to_retry._lock_for_people()
        to_retry._audit("retry", self.env._("Retried by %s.", self.env.user.name))
        to_retry._requeue(self.env._("retried by %s", self.env.user.name), reset_attempts=True)
        left = waiting - to_retry
        if not left:
            return True
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "title": self.env._(
                    "%(retried)s retried, %(left)s left waiting", retried=len(to_retry), left=len(left)
                ),
                "message": left[0].retry_advice,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_cancel(self, reason=None):
        """Give up on the messages: they will never be applied, and no longer hold back later ones.

        ``reason`` (asked by the Cancel dialog) is kept in the audit trail and
        the transition log.
        """
        to_cancel = self.filtered(lambda m: m.state in CANCELLABLE_STATES)
        if not to_cancel:
            raise UserError(self.env._("Done, processing or cancelled messages cannot be cancelled."))
        to_cancel._lock_for_people()
        user = self.env.user.name
        if reason:
            audit_note = self.env._("Cancelled by %(user)s: %(reason)s", user=user, reason=reason)
            log_note = self.env._("cancelled by %(user)s: %(reason)s", user=user, reason=reason)
        else:
            audit_note, log_note = self.env._("Cancelled by %s.", user), self.env._("cancelled by %s", user)
        to_cancel._audit("cancel", audit_note)
        to_cancel._transition(
            "cancelled", note=log_note, next_retry_at=False, finished_at=fields.Datetime.now()
        )
        to_cancel.flow_id._alert_waiting_messages()
        # Messages that waited behind the cancelled ones may go on.
        self.env["integration.dispatcher"]._schedule(to_cancel.backend_id)
        return True

    def action_create_mapping(self):
        """Open the dialog that creates the mapping these messages wait for, prefilled from them."""
        return self.env["integration.mapping.wizard"]._action_for_messages(self)

    def action_open_record(self):
        """Open the Odoo record the message concerns: the one it changed, or the one it needs a code for."""
        self.ensure_one()
        records = self._concerned_records()
        if not records:
            raise UserError(self.env._("This message names no Odoo record (yet)."))
        action = {"type": "ir.actions.act_window", "res_model": records._name, "name": records._description}
        if len(records) == 1:
            return {**action, "res_id": records.id, "view_mode": "form", "views": [(False, "form")]}
        return {
            **action,
            "domain": [("id", "in", records.ids)],
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
        }

    def _concerned_records(self):
        """The records of the message's first linked model, or the one an outbound message has no code for.

        An empty recordset when it names none.
        """
        self.ensure_one()
        links = self.link_ids.filtered(lambda link: link.res_model in self.env)
        if links:
            model = links[0].res_model
            ids = links.filtered(lambda link: link.res_model == model).mapped("res_id")
            return self.env[model].browse(ids).exists()
        record = self.direction == "outbound" and self._missing_record(self.missing_model, self.missing_code)
        return record or self.env["res.partner"]

    def _requeue(self, note, reset_attempts=False):
        """Send these messages back to the dispatcher."""
        values = {"next_retry_at": False, "exception_since": False}
        if reset_attempts:
            values["attempts"] = 0
        was_waiting = self.filtered(lambda m: m.state in ("exception", "dead"))
        self._transition("queued", note=note, **values)
        was_waiting.flow_id._alert_waiting_messages()
        self.env["integration.dispatcher"]._schedule(self.backend_id)

    @api.model
    def _retry_waiting_for_mapping(self, missing_model, external_code, company, backend=None, warehouse=None):
        """Retry, by themselves, the messages in exception that waited for this mapping.

        The mapping's scope limits which messages it can serve: one backend's,
        one plant's, or every backend of its company; never another company's
        (so ``company`` is required: a mapping serves its company only).
        """
        company.ensure_one()
        domain = [
            ("state", "=", "exception"),
            ("missing_kind", "=", "mapping"),
            ("missing_model", "=", missing_model),
            ("missing_code", "=", external_code),
            ("company_id", "=", company.id),
        ]
        if backend:
            domain.append(("backend_id", "=", backend.id))
        elif warehouse:
            domain.append(("warehouse_id", "=", warehouse.id))
        waiting = self.search(domain)
        if waiting:
            # Whoever made the mapping is named in the message's history, as for a retry by hand.
            waiting._audit(
                "retry",
                self.env._(
                    "Retried by itself: %(user)s created the mapping for %(code)s.",
                    user=self.env.user.name,
                    code=external_code,
                ),
            )
        note = self.env._("the mapping for %s now exists", external_code)
        waiting._retry_by_itself(note)
        self._wake_again_after_commit(domain, note)
        return waiting

    @api.model
    def _wake(self, res_model, keys, company, backend=None, note=None, kind="record"):
        """Retry, by themselves, the messages in exception that waited for these records to appear.

        ``keys`` are the references or external ids the messages named
        (``WaitingError``); only the messages of ``company`` (and of
        ``backend``, for a binding) wait for them. ``kind`` ``"change"`` wakes
        those that waited for a change of these records instead (a release).
        Returns the messages retried.
        """
        keys = [key for key in ({keys} if isinstance(keys, str) else set(keys)) if key]
        if not keys:
            return self
        domain = [
            ("state", "=", "exception"),
            ("missing_kind", "=", kind),
            ("missing_model", "=", res_model),
            ("missing_code", "in", keys),
            ("company_id", "=", company.id),
        ]
        if backend:
            domain.append(("backend_id", "=", backend.id))
        note = note or self.env._("what it waited for now exists")
        waiting = self.sudo().search(domain)
        waiting._retry_by_itself(note)
        self._wake_again_after_commit(domain, note)
        return waiting

    def _wake_again_after_commit(self, domain, note):
        """Look for the waiting messages once more after this transaction commits.

        A message being applied while this transaction runs may park, waiting
        for what this transaction makes, after the search above and before
        this commit: neither its snapshot nor this one sees the other. After
        both commits one of them does: the dispatcher looks again after
        parking (``_look_again_at_wait``), and this looks again after
        committing.
        """
        callbacks = self.env.cr.postcommit
        pending = callbacks.data.setdefault("integration.wake.after_commit", [])
        if not pending:
            callbacks.add(partial(self._wake_pending, self.env.registry, pending))
        pending.append((domain, note))

    @staticmethod
    def _wake_pending(registry, pending):
        """Look once more, in a transaction of its own, tried again when a concurrent one collides.

        For a message that parked while the change was being committed this
        is the only look left (its own look came before the commit): a drain
        scheduling the same backend at that moment must not cost it its turn.
        """
        for attempt in range(1, CONCURRENCY_TRIES + 1):
            try:
                with registry.cursor() as cr:
                    Message = api.Environment(cr, SUPERUSER_ID, {})["integration.message"]
                    for domain, note in pending:
                        Message.search(domain)._retry_by_itself(note)
                return
            except CONCURRENCY_ERRORS:
                if attempt == CONCURRENCY_TRIES:
                    _logger.error(
                        "messages waiting for %s not looked at again: %s tries collided", pending, attempt
                    )
                    return
                time.sleep(random.uniform(0.02, 0.1) * attempt)
            except Exception:
                # The change is committed already: what this missed waits for a person to retry it.
                _logger.error("messages waiting for %s not looked at again", pending, exc_info=True)
                return

    def _retry_by_itself(self, note):
        """Retry these messages because what they waited for happened (a mapping, a release...)."""
        if self:
            self._requeue(note)

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _cron_purge(self, batch_size=1000, budget_seconds=PURGE_BUDGET_SECONDS):
        """Delete terminal messages past their retention age, a batch at a time, committing as it goes.

        Done and cancelled messages are kept ``integration_base.retention_days``
        (90 by default), dead ones ``integration_base.retention_dead_days``
        (365). Each batch is deleted and committed on a cursor of its own, so
        that a long purge never holds one big transaction, and the run stops
        after ``budget_seconds`` (the next run goes on). Returns how many were
        deleted.
        """
        params = self.env["ir.config_parameter"].sudo()
        now = fields.Datetime.now()
        done_days = int(params.get_param("integration_base.retention_days", 90))
        ages = {
            "done": done_days,
            "cancelled": done_days,
            "dead": int(params.get_param("integration_base.retention_dead_days", 365)),
        }
        self.env.flush_all()
        deadline = time.monotonic() + budget_seconds
        deleted = 0
        for state, days in ages.items():
            date_field = "received_at" if state == "dead" else "finished_at"
            domain = [("state", "=", state), (date_field, "<", now - timedelta(days=days))]
            while time.monotonic() < deadline:
                with self.env.registry.cursor() as cr:
                    old = engine(self.with_env(self.env(cr=cr))).search(domain, limit=batch_size)
                    old.unlink()
                if not old:
                    break
                deleted += len(old)
        self.env.invalidate_all()
        return deleted
