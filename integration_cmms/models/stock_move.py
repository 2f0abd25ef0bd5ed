# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class StockMove(models.Model):
    """A spare part issued to maintenance names the request it went into."""

    _inherit = "stock.move"

    cmms_request_id = fields.Many2one(
        "maintenance.request",
        string="Maintenance Request",
        index="btree_not_null",
        readonly=True,
        help="The maintenance request this spare part was used on, as the CMMS reported it.",
    )
    cmms_unit_cost = fields.Float(
        string="Unit Cost When Issued",
        digits="Product Price",
        readonly=True,
        help="The part's cost when maintenance used it, which the request's spare parts cost adds up.",
    )
