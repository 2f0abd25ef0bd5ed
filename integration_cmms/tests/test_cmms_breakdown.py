# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import UTC, timedelta

from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import CmmsCase, next_monday_at

MESSAGE_LOGGER = "odoo.addons.integration_base.models.integration_message"


@tagged("post_install", "-at_install")
class TestCmmsBreakdown(CmmsCase):
    def _breakdown(self, event_id, **values):
        return {"event_id": event_id, "breakdown_id": "BD-42", "equipment": "P-100", **values}

    def _found(self):
        return self.env["integration.binding"]._find_bound(self.cmms, "cmms.breakdown", "BD-42")

    def _working_minutes(self, date_from, date_to):
        """The minutes the press line can work between two times, its time off deducted."""
        resource = self.press_line.resource_id
        intervals = self.calendar._work_intervals_batch(
            date_from.replace(tzinfo=UTC), date_to.replace(tzinfo=UTC), resources=resource
        )[resource.id]
        return sum((stop - start).total_seconds() / 60 for start, stop, _attendance in intervals)

    def _planner_activities(self, production):
        return production.activity_ids.filtered(lambda activity: "broken down" in (activity.summary or ""))

    def test_a_breakdown_during_a_planned_order_tells_its_planner_once_and_blocks_exactly_its_time(self):
        production = self._planned_order()  # Monday 06:00 to 10:00
        workorder = production.workorder_ids
        self.assertEqual(
            (workorder.date_start, workorder.date_finished), (next_monday_at(6), next_monday_at(10))
        )
        start, expected_end = next_monday_at(7), next_monday_at(9)
        before = self._working_minutes(next_monday_at(6), next_monday_at(12))

        message = self._receive(
            "cmms.breakdown",
            self._breakdown(
                "e1",
                start=self._iso(start),
                expected_end=self._iso(expected_end),
                reason="Main bearing seized",
                failure={"class": "PRESS", "problem": "VIB", "cause": "3.4", "mechanism": "2.4"},
                work_order_id="WO-7001",
            ),
        )
        self.assertEqual(message.state, "done")
        breakdown = self._found()
        self.assertEqual(breakdown.state, "down")
        self.assertEqual(len(self._planner_activities(production)), 1)
        self.assertEqual(self._working_minutes(next_monday_at(6), next_monday_at(12)), before - 120)
        self.assertEqual(
            self._working_minutes(start, expected_end), 0, "no capacity left within the breakdown"
        )
        self.assertEqual(
            breakdown.leave_ids.mapped(lambda leave: (leave.resource_id, leave.date_from, leave.date_to)),
            [(self.press_line.resource_id, start, expected_end)],
        )
        self.assertEqual(self.press_line.working_state, "blocked", "an open availability loss blocks it")
        self.assertEqual(self.press.cmms_state, "down")
        self.assertEqual(self.press_line.cmms_state, "down")
        self.assertEqual(self.press_line.integration_message_count, 1, "the work centre shows the report")
        self.assertEqual(
            (
                breakdown.failure_mode_id.code,
                breakdown.failure_mechanism_id.code,
                breakdown.failure_cause_id.code,
            ),
            ("VIB", "2.4", "3.4"),
        )
        impact = breakdown.impact_ids
        self.assertEqual((impact.production_id, impact.workorder_id), (production, workorder))
        self.assertAlmostEqual(impact.hours_lost, 2.0)
        self.assertAlmostEqual(impact.quantity_lost, 2.0, msg="half of the order's planned hours: half of it")
        self.assertAlmostEqual(breakdown.capacity_hours_lost, 2.0)

        # Sent again (a network retry) and again with a new id: nothing more.
        self.Message._ingest(self.cmms, "cmms.breakdown", self._breakdown("e1", start=self._iso(start)))
        self._receive(
            "cmms.breakdown",
            self._breakdown("e1b", start=self._iso(start), expected_end=self._iso(expected_end)),
        )
        self.assertEqual(len(self._planner_activities(production)), 1)
        self.assertEqual(len(breakdown.leave_ids), 1)

        end = next_monday_at(8)
        self._receive("cmms.breakdown", self._breakdown("e2", end=self._iso(end)))
        self.assertEqual((breakdown.state, breakdown.started_at, breakdown.ended_at), ("up", start, end))
        self.assertEqual(breakdown.leave_ids.mapped("date_to"), [end], "the time not lost is given back")
        self.assertEqual(self._working_minutes(next_monday_at(6), next_monday_at(12)), before - 60)
        self.assertEqual(breakdown.productivity_ids.mapped("date_end"), [end])
        self.assertEqual(self.press_line.working_state, "normal")
        self.assertEqual(self.press.cmms_state, "running")
        self.assertAlmostEqual(breakdown.impact_ids.hours_lost, 1.0)
        self.assertAlmostEqual(breakdown.duration_hours, 1.0)
        self.assertEqual(
            breakdown.reason, "Main bearing seized", "the end report does not undo what the start said"
        )

    def test_an_end_that_arrives_before_its_start_pairs_with_it(self):
        start, end = next_monday_at(7), next_monday_at(8)
        self._receive("cmms.breakdown", self._breakdown("e2", end=self._iso(end)))
        breakdown = self._found()
        self.assertEqual((breakdown.state, breakdown.ended_at), ("up", end))
        self._receive("cmms.breakdown", self._breakdown("e1", start=self._iso(start), reason="Jammed"))
        self.assertEqual((breakdown.state, breakdown.started_at, breakdown.ended_at), ("up", start, end))
        self.assertEqual(
            breakdown.leave_ids.mapped(lambda leave: (leave.date_from, leave.date_to)), [(start, end)]
        )
        self.assertEqual(self.press_line.working_state, "normal", "the work centre is not left blocked")

    def test_without_an_expected_end_the_backends_hours_block_it(self):
        self.cmms.cmms_breakdown_hours = 3
        start = next_monday_at(7)
        self._receive("cmms.breakdown", self._breakdown("e1", start=self._iso(start)))
        self.assertEqual(self._found().leave_ids.date_to, start + timedelta(hours=3))

    def test_the_backend_may_plan_the_orders_again_around_the_breakdown(self):
        self.cmms.cmms_breakdown_planning = "reschedule"
        production = self._planned_order()
        start, expected_end = next_monday_at(7), next_monday_at(9)
        self._receive(
            "cmms.breakdown",
            self._breakdown("e1", start=self._iso(start), expected_end=self._iso(expected_end)),
        )
        workorder = production.workorder_ids
        self.assertFalse(self._planner_activities(production))
        self.assertEqual(
            workorder.date_finished, next_monday_at(12), "four hours of work around two hours off"
        )
        self.assertEqual(self._working_minutes(workorder.date_start, workorder.date_finished), 240)
        self.assertIn("Planned again around breakdown BD-42", production.message_ids[0].body)

    @mute_logger(MESSAGE_LOGGER)
    def test_a_breakdown_of_unknown_equipment_waits_for_its_mapping(self):
        message = self._receive(
            "cmms.breakdown", self._breakdown("e1", equipment="X-1", start=self._iso(next_monday_at(7)))
        )
        self.assertEqual((message.state, message.missing_code), ("exception", "X-1"))
        self.assertFalse(self._found())

    @mute_logger(MESSAGE_LOGGER)
    def test_a_breakdown_ending_before_it_starts_is_refused_and_nothing_is_blocked(self):
        message = self._receive(
            "cmms.breakdown",
            self._breakdown("e1", start=self._iso(next_monday_at(9)), end=self._iso(next_monday_at(8))),
        )
        self.assertEqual((message.state, message.error_kind), ("exception", "business"))
        self.assertIn("ends before it starts", message.error_message)
        self.assertFalse(self._found())
        self.assertFalse(
            self.env["resource.calendar.leaves"].search(
                [("resource_id", "=", self.press_line.resource_id.id)]
            )
        )

    def test_the_repair_and_its_parts_complete_the_chain(self):
        self._receive(
            "cmms.breakdown",
            self._breakdown("e1", start=self._iso(next_monday_at(7)), work_order_id="WO-7001"),
        )
        breakdown = self._found()
        self.assertFalse(breakdown.request_id, "Odoo does not have the work order yet")
        self._receive_work_order()
        self.assertEqual(breakdown.request_id.name, "Replace bearing")
        self._receive(
            "cmms.spare_part_usage",
            {
                "event_id": "s1",
                "usage_id": "U-1",
                "work_order_id": "WO-7001",
                "parts": [{"part": "BRG-6204", "quantity": 2}],
            },
        )
        self.assertEqual(breakdown.spare_part_cost, 25.0)

    def test_a_planner_reads_the_breakdowns_in_every_view(self):
        production = self._planned_order()
        self._receive("cmms.breakdown", self._breakdown("e1", start=self._iso(next_monday_at(7))))
        planner = new_test_user(self.env, login="planner", groups="mrp.group_mrp_user")
        Breakdown = self.env["cmms.breakdown"].with_user(planner)
        views = Breakdown.get_views([(False, kind) for kind in ("list", "form", "search", "pivot", "graph")])
        self.assertEqual(set(views["views"]), {"list", "form", "search", "pivot", "graph"})
        [row] = Breakdown.formatted_read_group(
            [("equipment_id", "=", self.press.id)], ["failure_mode_id"], ["capacity_hours_lost:sum"]
        )
        self.assertGreater(row["capacity_hours_lost:sum"], 0)
        self.assertEqual(
            self.press.with_user(planner).action_open_cmms_breakdowns()["res_model"], "cmms.breakdown"
        )
        self.assertEqual(
            Breakdown.search([("backend_id", "=", self.cmms.id)]).impact_ids.production_id, production
        )
