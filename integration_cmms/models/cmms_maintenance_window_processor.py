# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class CmmsMaintenanceWindowProcessor(models.AbstractModel):
    """Applies ``cmms.maintenance_window`` v1: planned maintenance the CMMS approved, moved or called off.

    The window becomes time off of the equipment's work centres, which Odoo's
    scheduler plans around; a later report of the same window moves it, and
    a cancelled one gives the time back.
    """

    _name = "integration.processor.cmms.maintenance_window"
    _inherit = "integration.processor.cmms"
    _description = "CMMS: maintenance window"

    def _process_inbound(self, message, payload):
        backend = message.backend_id
        equipment = self._equipment(backend, payload["equipment"])
        date_from = self._parse_datetime(payload["start"], "window start")
        date_to = self._parse_datetime(payload["end"], "window end")
        self._check_time_order(date_from, date_to, self.env._("Maintenance window %s", payload["window_id"]))
        Binding = self.env["integration.binding"]
        values = {
            "name": payload["window_id"],
            "backend_id": backend.id,
            "equipment_id": equipment.id,
            "title": payload.get("title") or False,
            "date_from": date_from,
            "date_to": date_to,
            "state": "cancelled" if payload["status"] == "cancelled" else "approved",
        }
        if payload.get("work_order_id"):
            values["work_order_ref"] = payload["work_order_id"]
            values["request_id"] = Binding._find_bound(
                backend, "maintenance.request", payload["work_order_id"]
            ).id
        with self._concerning(equipment):
            window = Binding._upsert(backend, "cmms.maintenance.window", payload["window_id"], values)
            window._apply_to_planning()
        return [window, equipment, *window.workcenter_ids]
