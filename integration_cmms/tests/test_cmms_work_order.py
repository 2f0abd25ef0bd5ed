# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CmmsCase, next_monday_at

MESSAGE_LOGGER = "odoo.addons.integration_base.models.integration_message"


@tagged("post_install", "-at_install")
class TestCmmsWorkOrder(CmmsCase):
    def _work_order(self, event_id, status="approved", updated_at="2026-12-01T08:00:00Z", **values):
        return {
            "event_id": event_id,
            "work_order_id": "WO-7001",
            "equipment": "P-100",
            "title": "Replace press bearing",
            "type": "corrective",
            "priority": "high",
            "status": status,
            "planned_start": self._iso(next_monday_at(14)),
            "planned_end": self._iso(next_monday_at(16)),
            "updated_at": updated_at,
            **values,
        }

    def _request(self):
        return self.env["integration.binding"]._find_bound(self.cmms, "maintenance.request", "WO-7001")

    def test_a_cmms_work_order_is_a_maintenance_request_kept_up_to_date(self):
        message = self._receive("cmms.work_order", self._work_order("e1"))
        request = self._request()
        self.assertEqual(message.state, "done")
        self.assertEqual(
            (request.name, request.equipment_id, request.maintenance_type, request.priority),
            ("Replace press bearing", self.press, "corrective", "3"),
        )
        self.assertEqual(
            (request.schedule_date, request.schedule_end), (next_monday_at(14), next_monday_at(16))
        )
        self.assertEqual(request.stage_id, self.env.ref("maintenance.stage_0"))

        again, _created = self.Message._ingest(self.cmms, "cmms.work_order", self._work_order("e1"))
        self.assertEqual(again, message, "a report sent again is the same message")

        self._receive("cmms.work_order", self._work_order("e2", "in_progress", "2026-12-01T09:00:00Z"))
        self.assertEqual(request.stage_id, self.env.ref("maintenance.stage_1"))
        late = self._receive("cmms.work_order", self._work_order("e0", "requested", "2026-12-01T07:00:00Z"))
        self.assertEqual(late.state, "done")
        self.assertEqual(
            request.stage_id, self.env.ref("maintenance.stage_1"), "an older report changes nothing"
        )

        self._receive("cmms.work_order", self._work_order("e3", "on_hold", "2026-12-01T10:00:00Z"))
        self.assertEqual(request.kanban_state, "blocked")
        self._receive("cmms.work_order", self._work_order("e4", "done", "2026-12-01T11:00:00Z"))
        self.assertTrue(request.stage_id.done)
        self.assertEqual(request.kanban_state, "normal")
        self._receive("cmms.work_order", self._work_order("e5", "cancelled", "2026-12-01T12:00:00Z"))
        self.assertTrue(request.archive)
        self.assertEqual(len(self.env["integration.binding"].search([("external_id", "=", "WO-7001")])), 1)

    @mute_logger(MESSAGE_LOGGER)
    def test_a_work_order_about_unknown_equipment_waits_for_its_mapping(self):
        message = self._receive("cmms.work_order", self._work_order("e1", equipment="P-999"))
        self.assertEqual((message.state, message.missing_code), ("exception", "P-999"))
        self.assertIn("P-999", message.error_message)
        self.assertFalse(self._request(), "nothing of it is applied")
        lathe = self.env["maintenance.equipment"].create({"name": "Lathe", "warehouse_id": self.plant_a.id})
        self.Mapping.create({"backend_id": self.cmms.id, "external_code": "P-999", "record_ref": lathe})
        self._dispatch(self.cmms)
        self.assertEqual(message.state, "done")
        self.assertEqual(self._request().equipment_id, lathe)

    @mute_logger(MESSAGE_LOGGER)
    def test_a_work_order_planned_to_end_before_it_starts_is_refused_in_words(self):
        payload = self._work_order("e1", planned_end=self._iso(next_monday_at(10)))
        message = self._receive("cmms.work_order", payload)
        self.assertEqual((message.state, message.error_kind), ("exception", "business"))
        self.assertIn("ends before it starts", message.error_message)

    def test_equipment_the_cmms_got_from_odoo_is_found_by_its_odoo_reference(self):
        self._receive("cmms.work_order", self._work_order("e1", equipment=f"odoo-{self.press.id}"))
        self.assertEqual(self._request().equipment_id, self.press)

    def test_requests_made_in_odoo_go_to_the_cmms_and_its_own_do_not_come_back(self):
        request = self.env["maintenance.request"].create(
            {"name": "Check hydraulics", "equipment_id": self.press.id, "maintenance_type": "preventive"}
        )
        outbound = [
            ("flow_code", "=", "cmms.work_order"),
            ("direction", "=", "outbound"),
            ("backend_id", "=", self.cmms.id),
        ]
        sent = self.Message.search(outbound)
        self.assertEqual(len(sent), 1)
        payload = json.loads(sent.payload)
        self.assertEqual(
            (payload["work_order_id"], payload["equipment"], payload["type"], payload["status"]),
            (f"odoo-{request.id}", "P-100", "preventive", "requested"),
        )
        request.stage_id = self.env.ref("maintenance.stage_1")
        self.assertEqual(self.Message.search_count(outbound), 2, "its state changes follow")
        self._receive("cmms.work_order", self._work_order("e1"))
        self.assertEqual(
            self.Message.search_count(outbound), 2, "a request the CMMS sent is not sent back to it"
        )

    def test_the_next_preventive_request_odoo_generates_goes_to_the_cmms(self):
        Request = self.env["maintenance.request"]
        monthly = Request.create(
            {
                "name": "Monthly lubrication",
                "equipment_id": self.press.id,
                "maintenance_type": "preventive",
                "recurring_maintenance": True,
                "repeat_interval": 1,
                "repeat_unit": "month",
                "repeat_type": "forever",
                "schedule_date": next_monday_at(6),
            }
        )
        monthly.stage_id = self.env.ref("maintenance.stage_3")
        [following] = Request.search([("name", "=", "Monthly lubrication"), ("id", "!=", monthly.id)])
        self.assertEqual(following.schedule_date.month, (next_monday_at(6).month % 12) + 1)
        [sent] = self.Message.search(
            [
                ("flow_code", "=", "cmms.work_order"),
                ("link_ids.res_id", "=", following.id),
                ("link_ids.res_model", "=", "maintenance.request"),
            ]
        )
        self.assertEqual(json.loads(sent.payload)["work_order_id"], f"odoo-{following.id}")
        self.assertEqual(sent.backend_id, self.cmms)
