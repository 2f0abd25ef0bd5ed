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
