# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class SaleOrder(models.Model):
    """Sale orders show the EDI messages about them (orders received, acknowledgements sent)."""

    _name = "sale.order"
    _inherit = ["sale.order", "integration.record.mixin"]
