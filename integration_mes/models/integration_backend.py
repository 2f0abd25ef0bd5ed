# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

# The MES contracts this connector offers; their JSON Schemas are in data/contracts/.
# Their names are translated into the language of the user who installs them.
MES_CONTRACTS = [
    {
        "name": _lt("Production order"),
        "code": "mes.production_order",
        "direction": "outbound",
        "processor": "integration.processor.mes.production_order",
        "schema_file": "mes.production_order.v1.json",
    },
    {
        "name": _lt("Production confirmation"),
        "code": "mes.production_confirmation",
        "direction": "inbound",
        "processor": "integration.processor.mes.production_confirmation",
        "schema_file": "mes.production_confirmation.v1.json",
        "idempotency_key_pointer": "/event_id",
        "ordering_key_pointer": "/order_ref",
    },
    {
        "name": _lt("Operation event"),
        "code": "mes.operation_event",
        "direction": "inbound",
        "processor": "integration.processor.mes.operation_event",
        "schema_file": "mes.operation_event.v1.json",
        "idempotency_key_pointer": "/event_id",
        "ordering_key_pointer": "/order_ref",
    },
    {
        "name": _lt("Downtime"),
        "code": "mes.downtime",
        "direction": "inbound",
        "processor": "integration.processor.mes.downtime",
        "schema_file": "mes.downtime.v1.json",
        "idempotency_key_pointer": "/event_id",
        "ordering_key_pointer": "/downtime_id",
    },
    {
        "name": _lt("Quality hold"),
        "code": "mes.quality_hold",
        "direction": "inbound",
        "processor": "integration.processor.mes.quality_hold",
        "schema_file": "mes.quality_hold.v1.json",
        "idempotency_key_pointer": "/event_id",
        "ordering_key_pointer": "/hold_id",
    },
]


class IntegrationBackend(models.Model):
    """MES settings of a backend: how the plant's confirmations may change orders."""

    _inherit = "integration.backend"

    mes_allow_overproduction = fields.Boolean(
        string="Allow Overproduction",
        tracking=True,
        help="Accept confirmations that produce more than the order's remaining quantity. "
        "When off, such a confirmation becomes an exception and nothing of it is applied.",
    )
    mes_create_backorder = fields.Boolean(
        string="Backorder on Short Final Confirmation",
        default=True,
        tracking=True,
        help="When the MES closes an order with less than planned, keep the rest in a "
        "backorder. When off, the order is closed with what was produced.",
    )

    def action_create_mes_contracts(self):
        """Add the MES contracts this backend lacks, as drafts for a manager to review and activate."""
        self.ensure_one()
        if self.system_type != "mes":
            raise UserError(self.env._("Backend %s is not an MES.", self.display_name))
        flows = self._install_contracts("integration_mes", MES_CONTRACTS)
        action = self.env["ir.actions.act_window"]._for_xml_id("integration_base.integration_flow_action")
        action["domain"] = [("backend_id", "=", self.id)]
        # Every contract of the backend, the drafts just added among them: not the action's
        # default filter, which shows only those in force (an empty list at this point).
        action["context"] = {}
        self.message_post(
            body=self.env._("MES contracts added: %s", ", ".join(flows.mapped("code")) or self.env._("none"))
        )
        return action
