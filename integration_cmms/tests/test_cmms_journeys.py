# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Users' journeys through the CMMS integration, walked in a real browser (tours).

The tours are in ``integration_cmms/static/tests/tours/``; each leaves pictures of its
main steps (see ``integration_base/tests/tour_case.py``).
"""

from odoo.tests import new_test_user, tagged

from odoo.addons.integration_base.tests.tour_case import JourneyTourCase

from .common import CmmsCase, next_monday_at


@tagged("post_install", "-at_install")
class TestCmmsJourneys(CmmsCase, JourneyTourCase):
    def test_planner_reads_the_breakdown_and_the_order_it_hit(self):
        production = self._planned_order()
        message = self._receive(
            "cmms.breakdown",
            {
                "event_id": "e1",
                "breakdown_id": "BD-42",
                "equipment": "P-100",
                "start": self._iso(next_monday_at(7)),
                "expected_end": self._iso(next_monday_at(9)),
                "failure": {"problem": "VIB"},
            },
        )
        self.assertEqual(message.state, "done")
        new_test_user(
            self.env,
            login="cmms_planner",
            name="Pia Planner",
            groups="mrp.group_mrp_user,maintenance.group_equipment_manager",
        )
        self.start_journey_tour(
            "planner_reads_a_breakdown", "integration_cmms_planner_reads_a_breakdown", login="cmms_planner"
        )
        self.assertTrue(production.activity_ids)
