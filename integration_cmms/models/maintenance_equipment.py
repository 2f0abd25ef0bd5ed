# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MaintenanceEquipment(models.Model):
    """Equipment belongs to a plant, serves work centres, and shows what its CMMS says of it."""

    _name = "maintenance.equipment"
    _inherit = ["maintenance.equipment", "integration.record.mixin", "cmms.state.mixin"]
    _cmms_field = "equipment_id"

    warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Plant",
        check_company=True,
        tracking=True,
        help="The plant where this equipment stands: the CMMS of that plant hears of it.",
    )
    workcenter_ids = fields.Many2many(
        "mrp.workcenter",
        "maintenance_equipment_mrp_workcenter_rel",
        "equipment_id",
        "workcenter_id",
        string="Work Centres Served",
        check_company=True,
        help="The work centres that cannot work while this equipment is down or in maintenance: a "
        "breakdown or a maintenance window the CMMS reports blocks them for that time.",
    )
    cmms_breakdown_ids = fields.One2many(
        "cmms.breakdown", "equipment_id", string="Breakdowns", help="The breakdowns the CMMS reported of it."
    )
    cmms_window_ids = fields.One2many(
        "cmms.maintenance.window",
        "equipment_id",
        string="Maintenance Windows",
        help="The planned maintenance the CMMS approved for it.",
    )
