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
        help="The plant where this equipment stands; its CMMS backend is that plant's.",
    )

    def _get_cmms_backend(self):
        """The active CMMS backend of the equipment's plant, if any."""
        self.ensure_one()
        if not self.warehouse_id:
            return self.env["integration.backend"]
        return self.env["integration.backend"]._get_active_backend("cmms", self.warehouse_id)
