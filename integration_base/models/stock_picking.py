# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class StockPicking(models.Model):
    """Transfers (receipts, deliveries, internal moves) show the messages about them."""

    _name = "stock.picking"
    _inherit = ["stock.picking", "integration.record.mixin"]
