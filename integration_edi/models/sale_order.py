# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class SaleOrder(models.Model):
    """Sale orders show the EDI messages about them (orders received, acknowledgements sent)."""

    _name = "sale.order"
    _inherit = ["sale.order", "integration.record.mixin"]

    edi_backend_id = fields.Many2one(
        "integration.backend",
        string="EDI Partner Profile",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The trading partner's EDI profile this order came from: its response, despatch advices "
        "and invoices go back through it.",
    )


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    edi_line_number = fields.Char(
        string="Partner's Line",
        copy=False,
        help="The line number in the partner's purchase order (PO101, LIN).",
    )
    edi_buyer_item = fields.Char(
        string="Partner's Item", copy=False, help="The partner's own code of the item, echoed back to it."
    )
    edi_partner_price = fields.Float(
        string="Partner's Price",
        digits="Product Price",
        copy=False,
        help="The unit price the partner ordered at. The order keeps the pricelist's; when they differ the "
        "order response tells the partner the line changed.",
    )
