# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class CmmsEquipmentProcessor(models.AbstractModel):
    """Builds ``cmms.equipment`` v1: one piece of equipment as the CMMS keeps it in its asset list."""

    _name = "integration.processor.cmms.equipment"
    _inherit = "integration.processor.cmms"
    _description = "CMMS: equipment (outbound)"

    def _prepare_payload(self, flow, equipment, event_code):
        return {
            "action": "upsert" if equipment.active else "archive",
            "equipment_ref": self._equipment_ref(flow.backend_id, equipment),
            "name": equipment.name,
            "serial_no": equipment.serial_no or None,
            "category": equipment.category_id.name or None,
            "site": equipment.warehouse_id.code or None,
        }
