# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, ormcache

from ..exceptions import PayloadValidationError
from ..lib import formats, transports
from ..lib.json_contract import format_errors, parse_schema, validation_errors
from .integration_dispatcher import HEAD_OF_ITS_KEY
from .integration_health_figures import sla_breach_domain

# Problems of a contract's messages, each with one activity for its owner while it lasts.
WAITING_ALERTS = (
    ("exception", "integration_base.mail_activity_type_integration_exception"),
    ("dead", "integration_base.mail_activity_type_integration_dead"),
)


class IntegrationFlow(models.Model):
    """A versioned message contract of a backend.

    A flow says what one kind of message looks like (its JSON Schema), which
    processor applies it, how fast it must be handled (SLA), how often a
    technical failure is retried, and who answers for it. Contracts are
    versioned: a plant can keep sending v1 while v2 is rolled out, until v1's
    sunset date.
    """

    _name = "integration.flow"
    _description = "Integration Flow (message contract)"
    _inherit = [
        "mail.thread",
        "integration.alert.mixin",
        "integration.health.figures",
        "integration.lookup.cache.mixin",
    ]
    # What the webhooks' cached contract lookup reads (see _inbound_contract_ids).
    _lookup_cache_fields = frozenset({"backend_id", "code", "direction", "version", "state", "sunset_date"})
    _order = "backend_id, code, version desc"
    _health_message_field = "flow_id"
    _rec_names_search = ["name", "code"]

    name = fields.Char(
        required=True,
        tracking=True,
        help="The contract as people call it, for example 'Production confirmation'.",
    )
    code = fields.Char(
        required=True,
        tracking=True,
        help="The message type, as it appears in URLs: for example 'production.confirmation'.",
    )
    version = fields.Integer(
        aggregator=None,
        required=True,
        default=1,
        tracking=True,
        help="The version of the contract: a new version with a new schema can run beside the old one "
        "until its sunset.",
    )
    backend_id = fields.Many2one(
        "integration.backend",
        required=True,
        ondelete="cascade",
        index=True,
        help="The backend that exchanges these messages.",
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, help="The company of the backend."
    )
    warehouse_id = fields.Many2one(
        related="backend_id.warehouse_id", store=True, string="Plant", help="The plant of the backend."
    )
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        default="inbound",
        tracking=True,
        help="Inbound: the backend sends these messages to Odoo. Outbound: Odoo sends them to the backend.",
    )
    schema = fields.Text(
        string="JSON Schema",
        default="{}",
        tracking=True,
        help="The JSON Schema (draft 2020-12) every payload of this contract must satisfy.",
    )
    processor = fields.Selection(
        selection="_selection_processor",
        tracking=True,
        help="The code that applies an inbound message to Odoo (provided by a connector module).",
    )
    sync_policy = fields.Selection(
        [("realtime", "Real-time"), ("batch", "Batch")],
        required=True,
        default="realtime",
        tracking=True,
        help="Real-time messages are processed as soon as they arrive; batch messages wait "
        "for the next scheduled run.",
    )
    batch_interval_minutes = fields.Integer(
        aggregator=None,
        string="Batch Every (minutes)",
        default=60,
        tracking=True,
        help="For batch contracts: how often the waiting messages are processed together.",
    )
    next_batch_at = fields.Datetime(
        string="Next Batch Run",
        tracking=True,
        help="When the waiting messages of this batch contract are processed next; empty means now.",
    )
    sla_seconds = fields.Integer(
        aggregator=None,
        string="SLA (seconds)",
        default=300,
        tracking=True,
        help="How long a message may take from arrival to done before it counts as late.",
    )
    retry_max = fields.Integer(
        aggregator=None,
        string="Attempts",
        default=5,
        tracking=True,
        help="How many times a message is tried on technical errors before it is dead.",
    )
    retry_backoff_seconds = fields.Integer(
        aggregator=None,
        string="Backoff (seconds)",
        default=30,
        tracking=True,
        help="Wait before the first retry; each further retry waits twice as long.",
    )
    ordering_key_pointer = fields.Char(
        string="Ordering Key",
        tracking=True,
        help="A JSON pointer into the payload, for example '/order_ref': messages with the "
        "same value are applied in the order received.",
    )
    idempotency_key_pointer = fields.Char(
        string="Idempotency Key",
        tracking=True,
        help="A JSON pointer to the sender's own event id in the payload, for example '/event_id'. "
        "When present it identifies the message; otherwise the webhook-id or Idempotency-Key header "
        "does.",
    )
    deduplicate_by_payload = fields.Boolean(
        string="Same Payload, Same Message",
        tracking=True,
        help="Without an event id or a header key, treat two messages with the same payload as one. "
        "Leave off when equal payloads are distinct events (two equal meter readings, say).",
    )
    owner_id = fields.Many2one(
        "res.users",
        string="Business Owner",
        required=True,
        default=lambda self: self.env.user,
        tracking=True,
        help="The person who resolves this flow's exceptions and is alerted on SLA breaches.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("deprecated", "Deprecated"), ("retired", "Retired")],
        required=True,
        default="draft",
        tracking=True,
        copy=False,
        help="Draft: being written. Active: in force, messages are accepted or sent. Deprecated: still "
        "accepted until its sunset. Retired: refused.",
    )
    sunset_date = fields.Date(
        tracking=True,
        help="A deprecated contract is refused after this date.",
    )
    description = fields.Html(help="What the messages mean for the business, and who sends them when.")
    # Transports and formats (see lib/transports and lib/formats)
    data_format = fields.Selection(
        selection="_selection_data_format",
        string="Format",
        required=True,
        default="json",
        tracking=True,
        help="How the bytes of these messages are written: JSON, CSV, XML (EDI connectors add X12 and "
        "EDIFACT). The contract's schema checks the payload read from them, whatever the format.",
    )
    format_options = fields.Char(
        tracking=True,
        help='Settings of the format, as JSON: for CSV {"delimiter": ";", "split": true, "types": '
        '{"qty": "number"}}, for XML {"root": "order", "lists": ["line"]}.',
    )
    envelope = fields.Selection(
        [
            ("webhook", "Standard Webhooks (type, timestamp, data)"),
            ("cloudevents", "CloudEvents 1.0"),
            ("none", "None: the payload alone"),
        ],
        required=True,
        default="webhook",
        tracking=True,
        help="For outbound contracts: what wraps the payload. CloudEvents carries id, source, type, subject "
        "and dataschema (this contract's published schema).",
    )
    target_url = fields.Char(
        string="Deliver To",
        tracking=True,
        help="For outbound contracts: where to deliver, when not the backend's Outbound URL: "
        "https://..., sftp://user@host/path, file:///path, mqtt://host:1883, amqp://user@host/vhost.",
    )
    topic = fields.Char(
        tracking=True,
        help="For brokers, the topic or routing key; for folders, the file name. Placeholders: {company}, "
        "{site} (the plant's code), {backend}, {flow}, {version}, {key} (the ordering key), {id}. "
        "For example {site}/integration/{flow} on an ISA-95 path.",
    )
    source_url = fields.Char(
        string="Fetch From",
        tracking=True,
        help="For inbound contracts of systems that cannot call Odoo: an API polled on a schedule "
        "(https://...), or a folder watched for files (file:///path, sftp://user@host/path) with in/, "
        "processed/ and error/ sub-folders. Empty: the system calls the webhook.",
    )
    transport_options = fields.Char(
        tracking=True,
        help='Settings of the transport, as JSON: for a polled API {"cursor_param": "since", '
        '"items_pointer": "/items", "next_cursor_pointer": "/next", "id_pointer": "/id"}; for AMQP '
        '{"exchange": "plant-a"}; for SFTP {"host_key": "<base64 key>"}.',
    )
    fetch_interval_minutes = fields.Integer(
        aggregator=None,
        string="Fetch Every (minutes)",
        default=5,
        tracking=True,
        help="How often the source is polled or the folder looked at.",
    )
    next_fetch_at = fields.Datetime(readonly=True, help="When the source is fetched next.")
    fetch_cursor = fields.Char(
        string="Cursor",
        readonly=True,
        copy=False,
        help="Where the last poll stopped, as the API said it: kept with the items it stored, so that a "
        "poll that fails halfway repeats no item and skips none.",
    )
    last_fetch_error = fields.Char(readonly=True, copy=False, help="Why the last fetch failed, if it did.")
    message_count_30d = fields.Integer(
        string="Messages (30 days)",
        compute="_compute_message_count_30d",
        help="How many messages used this version in the last 30 days: who still sends a version whose "
        "sunset you plan.",
    )

    # Reconciliation flows (processors inheriting integration.reconciliation.processor)
    reconciliation_threshold_percent = fields.Float(
        aggregator=None,
        string="Alert Above (%)",
        default=0.0,
        tracking=True,
        help="For reconciliation contracts: the business owner gets a to-do when a line's "
        "difference exceeds this percentage of the larger of the external and Odoo quantities. "
        "0 alerts on any discrepancy.",
    )

    _code_version_unique = models.Constraint(
        "UNIQUE(backend_id, code, direction, version)",
        "This backend already has this version of the contract.",
    )

    def _compute_message_count_30d(self):
        counts = dict(
            self.env["integration.message"]._read_group(
                [
                    ("flow_id", "in", self.ids),
                    ("received_at", ">=", fields.Datetime.now() - timedelta(days=30)),
                ],
                ["flow_id"],
                ["__count"],
            )
        )
        for flow in self:
            flow.message_count_30d = counts.get(flow, 0)

    def action_open_messages_30d(self):
        """The messages of this version in the last 30 days (who still uses it)."""
        self.ensure_one()
        since = fields.Datetime.now() - timedelta(days=30)
        return self._health_action(
            "integration_base.integration_message_action",
            [("flow_id", "=", self.id), ("received_at", ">=", since)],
        )

    @api.model
    def _selection_data_format(self):
        labels = {"json": "JSON", "csv": "CSV", "xml": "XML", "x12": "X12", "edifact": "EDIFACT"}
        return [(name, labels.get(name, name.upper())) for name in formats.names()]

    @api.constrains("target_url", "source_url", "format_options", "transport_options")
    def _check_transport(self):
        for flow in self:
            try:
                if flow.target_url:
                    transports.for_target(flow.target_url)
                if flow.source_url:
                    transports.for_source(flow.source_url)
                flow._json_setting("format_options")
                flow._json_setting("transport_options")
            except ValueError as error:
                raise ValidationError(
                    self.env._("Contract %(flow)s: %(error)s", flow=flow.display_name, error=error)
                ) from error

    def _transport_settings(self, with_secrets=True):
        """What this contract's transport needs besides the bytes: secrets, settings, timeouts.

        The same for deliveries (``Outgoing``) and fetches (``Source``);
        secrets are decrypted only when the transport needs them.
        """
        self.ensure_one()
        backend = self.backend_id
        return {
            "secrets": backend._transport_secrets() if with_secrets else {},
            "options": {**self._json_setting("transport_options"), "oauth": backend._oauth_options()},
            "connect_timeout": backend.connect_timeout,
            "read_timeout": backend.read_timeout,
        }

    def _published_schema_url(self):
        """Where the backend's system reads this contract version's schema (the webhooks' server)."""
        self.ensure_one()
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        return f"{base}/integration/v1/{self.backend_id.code}/schemas/{self.code}/v{self.version}.json"

    def _json_setting(self, field_name):
        """The JSON object of a settings field (empty when unset); ``ValueError`` in words if not one."""
        text = self[field_name]
        try:
            value = json.loads(text) if text else {}
        except ValueError as error:
            raise ValueError(f"{self._fields[field_name].string} is not valid JSON: {error}") from error
        if not isinstance(value, dict):
            raise ValueError(f"{self._fields[field_name].string} must be a JSON object")
        return value

    @api.model
    def _selection_processor(self):
        """Every processor model that installed connectors provide."""
        return sorted(
            (name, model._description)
            for name, model in self.env.registry.items()
            if name.startswith("integration.processor.") and not model._transient
        )

    @api.constrains("schema")
    def _check_schema(self):
        for flow in self:
            try:
                parse_schema(flow.schema)
            except ValueError as error:
                raise ValidationError(
                    self.env._("Contract %(flow)s: %(error)s", flow=flow.display_name, error=error)
                ) from error

    @api.constrains("ordering_key_pointer", "idempotency_key_pointer")
    def _check_pointers(self):
        for flow in self:
            for pointer in (flow.ordering_key_pointer, flow.idempotency_key_pointer):
                if pointer and not pointer.startswith("/"):
                    raise ValidationError(
                        self.env._("'%s' is not a JSON pointer: it must look like '/order_ref'.", pointer)
                    )

    @api.depends("code", "version", "direction")
    def _compute_display_name(self):
        directions = dict(self._fields["direction"]._description_selection(self.env))
        for flow in self:
            flow.display_name = (
                f"{flow.code} v{flow.version} ({directions.get(flow.direction, '')})" if flow.code else ""
            )

    @api.constrains("reconciliation_threshold_percent", "retry_max", "retry_backoff_seconds", "sla_seconds")
    def _check_non_negative(self):
        for flow in self:
            if (
                min(
                    flow.reconciliation_threshold_percent,
                    flow.retry_max,
                    flow.retry_backoff_seconds,
                    flow.sla_seconds,
                )
                < 0
            ):
                raise ValidationError(
                    self.env._(
                        "Contract %s: thresholds, attempts, backoff and SLA cannot be negative.",
                        flow.display_name,
                    )
                )

    @api.constrains("sync_policy", "batch_interval_minutes")
    def _check_batch_interval(self):
        for flow in self:
            if flow.sync_policy == "batch" and flow.batch_interval_minutes <= 0:
                raise ValidationError(self.env._("A batch contract needs a positive interval between runs."))

    def _get_schema(self):
        """The parsed JSON Schema of this contract."""
        self.ensure_one()
        return parse_schema(self.schema)

    def _validation_errors(self, payload):
        """Every way ``payload`` breaks this contract, by JSON pointer (validator compiled once).

        Envelope facts (``#envelope``: the control numbers of an EDI
        interchange, see ``lib/formats``) travel beside the business data and
        are not the contract's: the schema checks the payload without them.
        """
        self.ensure_one()
        try:
            business, _envelope = (
                formats.split_envelope(payload) if isinstance(payload, dict) else (payload, {})
            )
        except formats.FormatError as error:
            return [(f"/{formats.ENVELOPE_KEY}", error.reason)]
        return validation_errors(business, self.schema or "{}")

    def _check_payload(self, payload):
        """Raise :class:`PayloadValidationError` listing every violation of this contract."""
        errors = self._validation_errors(payload)
        if errors:
            raise PayloadValidationError(
                self.env._(
                    "The %(flow)s payload breaks its contract:\n%(errors)s",
                    flow=self.display_name,
                    errors=format_errors(errors),
                ),
                errors,
            )

    @api.model
    @ormcache("backend_id", "code", "day", "version")
    def _inbound_contract_ids(self, backend_id, code, day, version=0):
        """``(id of the contract version asked for or else the newest, id of the one in force or 0)``.

        With ``version`` (0: none asked), the version in force is that one,
        if it is in force. The first id is 0 when the backend has no such
        contract (or version). Every webhook call asks this: it is kept in
        each worker's cache until a contract is created, deleted, or changes
        what the lookup reads (``_lookup_cache_fields``). Ids only, for the
        webhook (which reads as superuser) to browse.
        """
        domain = [("backend_id", "=", backend_id), ("code", "=", code), ("direction", "=", "inbound")]
        if version:
            domain.append(("version", "=", version))
        flows = self.sudo().search(domain, order="version desc")
        return flows[:1].id, flows._in_force(day)[:1].id

    def _not_in_force_reason(self, day=None):
        """Why this contract version takes no message on ``day``, in words for the sender."""
        self.ensure_one()
        day = day or fields.Date.context_today(self)
        if self.state == "deprecated" and self.sunset_date and day > self.sunset_date:
            return self.env._(
                "version %(version)s of %(code)s reached its sunset on %(date)s and is refused since",
                version=self.version,
                code=self.code,
                date=fields.Date.to_string(self.sunset_date),
            )
        if self.state == "retired":
            return self.env._(
                "version %(version)s of %(code)s is retired", version=self.version, code=self.code
            )
        return self.env._(
            "version %(version)s of %(code)s is not in force yet (draft)",
            version=self.version,
            code=self.code,
        )

    @api.model
    def _contract_in_force(self, backend, flow_code, direction, version=None):
        """The contract version in force for ``flow_code`` on ``backend`` (newest, or ``version``)."""
        domain = [("backend_id", "=", backend.id), ("code", "=", flow_code), ("direction", "=", direction)]
        if version is not None:
            domain.append(("version", "=", int(version)))
        flows = self.search(domain, order="version desc")
        flow = flows._in_force()[:1]
        if flow:
            return flow
        raise UserError(
            self.env._(
                "Backend %(backend)s has no %(direction)s contract '%(code)s'%(version)s in force%(why)s.",
                backend=backend.display_name,
                direction=direction,
                code=flow_code,
                version=f" v{version}" if version is not None else "",
                why=f": {flows[0]._not_in_force_reason()}" if flows else "",
            )
        )

    def _get_processor(self):
        """The processor model that applies (inbound) or delivers (outbound) this flow's messages.

        An outbound contract without a processor of its own is POSTed as it is.
        """
        self.ensure_one()
        if not self.processor and self.direction == "outbound":
            return self.env["integration.processor"]
        if not self.processor or self.processor not in self.env:
            raise UserError(
                self.env._("Contract %s has no processor: choose one on the flow.", self.display_name)
            )
        return self.env[self.processor]

    def _in_force(self, day=None):
        """The contracts among these that take messages on ``day`` (today by default):

        active ones, and deprecated ones until their sunset date.
        """
        day = day or fields.Date.context_today(self)
        return self.filtered(
            lambda flow: flow.state == "active"
            or (flow.state == "deprecated" and (not flow.sunset_date or day <= flow.sunset_date))
        )

    # ------------------------------------------------------------------
    # Alerting: one activity per problem, for the contract's owner
    # ------------------------------------------------------------------

    @api.model
    def _cron_check_health(self):
        """Tell each contract's owner about late and stuck messages, once per problem.

        A problem is "messages of this contract are past their SLA" or
        "messages of this contract are stuck" (processing or queued for longer
        than ``integration_base.stuck_minutes``). Each gets one activity on the
        contract, kept up to date while the problem lasts and marked done when
        it is gone, so that a hundred late messages make one to-do, not a
        hundred.
        """
        now = fields.Datetime.now()
        stuck_minutes = int(
            self.env["ir.config_parameter"].sudo().get_param("integration_base.stuck_minutes", 30)
        )
        stuck_before = now - timedelta(minutes=stuck_minutes)
        Message = self.env["integration.message"]
        for flow in self.search([("state", "in", ("active", "deprecated"))]):
            late = (
                Message.search_count(
                    [
                        ("flow_id", "=", flow.id),
                        ("state", "not in", ("done", "cancelled")),
                        ("received_at", "<", now - timedelta(seconds=flow.sla_seconds)),
                    ]
                )
                if flow.sla_seconds > 0
                else 0
            )
            stuck = flow._count_stuck(stuck_before)
            flow._alert(
                "integration_base.mail_activity_type_integration_sla",
                late,
                self.env._(
                    "%(count)s message(s) of %(flow)s are past their SLA of %(sla)s s.",
                    count=late,
                    flow=flow.display_name,
                    sla=flow.sla_seconds,
                ),
            )
            flow._alert(
                "integration_base.mail_activity_type_integration_stuck",
                stuck,
                self.env._(
                    "%(count)s message(s) of %(flow)s have not moved for %(minutes)s minutes: is the job "
                    "runner running?",
                    count=stuck,
                    flow=flow.display_name,
                    minutes=stuck_minutes,
                ),
            )
            flow._alert_waiting_messages()

    def _count_stuck(self, before):
        """Messages of this contract that should have moved since ``before`` and did not.

        Processing for that long, or queued for that long with nothing ahead of
        them: a message held behind an earlier one of its key is waiting for
        that one (which has its own alert), not stuck.
        """
        self.ensure_one()
        self.env["integration.message"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT count(*) FROM integration_message m
                    WHERE m.flow_id = %(flow)s
                      AND ((m.state = 'processing' AND m.started_at < %(before)s)
                           OR (m.state = 'queued' AND m.write_date < %(before)s AND %(head_of_its_key)s))""",
                flow=self.id,
                before=before,
                head_of_its_key=SQL(HEAD_OF_ITS_KEY),
            )
        )
        return self.env.cr.fetchone()[0]

    def _alert_waiting_messages(self):
        """Keep the owner's activities on exceptions and dead messages of these contracts up to date.

        One activity per contract and problem, whatever the number of
        messages, with the most frequent reasons in its note; closed by itself
        once no message is waiting any more.
        """
        Message = self.env["integration.message"].sudo()
        for flow in self.sudo():
            for state, activity_type in WAITING_ALERTS:
                reasons = Message._read_group(
                    [("flow_id", "=", flow.id), ("state", "=", state)], ["error_message"], ["__count"]
                )
                count = sum(number for _reason, number in reasons)
                top = sorted(reasons, key=lambda row: -row[1])[:3]
                note = self.env._(
                    "%(count)s message(s) of %(flow)s are %(state)s and wait for someone. "
                    "Most frequent: %(top)s",
                    count=count,
                    flow=flow.display_name,
                    state=state,
                    top="; ".join(f"{number} x {(reason or '')[:150]}" for reason, number in top),
                )
                flow._alert(activity_type, count, note)

    def _alert(self, activity_type_xmlid, count, note):
        """Keep one open activity of this type while ``count`` is positive; close it when it drops to 0."""
        self._keep_alert(
            activity_type_xmlid,
            self.owner_id,
            {"note": note} if count else {},
            self.env._("Resolved: no message is affected any more."),
        )

    def action_open_sla_breaches(self):
        """The messages behind the SLA breach figure: done late in the last day, or waiting past the SLA."""
        self.ensure_one()
        domain = sla_breach_domain(self.sla_seconds, fields.Datetime.now())
        return self._health_action("integration_base.integration_message_action", domain)

    def action_activate(self):
        """Put contracts in force. Only integration managers may, as it changes what plants may send."""
        if not self.env.user.has_group("integration_base.group_integration_manager"):
            raise AccessError(self.env._("Only an Integration Manager can activate a contract."))
        for flow in self:
            flow._get_schema()
            if flow.direction == "inbound" and not flow.processor:
                raise UserError(
                    self.env._("Contract %s needs a processor before it can be activated.", flow.display_name)
                )
        self.write({"state": "active"})
        return True

    def action_deprecate(self):
        """Keep accepting this version until its sunset date, while senders move to a newer one."""
        self.write({"state": "deprecated"})
        return True

    def action_retire(self):
        """Refuse any further message for this version."""
        self.write({"state": "retired"})
        return True

    def action_reset_to_draft(self):
        self.write({"state": "draft"})
        return True
