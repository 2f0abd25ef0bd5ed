# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    mes_consumed_qty = fields.Float(
        string="Consumed (MES)",
        digits="Product Unit",
        copy=False,
        readonly=True,
        help="Component quantity the MES reported as used, summed over its confirmations. When set, "
        "it replaces the bill of materials' figure.",
    )
    mes_reported = fields.Boolean(
        string="Reported by MES",
        copy=False,
        readonly=True,
        help="The MES named this component in a confirmation: its consumption is the MES's figure, "
        "never the bill of materials'.",
    )
