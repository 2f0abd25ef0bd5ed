# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.tools import html2plaintext

# The CMMS's priorities and Odoo's (0 very low to 3 high), both ways.
PRIORITIES = {"none": "0", "low": "1", "medium": "2", "high": "3"}
# The CMMS's work order status and the maintenance stage (of the maintenance module) it puts the request in.
STAGES = {
    "requested": "maintenance.stage_0",
    "approved": "maintenance.stage_0",
    "in_progress": "maintenance.stage_1",
    "on_hold": "maintenance.stage_1",
    "done": "maintenance.stage_3",
}


class CmmsWorkOrderProcessor(models.AbstractModel):
    """``cmms.work_order`` v1 both ways: a CMMS work order is a maintenance request in Odoo.

    In, the request bound to the CMMS's work order id is made or updated (an
    older report than the last one applied changes nothing: reports of one
    equipment are applied in arrival order, and a network may still swap
    two); a cancelled work order archives it. Out, requests made or changed
    in Odoo (preventive ones Odoo generates too) are sent with the same shape.
    """

    _name = "integration.processor.cmms.work_order"
    _inherit = "integration.processor.cmms"
    _description = "CMMS: work order"

    def _process_inbound(self, message, payload):
        backend = message.backend_id
        Binding = self.env["integration.binding"]
        equipment = self._equipment(backend, payload["equipment"])
        request = Binding._find_bound(backend, "maintenance.request", payload["work_order_id"])
        updated_at = self._parse_datetime(payload["updated_at"], "work order's update time")
        if request.cmms_updated_at and updated_at < request.cmms_updated_at:
            return request
        planned_start = self._parse_datetime(payload.get("planned_start"), "planned start")
        planned_end = self._parse_datetime(payload.get("planned_end"), "planned end")
        self._check_time_order(
            planned_start,
            planned_end,
            self.env._("The planned time of work order %s", payload["work_order_id"]),
        )
        status = payload["status"]
        values = {
            "name": payload["title"],
            "equipment_id": equipment.id,
            "maintenance_type": payload["type"],
            "priority": PRIORITIES[payload.get("priority") or "none"],
            "description": payload.get("description") or False,
            "schedule_date": planned_start or False,
            "kanban_state": "blocked" if status == "on_hold" else "normal",
            "archive": status == "cancelled",
            "cmms_updated_at": updated_at,
            "company_id": backend.company_id.id,
        }
        if planned_end:
            values["schedule_end"] = planned_end
        stage = self.env.ref(STAGES[status], raise_if_not_found=False) if status in STAGES else None
        if stage:
            values["stage_id"] = stage.id
        with self._concerning(equipment):
            request = Binding._upsert(backend, "maintenance.request", payload["work_order_id"], values)
        self._link_maintenance(backend, request, payload["work_order_id"])
        return request

    def _link_maintenance(self, backend, request, work_order_ref):
        """The breakdowns and windows that named this work order before Odoo had it now point to it."""
        domain = [
            ("backend_id", "=", backend.id),
            ("work_order_ref", "=", work_order_ref),
            ("request_id", "=", False),
        ]
        for model in ("cmms.breakdown", "cmms.maintenance.window"):
            self.env[model].search(domain).write({"request_id": request.id})

    def _prepare_payload(self, flow, request, event_code):
        backend = flow.backend_id
        return {
            "work_order_id": self.env["integration.binding"]._external_id(backend, request)
            or f"odoo-{request.id}",
            "equipment": self._equipment_ref(backend, request.equipment_id) if request.equipment_id else None,
            "title": request.name,
            "type": request.maintenance_type,
            "priority": {odoo: cmms for cmms, odoo in PRIORITIES.items()}.get(request.priority or "0"),
            "status": self._status_of(request),
            "planned_start": self._format_datetime(request.schedule_date),
            "planned_end": self._format_datetime(request.schedule_end),
            "description": html2plaintext(request.description) if request.description else None,
            "updated_at": self._format_datetime(request.write_date),
        }

    @staticmethod
    def _status_of(request):
        if request.archive:
            return "cancelled"
        if request.stage_id.done:
            return "done"
        if request.kanban_state == "blocked":
            return "on_hold"
        first_stage = request.env["maintenance.stage"].search([], limit=1)
        return "requested" if request.stage_id == first_stage else "in_progress"
