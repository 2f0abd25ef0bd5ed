# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class IntegrationReconciliationLine(models.Model):
    """One product at one location: what the external system counted against what Odoo holds.

    The external side is kept as received (codes and quantity), so that a line
    whose codes have no mapping still shows what was sent; the Odoo side is
    recomputed each time the reconciliation is compared again.
    """

    _name = "integration.reconciliation.line"
    _description = "Integration Reconciliation Line"
    _order = "reconciliation_id, id"

    reconciliation_id = fields.Many2one(
        "integration.reconciliation",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
        help="The reconciliation the line belongs to.",
    )
    product_id = fields.Many2one(
        "product.product",
        readonly=True,
        index=True,
        help="The Odoo product the plant's code stands for (empty when not mapped).",
    )
    location_id = fields.Many2one(
        "stock.location",
        readonly=True,
        help="The Odoo location the plant's code stands for (empty when not mapped).",
    )
    product_uom_id = fields.Many2one(
        related="product_id.uom_id", string="Unit", help="The unit the quantities are in."
    )
    external_product_code = fields.Char(
        readonly=True, help="The product code as the external system sent it; empty when only Odoo has it."
    )
    external_location_code = fields.Char(
        readonly=True, help="The location code as the external system sent it."
    )
    external_qty = fields.Float(
        aggregator=None,
        string="External Quantity",
        digits="Product Unit",
        readonly=True,
        help="What the external system counted.",
    )
    odoo_qty = fields.Float(
        aggregator=None,
        string="Odoo Quantity",
        digits="Product Unit",
        readonly=True,
        help="What Odoo holds at the location and its sub-locations, when last compared.",
    )
    difference = fields.Float(
        aggregator=None,
        compute="_compute_status",
        store=True,
        digits="Product Unit",
        help="External quantity minus Odoo quantity: negative when the external system counted less.",
    )
    difference_percent = fields.Float(
        aggregator=None,
        string="Difference (%)",
        compute="_compute_status",
        store=True,
        digits=(16, 2),
        help="The difference relative to the larger of both quantities, so that a product "
        "missing on either side counts as 100%.",
    )
    status = fields.Selection(
        [("match", "Match"), ("discrepancy", "Discrepancy"), ("unmapped", "Unmapped")],
        compute="_compute_status",
        store=True,
        index=True,
        help="Unmapped: the product or location code has no mapping, so nothing could be compared.",
    )

    @api.depends("product_id", "location_id", "external_qty", "odoo_qty")
    def _compute_status(self):
        for line in self:
            if not (line.product_id and line.location_id):
                line.update({"status": "unmapped", "difference": 0.0, "difference_percent": 0.0})
                continue
            difference = line.external_qty - line.odoo_qty
            scale = max(abs(line.external_qty), abs(line.odoo_qty))
            same = line.product_id.uom_id.compare(line.external_qty, line.odoo_qty) == 0
            line.update(
                {
                    "status": "match" if same else "discrepancy",
                    "difference": 0.0 if same else difference,
                    "difference_percent": 0.0 if same or not scale else difference / scale * 100,
                }
            )
