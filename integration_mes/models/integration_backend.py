# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


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
    mes_component_consumption = fields.Selection(
        [("backflush", "Backflush Unreported Components"), ("reported", "Reported Components Only")],
        string="Component Consumption",
        required=True,
        default="backflush",
        tracking=True,
        help="Backflush: the components the MES does not report are consumed per bill of materials for "
        "the good quantity. Reported only: only what the MES reports is consumed, the rest stays in stock.",
    )
    mes_empty_closure = fields.Selection(
        [("cancel", "Cancel the Order"), ("exception", "Ask a Person")],
        string="Closure With Nothing Produced",
        required=True,
        default="cancel",
        tracking=True,
        help="What a final confirmation does to an order with no good quantity (Odoo cannot mark such an "
        "order done). Cancel: the order is cancelled, the components the MES reported used are consumed. "
        "Ask a person: the confirmation waits in exception, saying so.",
    )
    contract_family = fields.Selection(
        selection_add=[("isa95", "ISA-95 / B2MML")],
        ondelete={"isa95": "set default"},
    )
