# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MaintenanceEquipment(models.Model):
    """Equipment belongs to a plant, and shows the CMMS messages about it."""

    _name = "maintenance.equipment"
    _inherit = ["maintenance.equipment", "integration.record.mixin"]

    warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Plant",
        check_company=True,
        tracking=True,
        help="The plant where this equipment stands: the CMMS of that plant hears of it.",
    )
