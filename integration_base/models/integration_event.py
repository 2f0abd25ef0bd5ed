# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import uuid

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .integration_backend import BACKEND_CODE_PATTERN


class IntegrationEvent(models.Model):
    """A business event that connectors announce and subscriptions turn into outbound messages.

    A connector declares its events in data (for example "a manufacturing
    order was confirmed") and calls :meth:`_publish` where they happen. Which
    backends hear of them, through which contract, is configuration: the
    event's subscriptions. So a connector never decides where its messages go.
    """

    _name = "integration.event"
    _description = "Integration Event"
    _order = "code"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Identifies the event in code, for example 'mrp.production.confirmed'.",
    )
    model_id = fields.Many2one(
        "ir.model",
        string="Model",
        required=True,
        ondelete="cascade",
        help="The records the event is about.",
    )
    model = fields.Char(related="model_id.model", store=True, string="Model Name")
    warehouse_field = fields.Char(
        string="Plant Field",
        help="Path from the record to its plant (a stock.warehouse), for example "
        "'picking_type_id.warehouse_id'. Then a backend bound to a plant only hears of "
        "that plant's records.",
    )
    description = fields.Text(help="When the event is raised and what its messages carry.")
    subscription_ids = fields.One2many("integration.subscription", "event_id", string="Subscriptions")

    _code_unique = models.Constraint("UNIQUE(code)", "An event with this code already exists.")

    @api.constrains("code")
    def _check_code(self):
        for event in self:
            if not BACKEND_CODE_PATTERN.match(event.code.replace(".", "_")):
                raise ValidationError(
                    _("Event code '%s' may hold lower-case letters, digits, '.', '-' and '_'.", event.code)
                )

    @api.model
    def _publish(self, code, records, correlation_id=None):
        """Announce that event ``code`` happened to ``records``.

        Each active subscription to the event stores one outbound message per
        record and subscribed backend, in the caller's transaction: if the
        business change is rolled back, nothing is sent. Returns the messages.
        """
        event = self.sudo().search([("code", "=", code)], limit=1)
        if not event:
            raise ValueError(f"integration event {code!r} is not declared")
        messages = self.env["integration.message"]
        # Every message caused by this event about one record shares one correlation id.
        correlations = {record.id: correlation_id or str(uuid.uuid4()) for record in records}
        for subscription in event.subscription_ids.filtered("active"):
            backends = subscription._subscribed_backends()
            for record in subscription._matching(records):
                for backend in subscription._backends_for(record, backends):
                    messages |= subscription._send(backend, record, correlations[record.id])
        return messages

    def _warehouse_of(self, record):
        """The plant of ``record`` along the event's plant field (empty when it has none)."""
        self.ensure_one()
        if not self.warehouse_field:
            return self.env["stock.warehouse"]
        return record.mapped(self.warehouse_field)[:1]
