# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import CmmsCase, next_monday_at


@tagged("post_install", "-at_install")
class TestCmmsMaintenanceWindow(CmmsCase):
    def _window(self, event_id, start, end, status="approved"):
        return {
            "event_id": event_id,
            "window_id": "MW-9",
            "equipment": "P-100",
            "start": self._iso(start),
            "end": self._iso(end),
            "status": status,
            "title": "Annual overhaul",
        }

    def _found(self):
        return self.env["integration.binding"]._find_bound(self.cmms, "cmms.maintenance.window", "MW-9")

    def test_planning_places_a_new_order_outside_an_approved_window(self):
        self._receive("cmms.maintenance_window", self._window("e1", next_monday_at(6), next_monday_at(12)))
        window = self._found()
        self.assertEqual(window.state, "approved")
        self.assertAlmostEqual(window.capacity_hours, 6.0)
        production = self._planned_order(quantity=2)
        self.assertEqual(
            (production.workorder_ids.date_start, production.workorder_ids.date_finished),
            (next_monday_at(12), next_monday_at(14)),
        )

    def test_a_moved_window_moves_the_time_off_and_a_cancelled_one_gives_it_back(self):
        self._receive("cmms.maintenance_window", self._window("e1", next_monday_at(6), next_monday_at(12)))
        self._receive("cmms.maintenance_window", self._window("e2", next_monday_at(6), next_monday_at(8)))
        window = self._found()
        self.assertEqual(
            window.leave_ids.mapped(lambda leave: (leave.date_from, leave.date_to)),
            [(next_monday_at(6), next_monday_at(8))],
        )
        self.assertEqual(self._planned_order(quantity=1).workorder_ids.date_start, next_monday_at(8))
        self._receive(
            "cmms.maintenance_window", self._window("e3", next_monday_at(6), next_monday_at(8), "cancelled")
        )
        self.assertEqual(window.state, "cancelled")
        self.assertFalse(window.leave_ids)
        self.assertEqual(window.capacity_hours, 0)
        later = self._planned_order(quantity=1, start=next_monday_at(6))
        self.assertEqual(later.workorder_ids.date_start, next_monday_at(6), "the time is the plant's again")
