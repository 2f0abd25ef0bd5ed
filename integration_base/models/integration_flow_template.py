# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib.json_contract import parse_schema

# What a contract takes from its template; the rest (backend, owner, state) is the backend's.
TEMPLATE_FIELDS = (
    "name",
    "code",
    "version",
    "direction",
    "schema",
    "processor",
    "sync_policy",
    "sla_seconds",
    "retry_max",
    "retry_backoff_seconds",
    "ordering_key_pointer",
    "idempotency_key_pointer",
    "deduplicate_by_payload",
    "sunset_date",
    "description",
    "data_format",
    "envelope",
    "topic",
)


class IntegrationFlowTemplate(models.Model):
    """A contract a connector offers for one kind of system, declared in its ``data/``.

    A connector ships its contracts as templates (code, version, schema,
    processor, keys, SLA); *Add Contracts* on a backend copies those of its
    system type and contract family that it lacks as drafts, for a manager to review and activate.
    So a connector needs no Python to offer its contracts, and a new version
    of a contract is a new template record.
    """

    _name = "integration.flow.template"
    _description = "Integration Contract Template"
    _order = "system_type, family, code, version desc"

    name = fields.Char(required=True, translate=True, help="The contract as people call it.")
    code = fields.Char(required=True, help="The message type, for example 'mes.production_confirmation'.")
    version = fields.Integer(aggregator=None, required=True, default=1, help="The version of the contract.")
    system_type = fields.Selection(
        selection=lambda self: self.env["integration.backend"]._fields["system_type"].selection,
        required=True,
        help="The kind of system that exchanges these messages: Add Contracts offers the template to "
        "backends of this type.",
    )
    family = fields.Selection(
        selection=lambda self: self.env["integration.backend"]._fields["contract_family"].selection,
        string="Contract Family",
        required=True,
        default="standard",
        help="The family of contracts this template belongs to (the connector's own standard JSON, or "
        "an industry standard a connector adds): Add Contracts offers it to backends of that family.",
    )
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        default="inbound",
        help="Inbound: the system sends these messages to Odoo. Outbound: Odoo sends them to the system.",
    )
    schema = fields.Text(
        string="JSON Schema", required=True, default="{}", help="The JSON Schema every payload must satisfy."
    )
    processor = fields.Char(
        help="The technical name of the processor that applies (inbound) or builds (outbound) the "
        "messages, for example 'integration.processor.mes.downtime'.",
    )
    sync_policy = fields.Selection(
        [("realtime", "Real-time"), ("batch", "Batch")],
        required=True,
        default="realtime",
        help="Real-time messages are processed as they arrive; batch ones at each run.",
    )
    sla_seconds = fields.Integer(
        aggregator=None, string="SLA (seconds)", default=300, help="Arrival to done."
    )
    retry_max = fields.Integer(
        aggregator=None, string="Attempts", default=5, help="Tries on technical errors."
    )
    retry_backoff_seconds = fields.Integer(
        aggregator=None, string="Backoff (seconds)", default=30, help="Wait before the first retry."
    )
    ordering_key_pointer = fields.Char(
        string="Ordering Key", help="JSON pointer of the value whose messages are applied in order."
    )
    idempotency_key_pointer = fields.Char(
        string="Idempotency Key", help="JSON pointer of the sender's own event id."
    )
    deduplicate_by_payload = fields.Boolean(
        string="Same Payload, Same Message", help="Treat two messages with the same payload as one."
    )
    sunset_date = fields.Date(
        help="The day after which this version is refused: contracts added from it keep this date."
    )
    description = fields.Html(help="What the messages mean for the business, and who sends them when.")
    data_format = fields.Selection(
        selection=lambda self: self.env["integration.flow"]._selection_data_format(),
        string="Format",
        required=True,
        default="json",
        help="How the bytes of these messages are written (JSON, CSV, XML, X12, EDIFACT...).",
    )
    envelope = fields.Selection(
        selection=lambda self: self.env["integration.flow"]._fields["envelope"].selection,
        required=True,
        default="webhook",
        help="For outbound contracts: what wraps the payload (none for EDI interchanges, which are "
        "their own envelope).",
    )
    topic = fields.Char(
        help="For brokers the topic, for folders the file name of the contracts made from it; see the "
        "contract's own field for the placeholders.",
    )
    active = fields.Boolean(default=True, help="Archive a template to stop offering it.")

    _code_version_unique = models.Constraint(
        "UNIQUE(system_type, family, code, direction, version)",
        "A template of this contract version already exists for this kind of system and family.",
    )

    @api.constrains("schema")
    def _check_schema(self):
        for template in self:
            try:
                parse_schema(template.schema)
            except ValueError as error:
                raise ValidationError(
                    self.env._("Contract template %(code)s: %(error)s", code=template.code, error=error)
                ) from error

    def _flow_values(self, backend):
        """The values of the draft contract of ``backend`` made from this template."""
        self.ensure_one()
        values = {name: self[name] for name in TEMPLATE_FIELDS}
        if values["processor"] not in self.env:
            values["processor"] = False
        return {**values, "backend_id": backend.id, "owner_id": backend.owner_id.id}
