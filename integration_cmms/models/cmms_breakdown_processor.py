# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class CmmsBreakdownProcessor(models.AbstractModel):
    """Applies ``cmms.breakdown`` v1: equipment went down, and later ran again.

    The report of the stop and the report of its end carry the same
    breakdown id and pair whatever order they come in; what one says is never
    undone by the other, which may not know it. Each report blocks the
    equipment's work centres for the breakdown's time as now known and
    records the orders it hits (see ``cmms.breakdown``).
    """

    _name = "integration.processor.cmms.breakdown"
    _inherit = "integration.processor.cmms"
    _description = "CMMS: breakdown"

    def _process_inbound(self, message, payload):
        backend = message.backend_id
        equipment = self._equipment(backend, payload["equipment"])
        Binding = self.env["integration.binding"]
        known = Binding._find_bound(backend, "cmms.breakdown", payload["breakdown_id"])
        start = self._parse_datetime(payload.get("start"), "breakdown start") or known.started_at
        expected_end = (
            self._parse_datetime(payload.get("expected_end"), "expected end") or known.expected_end_at
        )
        end = self._parse_datetime(payload.get("end"), "breakdown end") or known.ended_at
        start = start or end
        self._check_time_order(start, end, self.env._("Breakdown %s", payload["breakdown_id"]))
        self._check_time_order(
            start, expected_end, self.env._("Breakdown %s, as the CMMS expects it,", payload["breakdown_id"])
        )
        failure = payload.get("failure") or {}
        values = {
            "name": payload["breakdown_id"],
            "backend_id": backend.id,
            "equipment_id": equipment.id,
            "started_at": start,
            "expected_end_at": expected_end or False,
            "ended_at": end or False,
            "state": "up" if end else "down",
            "reason": payload.get("reason") or known.reason or False,
        }
        for field_name, key in (
            ("failure_class", "class"),
            ("problem_code", "problem"),
            ("cause_code", "cause"),
            ("remedy_code", "remedy"),
        ):
            values[field_name] = failure.get(key) or known[field_name] or False
        for field_name, kind, code in (
            ("failure_mode_id", "mode", values["problem_code"]),
            ("failure_mechanism_id", "mechanism", failure.get("mechanism")),
            ("failure_cause_id", "cause", values["cause_code"]),
        ):
            values[field_name] = (self._failure_code(backend, kind, code) or known[field_name]).id
        work_order_ref = payload.get("work_order_id") or known.work_order_ref
        if work_order_ref:
            values["work_order_ref"] = work_order_ref
            request = Binding._find_bound(backend, "maintenance.request", work_order_ref)
            values["request_id"] = request.id or known.request_id.id
        with self._concerning(equipment):
            breakdown = Binding._upsert(backend, "cmms.breakdown", payload["breakdown_id"], values)
            breakdown._apply_to_production(message.flow_id.owner_id)
        return [breakdown, equipment, *breakdown.workcenter_ids, *breakdown.impact_ids.production_id]
