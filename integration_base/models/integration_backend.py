# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import ormcache

from ..exceptions import IntegrationBusinessError
from ..lib import transports
from ..lib.webhook_signature import signature
from .integration_message import UNSETTLED_STATES

BACKEND_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")

# Context key: the backend whose message the engine is applying. Events it causes are not sent
# back to that backend (it knows already: it said so).
ORIGIN_BACKEND_KEY = "integration_origin_backend_id"

# Systems that run inside one plant; an EDI partner or a generic system does not.
PLANT_BOUND_SYSTEM_TYPES = ("mes", "cmms", "wms")


class IntegrationBackend(models.Model):
    """One external system at one plant (or one trading partner).

    A backend is the unit of governance of the integration layer: it names the
    person who owns the connection, the plant whose data flows through it and
    its lifecycle state, and it is the scope of messages, contracts, mappings
    and credentials. Its ``code`` appears in webhook URLs, so it is short,
    stable and URL-safe.
    """

    _name = "integration.backend"
    _description = "Integration Backend"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "integration.health.figures",
        "integration.lookup.cache.mixin",
    ]
    _lookup_cache_fields = frozenset({"code", "active"})  # see _id_for_code
    _order = "name"
    _health_message_field = "backend_id"
    # A backend of one company never points at another company's plant (the technical user
    # and the owner are people, who may serve several companies: not checked).
    _check_company_auto = True

    name = fields.Char(
        required=True, tracking=True, help="The system as people call it, for example 'Plant A MES'."
    )
    code = fields.Char(
        required=True,
        tracking=True,
        help="Short identifier used in webhook URLs, for example 'plant-a-mes'. "
        "Lower-case letters, digits, '-' and '_'; unique across all companies.",
    )
    system_type = fields.Selection(
        [
            ("mes", "MES"),
            ("cmms", "CMMS"),
            ("wms", "WMS"),
            ("edi", "EDI partner"),
            ("generic", "Generic"),
        ],
        required=True,
        default="generic",
        tracking=True,
        help="The kind of external system. MES, CMMS and WMS systems run at one plant.",
    )
    contract_family = fields.Selection(
        [("standard", "Standard JSON")],
        required=True,
        default="standard",
        tracking=True,
        help="The family of contracts the system speaks: Add Contracts offers the templates of this "
        "family. Standard JSON: the connector's own simple contracts; connectors add industry standards "
        "(ISA-95 / B2MML for an MES, ASC X12 or UN/EDIFACT for an EDI partner, where the family is the "
        "partner's standard). Changing it later adds the new family's contracts beside those already "
        "there, which stay until you retire them.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
        help="The company whose records the backend's messages create and change.",
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Plant",
        tracking=True,
        check_company=True,
        help="The plant whose data flows through this backend.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        tracking=True,
        check_company=True,
        domain="[('is_company', '=', True)]",
        help="The company this backend stands for, for example a trading partner: it then hears only of "
        "the records of that partner (and its contacts) whose event says where their partner is.",
    )
    environment = fields.Selection(
        [("dev", "Development"), ("test", "Test"), ("prod", "Production")],
        required=True,
        default="test",
        tracking=True,
        help="Which installation of the external system this backend talks to: messages of a test system "
        "never reach production records.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("suspended", "Suspended")],
        required=True,
        default="draft",
        tracking=True,
        copy=False,
        help="Only active backends exchange messages; a suspended backend refuses "
        "inbound calls and holds its outbound messages.",
    )
    owner_id = fields.Many2one(
        "res.users",
        required=True,
        default=lambda self: self.env.user,
        tracking=True,
        help="The person accountable for this connection, who is alerted when it fails.",
    )
    active = fields.Boolean(
        default=True, tracking=True, help="Archive a backend that is no longer used: its messages are kept."
    )
    note = fields.Html(help="What the system is, who runs it and how to reach them.")
    auth_method = fields.Selection(
        [("hmac", "HMAC signature"), ("token", "Bearer token")],
        string="Inbound Authentication",
        required=True,
        default="hmac",
        tracking=True,
        help="How the system proves who it is when it calls Odoo: signed requests (HMAC key) or an "
        "API token, both kept in the backend's credentials.",
    )
    signature_tolerance_seconds = fields.Integer(
        aggregator=None,
        string="Signature Tolerance (s)",
        default=300,
        tracking=True,
        help="Signed calls whose timestamp is further than this from now are refused.",
    )
    max_body_bytes = fields.Integer(
        aggregator=None,
        string="Max Body (bytes)",
        default=1024 * 1024,
        tracking=True,
        help="Inbound calls with a larger body are refused with HTTP 413.",
    )
    outbound_url = fields.Char(
        string="Outbound URL",
        tracking=True,
        help="Where outbound messages are delivered; its scheme chooses the transport: "
        "https://mes.plant-a.example/api (a signed webhook), sftp://odoo@edi.example/outbox or "
        "file:///srv/exchange/out (a folder), mqtt://broker:1883 or amqp://odoo@broker/plant-a (a broker). "
        "A contract may deliver elsewhere (its Deliver To).",
    )
    oauth_token_url = fields.Char(
        string="OAuth Token URL",
        tracking=True,
        help="For systems that want an OAuth 2.0 access token (client credentials): where Odoo asks for "
        "it. The client secret is a credential of the backend.",
    )
    oauth_client_id = fields.Char(
        string="OAuth Client ID", tracking=True, help="Odoo's client id at that system."
    )
    oauth_scope = fields.Char(string="OAuth Scope", tracking=True, help="The scope Odoo asks for, if any.")
    connect_timeout = fields.Float(
        string="Connect Timeout (s)",
        aggregator=None,
        default=5.0,
        tracking=True,
        help="Seconds to wait for the connection when delivering a message.",
    )
    read_timeout = fields.Float(
        string="Read Timeout (s)",
        aggregator=None,
        default=30.0,
        tracking=True,
        help="Seconds to wait for the answer when delivering a message.",
    )
    rate_limit_per_minute = fields.Integer(
        aggregator=None,
        string="Rate Limit (per minute)",
        default=600,
        tracking=True,
        help="Inbound calls accepted per minute before the system is asked to slow down. 0: no limit.",
    )
    dispatch_jobs = fields.Integer(
        aggregator=None,
        string="Parallel Dispatch Jobs",
        default=2,
        tracking=True,
        help="How many jobs may apply or deliver this backend's messages at once while a backlog "
        "waits. Messages of one ordering key still go one at a time, in order. More than the job "
        "runner's capacity (queue_job channels) adds nothing.",
    )
    technical_user_id = fields.Many2one(
        "res.users",
        required=True,
        default=lambda self: self.env.ref(
            "integration_base.user_integration_engine", raise_if_not_found=False
        ),
        tracking=True,
        help="The user the engine acts as when it applies this backend's messages: the records they "
        "create or change name it in their audit trail. It acts with full rights, within the backend's "
        "company.",
    )
    flow_ids = fields.One2many(
        "integration.flow",
        "backend_id",
        string="Flows",
        help="The message contracts this backend exchanges, every version.",
    )
    credential_ids = fields.One2many(
        "integration.credential",
        "backend_id",
        string="Credentials",
        groups="integration_base.group_integration_manager",  # those who may read credentials
        help="The keys and tokens of the backend, encrypted at rest and never shown again (managers only).",
    )
    pending_count = fields.Integer(
        string="Queued or Processing",
        compute="_compute_message_counts",
        help="Messages on their way: received, queued or processing.",
    )
    exception_count = fields.Integer(
        compute="_compute_message_counts",
        help="Messages waiting for a person to act: in exception, or dead after their retries.",
    )
    failed_count = fields.Integer(
        string="Retrying",
        compute="_compute_message_counts",
        help="Messages that failed for a technical reason and retry by themselves at the time shown.",
    )
    done_count = fields.Integer(
        string="Done (24 h)", compute="_compute_message_counts", help="Messages done in the last 24 hours."
    )

    configuration_warning = fields.Text(
        compute="_compute_configuration_warning",
        help="What is missing for the backend to work both ways, in words: shown on its form.",
    )

    _code_unique = models.Constraint(
        "UNIQUE(code)",
        "Another backend already uses this code: backend codes appear in URLs and must be unique.",
    )

    def init(self):
        # Calls per minute of each backend ("backend:<id>") and failed calls of each client
        # address ("anonymous:<address>"), counted outside the ORM on a cursor of their own.
        self.env.cr.execute("DROP TABLE IF EXISTS integration_backend_rate")
        self.env.cr.execute(
            """CREATE TABLE IF NOT EXISTS integration_rate_window (
                   bucket varchar NOT NULL,
                   window_start bigint NOT NULL,
                   hits integer NOT NULL,
                   PRIMARY KEY (bucket, window_start))"""
        )

    @api.depends("state", "outbound_url", "auth_method", "flow_ids.direction", "flow_ids.state")
    def _compute_configuration_warning(self):
        """Say what an administrator forgot before a plant finds out (messages parked, calls refused).

        Credentials are read with sudo: everyone who sees the backend may learn
        that a key is missing, never what a key is.
        """
        kinds = dict(self.env["integration.credential"]._fields["kind"]._description_selection(self.env))
        for backend in self:
            problems = []
            outbound = backend.flow_ids.filtered(lambda f: f.direction == "outbound" and f.state == "active")
            if outbound and not backend.outbound_url:
                problems.append(
                    self.env._(
                        "%(count)s outbound contract(s) are active but there is no Outbound URL: their "
                        "messages wait in exception until you set one.",
                        count=len(outbound),
                    )
                )
            inbound_keys = backend.sudo().credential_ids.filtered(
                lambda c, b=backend: c.kind == b.auth_method
                and c.usage in ("inbound", "both")
                and c.has_secret
            )
            if not inbound_keys:
                problems.append(
                    self.env._(
                        "No %(kind)s credential for inbound calls: the plant system's calls are refused "
                        "until a manager adds one (Credentials tab).",
                        kind=kinds.get(backend.auth_method, backend.auth_method),
                    )
                )
            backend.configuration_warning = "\n".join(problems) or False

    def _compute_message_counts(self):
        """Counts of the messages that are not over yet, and of those done in the last 24 hours.

        Never a count of all history: a plant's store holds millions of done
        messages, and counting them would cost every kanban card a scan.
        """
        Message = self.env["integration.message"]
        counts = {
            (backend.id, state): count
            for backend, state, count in Message._read_group(
                [("backend_id", "in", self.ids), ("state", "in", UNSETTLED_STATES)],
                ["backend_id", "state"],
                ["__count"],
            )
        }
        done = dict(Message._read_group(self._done_today_domain(), ["backend_id"], ["__count"]))
        for backend in self:

            def count(*states, backend_id=backend.id):
                return sum(counts.get((backend_id, state), 0) for state in states)

            backend.pending_count = count("received", "queued", "processing")
            # The same words as everywhere: exceptions wait for a person (dead ones too),
            # failed ones retry by themselves.
            backend.exception_count = count("exception", "dead")
            backend.failed_count = count("failed")
            backend.done_count = done.get(backend, 0)

    def _done_today_domain(self):
        """The backends' messages done in the last 24 hours (the figure and the list it opens)."""
        since = fields.Datetime.now() - timedelta(hours=24)
        return [("backend_id", "in", self.ids), ("state", "=", "done"), ("finished_at", ">=", since)]

    @api.model
    @ormcache("code")
    def _id_for_code(self, code):
        """The id of the active backend with ``code`` (0 if none), as each webhook call looks it up.

        Kept in each worker's cache until a backend is created, deleted,
        renamed or archived.
        """
        return self.sudo().search([("code", "=", code)], limit=1).id

    def action_open_messages(self):
        """The backend's messages, filtered by the button that was clicked."""
        self.ensure_one()
        self.check_access("read")  # a method is callable by anyone over RPC: no read, no action
        action = self.env["ir.actions.act_window"]._for_xml_id("integration_base.integration_message_action")
        action["domain"] = [("backend_id", "=", self.id)]
        search_filter = self.env.context.get("integration_filter")
        if search_filter == "done_today":
            action["domain"] = self._done_today_domain()
            search_filter = None
        action["context"] = {f"search_default_{search_filter}": 1} if search_filter else {}
        return action

    @api.constrains("connect_timeout", "read_timeout", "rate_limit_per_minute", "dispatch_jobs")
    def _check_limits(self):
        for backend in self:
            if backend.connect_timeout <= 0 or backend.read_timeout <= 0:
                raise ValidationError(self.env._("Timeouts of backend %s must be positive.", backend.name))
            if backend.rate_limit_per_minute < 0:
                raise ValidationError(
                    self.env._("The rate limit of backend %s cannot be negative.", backend.name)
                )
            if backend.dispatch_jobs < 1:
                raise ValidationError(self.env._("Backend %s needs at least one dispatch job.", backend.name))

    @api.constrains("outbound_url")
    def _check_outbound_url(self):
        for backend in self.filtered("outbound_url"):
            try:
                transports.for_target(backend.outbound_url)
            except ValueError as error:
                raise ValidationError(
                    self.env._("Outbound URL of %(backend)s: %(error)s", backend=backend.name, error=error)
                ) from error

    @api.constrains("code")
    def _check_code(self):
        for backend in self:
            if not BACKEND_CODE_PATTERN.match(backend.code or ""):
                raise ValidationError(
                    self.env._(
                        "Backend code '%(code)s' is not valid: use 2 to 63 lower-case "
                        "letters, digits, '-' or '_', starting with a letter or digit.",
                        code=backend.code,
                    )
                )

    @api.constrains("system_type", "warehouse_id")
    def _check_plant(self):
        for backend in self:
            if backend._is_plant_bound() and not backend.warehouse_id:
                raise ValidationError(
                    self.env._(
                        "Backend '%(name)s' is a %(type)s, which runs at one plant: choose its plant.",
                        name=backend.name,
                        type=dict(self._fields["system_type"].selection)[backend.system_type],
                    )
                )

    def _is_plant_bound(self):
        """Whether this backend's system runs at a single plant and so needs one."""
        self.ensure_one()
        return self.system_type in PLANT_BOUND_SYSTEM_TYPES

    def ingest(self, flow_code, payload, idempotency_key=None, correlation_id=None, version=None):
        """External API: accept an inbound message for this backend.

        For systems that talk to Odoo's JSON-RPC or XML-RPC API instead of the
        webhooks. The caller must be an Integration Operator allowed to see
        this backend. Returns ``{"message_id", "state", "duplicate"}``; a
        payload that breaks its contract raises an error listing every
        violation by JSON pointer.
        """
        self.ensure_one()
        if not self.env.user.has_group("integration_base.group_integration_operator"):
            raise AccessError(self.env._("Only Integration Operators can submit messages."))
        self.check_access("read")
        message, created = (
            self.env["integration.message"]
            .sudo()
            ._ingest(
                self.sudo(),
                flow_code,
                payload,
                idempotency_key=idempotency_key,
                correlation_id=correlation_id,
                version=version,
            )
        )
        return {"message_id": message.id, "state": message.state, "duplicate": not created}

    def action_add_contracts(self):
        """Add the contracts offered for this kind of system and family that the backend lacks, as drafts.

        Connectors declare their contracts as templates in data
        (``integration.flow.template``); a manager reviews the drafts and
        activates them. Existing versions are left alone.
        """
        self.ensure_one()
        self.env["integration.flow"].check_access("create")
        Flow = self.env["integration.flow"]
        existing = {
            (flow.code, flow.direction, flow.version)
            for flow in self.with_context(active_test=False).flow_ids
        }
        templates = self.env["integration.flow.template"].search(
            [("system_type", "=", self.system_type), ("family", "=", self.contract_family)]
        )
        new = templates.filtered(lambda t: (t.code, t.direction, t.version) not in existing)
        flows = Flow.create([template._flow_values(self) for template in new])
        if flows:
            self.message_post(
                body=self.env._("Contracts added as drafts: %s", ", ".join(flows.mapped("display_name")))
            )
        action = self.env["ir.actions.act_window"]._for_xml_id("integration_base.integration_flow_action")
        action["domain"] = [("backend_id", "=", self.id)]
        # Every contract of the backend, the drafts just added among them: not the action's
        # default filter, which shows only those in force.
        action["context"] = {"default_backend_id": self.id}
        if not templates:
            action["help"] = self.env._(
                "<p>No connector offers contracts for this kind of system: install its connector, or "
                "write the contracts here.</p>"
            )
        return action

    def _get_credential(self, kind, direction):
        """The backend's credential of ``kind`` for ``direction`` ('inbound' or 'outbound').

        The one for that direction alone when it holds a secret, else the one
        for both directions (empty if neither): a backend with one shared key
        works as before, and a key of its own for one direction takes over
        that direction only.
        """
        self.ensure_one()
        usable = self.credential_ids.filtered(lambda c: c.kind == kind and c.has_secret)
        return (
            usable.filtered(lambda c: c.usage == direction)[:1]
            or usable.filtered(lambda c: c.usage == "both")[:1]
        )

    def _transport_secrets(self):
        """The decrypted secrets Odoo's own calls to this system may need, by kind (never logged)."""
        self.ensure_one()
        secrets = {}
        for kind in ("password", "private_key", "token", "client_secret"):
            credential = self._get_credential(kind, "outbound")
            if credential:
                secrets[kind] = credential._get_secret()
        return secrets

    def _oauth_options(self):
        """What the transports need to get an OAuth access token, or ``{}`` when the system wants none."""
        self.ensure_one()
        if not self.oauth_token_url:
            return {}
        return {
            "token_url": self.oauth_token_url,
            "client_id": self.oauth_client_id,
            "scope": self.oauth_scope,
        }

    def _outbound_headers(self, webhook_id, timestamp, body):
        """The headers of a delivery to this backend: Standard Webhooks signed, or a bearer token.

        The backend's authentication method applies both ways, each with its
        outbound credential (see :meth:`_get_credential`).
        """
        self.ensure_one()
        kind = self.auth_method
        credential = self._get_credential(kind, "outbound")
        if not credential:
            raise IntegrationBusinessError(
                self.env._(
                    "Backend %(backend)s has no %(kind)s credential to deliver with.",
                    backend=self.display_name,
                    kind=kind,
                )
            )
        headers = {
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
        }
        if kind == "hmac":
            headers["webhook-signature"] = signature(credential._get_secret(), webhook_id, timestamp, body)
        else:
            headers["Authorization"] = f"Bearer {credential._get_secret()}"
        return headers

    def _engine_env(self, cr):
        """The environment in which the engine applies this backend's messages on cursor ``cr``.

        The backend's technical user, with full rights (authorisation happened
        when the message was accepted), in the backend's company; what it
        changes is not announced back to this backend.
        """
        self.ensure_one()
        user = self.technical_user_id
        context = {
            "allowed_company_ids": [self.company_id.id],
            "lang": user.lang or "en_US",
            "tz": user.tz,
            ORIGIN_BACKEND_KEY: self.id,
        }
        return self.env(cr=cr, user=user.id, context=context, su=True)

    def _queue_channel(self):
        """The job channel of this backend: one per backend, under ``root.integration``."""
        self.ensure_one()
        return f"root.integration.{self.code}"

    def action_activate(self):
        """Put the backends in service; they then accept and send messages."""
        for backend in self:
            if backend.state == "active":
                raise UserError(self.env._("Backend '%s' is already active.", backend.name))
        self.write({"state": "active"})
        # Messages kept while the backend was out of service go on.
        self.env["integration.dispatcher"]._schedule(self)
        return True

    def action_suspend(self):
        """Take the backends out of service without losing their messages."""
        self.filtered(lambda b: b.state == "active").write({"state": "suspended"})
        return True

    def action_reset_to_draft(self):
        """Send suspended backends back to draft, to rework their configuration."""
        self.write({"state": "draft"})
        return True
