# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class MaintenanceRequest(models.Model):
    """A maintenance request is the CMMS's work order in Odoo: it shows its messages and spare parts."""

    _name = "maintenance.request"
    _inherit = ["maintenance.request", "integration.record.mixin"]

    cmms_updated_at = fields.Datetime(
        string="CMMS Updated",
        readonly=True,
        copy=False,
        help="When the CMMS last changed the work order, as it said: an older report arriving late "
        "changes nothing.",
    )
    cmms_spare_part_move_ids = fields.One2many(
        "stock.move",
        "cmms_request_id",
        string="Spare Parts",
        readonly=True,
        copy=False,
        help="The spare parts the CMMS reported used on this request, issued from the plant's stock.",
    )
    cmms_spare_part_cost = fields.Monetary(
        string="Spare Parts Cost",
        compute="_compute_cmms_spare_part_cost",
        store=True,
        currency_field="cmms_currency_id",
        help="What the spare parts issued to this request cost, at the product cost when they were issued.",
    )
    cmms_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Currency", help="The currency of the spare parts cost."
    )
    cmms_breakdown_ids = fields.One2many(
        "cmms.breakdown",
        "request_id",
        string="Breakdowns",
        readonly=True,
        help="The breakdowns this request repairs.",
    )

    @api.depends("cmms_spare_part_move_ids.state", "cmms_spare_part_move_ids.cmms_unit_cost")
    def _compute_cmms_spare_part_cost(self):
        for request in self:
            done = request.cmms_spare_part_move_ids.filtered(lambda move: move.state == "done")
            request.cmms_spare_part_cost = sum(move.quantity * move.cmms_unit_cost for move in done)

    def action_open_cmms_spare_parts(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Spare Parts of %s", self.display_name),
            "res_model": "stock.move",
            "view_mode": "list,form",
            "domain": [("cmms_request_id", "=", self.id)],
        }
