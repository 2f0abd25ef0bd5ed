# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MrpWorkcenter(models.Model):
    """A work centre knows the equipment it depends on, what the CMMS says of it, and the messages."""

    _name = "mrp.workcenter"
    _inherit = ["mrp.workcenter", "integration.record.mixin", "cmms.state.mixin"]
    _cmms_field = "workcenter_ids"

    equipment_ids = fields.Many2many(
        "maintenance.equipment",
        "maintenance_equipment_mrp_workcenter_rel",
        "workcenter_id",
        "equipment_id",
        help="The equipment this work centre needs: its breakdowns and maintenance windows block it.",
    )
