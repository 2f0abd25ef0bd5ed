# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Dashboard figures on a known data set, and the SLA / stuck alerts."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.integration_base.models.integration_message import engine

from .common import EngineCase


class MonitoringCase(EngineCase):
    def _message(
        self, state, received_ago, finished_after=None, started_ago=None, backend=None, flow=None, **values
    ):
        """A message as the engine would have left it, ``received_ago`` before now."""
        received_at = self.now - received_ago
        started_at = self.now - started_ago if started_ago is not None else received_at
        values = {
            "backend_id": (backend or self.backend).id,
            "flow_id": (flow or self.flow).id,
            "flow_code": "test.partner",
            "direction": "inbound",
            "payload": "{}",
            "idempotency_key": f"k{len(self.keys)}",
            "state": state,
            "received_at": received_at,
            **values,
        }
        self.keys.append(values["idempotency_key"])
        if state != "queued":
            values["started_at"] = started_at
        if finished_after is not None:
            values["finished_at"] = received_at + finished_after
        if state == "exception":
            values["exception_since"] = started_at
        return engine(self.Message).create(values)

    def setUp(self):
        super().setUp()
        self.now = fields.Datetime.now()
        self.keys = []


@tagged("post_install", "-at_install")
class TestDashboardFigures(MonitoringCase):
    def setUp(self):
        super().setUp()
        self.flow.sla_seconds = 300
        self._message("done", timedelta(minutes=30), finished_after=timedelta(seconds=10))
        self._message("done", timedelta(minutes=20), finished_after=timedelta(seconds=20))
        self._message(
            "done", timedelta(minutes=10), finished_after=timedelta(seconds=400)
        )  # late: SLA is 300 s
        self._message("done", timedelta(hours=5), finished_after=timedelta(seconds=30))  # the day only
        self._message("exception", timedelta(hours=2))  # late, waits for a person for 2 h
        self._message("queued", timedelta(minutes=15))  # late, the oldest waiting
        self._message("failed", timedelta(minutes=1))  # waiting, failed in the last hour
        self._message(
            "done", timedelta(hours=48), finished_after=timedelta(seconds=5)
        )  # outside every window
        self.backend_a2 = self._create_backend("test-a2", plant=self.plant_a)
        self.backend_a2.action_activate()
        self.flow_a2 = self._create_flow(self.backend_a2, sla_seconds=300)
        self._message(
            "dead",
            timedelta(minutes=30),
            started_ago=timedelta(minutes=25),
            backend=self.backend_a2,
            flow=self.flow_a2,
        )
        self.backend_b = self._create_backend("test-b", plant=self.plant_b)
        self.flow_b = self._create_flow(self.backend_b)
        self._message(
            "done",
            timedelta(minutes=5),
            finished_after=timedelta(seconds=2),
            backend=self.backend_b,
            flow=self.flow_b,
        )

    def test_backend_counts_leave_history_alone(self):
        backend = self.backend
        # Queued 1; exception 1; failed 1; done in the last 24 h: 4 (the one of two days ago is history).
        self.assertEqual(
            (backend.pending_count, backend.exception_count, backend.failed_count, backend.done_count),
            (1, 1, 1, 4),
        )
        action = backend.with_context(integration_filter="done_today").action_open_messages()
        self.assertEqual(len(self.Message.search(action["domain"])), 4)
        self.assertNotIn("search_default_done_today", action["context"])

    def test_backend_figures(self):
        backend = self.backend
        self.assertEqual(backend.health_waiting_count, 2)
        self.assertAlmostEqual(backend.health_backlog_age_minutes, 15, delta=0.5)
        self.assertEqual(backend.health_exception_count, 1)
        self.assertAlmostEqual(backend.health_exception_age_hours, 2, delta=0.01)
        self.assertEqual(backend.health_dead_count, 0)
        # Last hour: 3 done and 1 failed were tried; last day: also 1 done and 1 exception.
        self.assertAlmostEqual(backend.health_failure_rate_hour, 25.0)
        self.assertAlmostEqual(backend.health_failure_rate_day, 100 * 2 / 6)
        # Latencies 10, 20, 400 s in the hour; 10, 20, 30, 400 s in the day (interpolated percentiles).
        self.assertAlmostEqual(backend.health_latency_p50_hour, 20)
        self.assertAlmostEqual(backend.health_latency_p95_hour, 20 + 0.9 * 380)
        self.assertAlmostEqual(backend.health_latency_p50_day, 25)
        self.assertAlmostEqual(backend.health_latency_p95_day, 30 + 0.85 * 370)
        self.assertEqual(backend.health_sla_breach_count, 3)
        self.assertEqual(backend.health_status, "critical")
        self.assertEqual(self.flow.health_sla_breach_count, 3, "the contract has the same messages")

    def test_plant_figures_add_up_their_backends(self):
        plants = self.env["integration.plant.health"].search([])
        plant_a = plants.filtered(lambda p: p.warehouse_id == self.plant_a)
        plant_b = plants.filtered(lambda p: p.warehouse_id == self.plant_b)
        self.assertEqual(plant_a.backend_count, 2)
        self.assertEqual(plant_a.backend_ids, self.backend | self.backend_a2)
        self.assertEqual((plant_a.health_waiting_count, plant_a.health_dead_count), (2, 1))
        self.assertAlmostEqual(plant_a.health_failure_rate_hour, 40.0, msg="2 failed out of 5 tried")
        self.assertEqual(plant_a.health_sla_breach_count, 4, "the dead message is late too")
        self.assertEqual(
            (plant_b.health_waiting_count, plant_b.health_sla_breach_count, plant_b.health_latency_p50_hour),
            (0, 0, 2),
        )
        self.assertEqual(plant_b.health_status, "ok")

    def test_plant_dashboard_follows_plant_restriction(self):
        self.integration_user.integration_warehouse_ids = self.plant_b
        plants = self.env["integration.plant.health"].with_user(self.integration_user).search([])
        self.assertEqual(plants.warehouse_id, self.plant_b)

    def test_exceptions_button_opens_the_messages_behind_the_figure(self):
        plant_a = self.env["integration.plant.health"].search([("warehouse_id", "=", self.plant_a.id)])
        action = plant_a.action_open_health_exceptions()
        messages = self.Message.search(action["domain"])
        self.assertEqual(sorted(messages.mapped("state")), ["dead", "exception"])


@tagged("post_install", "-at_install")
class TestHealthAlerts(MonitoringCase):
    def _alerts(self, xmlid):
        activity_type = self.env.ref(f"integration_base.mail_activity_type_integration_{xmlid}")
        return self.flow.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)

    def test_one_activity_per_problem_kept_up_to_date_then_closed(self):
        self.flow.sla_seconds = 300
        late = self._message("queued", timedelta(minutes=10)) | self._message(
            "exception", timedelta(minutes=7)
        )
        self._message("queued", timedelta(minutes=1))  # not late yet
        self.env["integration.flow"]._cron_check_health()
        [alert] = self._alerts("sla")
        self.assertEqual(alert.user_id, self.flow_owner)
        self.assertIn("2 message(s)", str(alert.note))
        late |= self._message("failed", timedelta(minutes=20))
        self.env["integration.flow"]._cron_check_health()
        self.assertEqual(len(self._alerts("sla")), 1, "still one activity, not one per message")
        self.assertIn("3 message(s)", str(self._alerts("sla").note))
        self.assertFalse(self._alerts("stuck"))
        engine(late).write({"state": "done", "finished_at": fields.Datetime.now()})
        self.env["integration.flow"]._cron_check_health()
        self.assertFalse(self._alerts("sla"), "closed once no message is late")
        self.assertTrue(self.flow.message_ids.filtered(lambda m: "Resolved" in str(m.body)))

    def test_stuck_messages(self):
        self.flow.sla_seconds = 0  # no SLA: only the stuck alert can fire
        self._message("processing", timedelta(minutes=45), started_ago=timedelta(minutes=40))
        self._message("processing", timedelta(minutes=5), started_ago=timedelta(minutes=5))
        blocker = self._message("exception", timedelta(hours=2), ordering_key="ORDER-1")
        held = self._message("queued", timedelta(hours=1), ordering_key="ORDER-1")
        self.env.cr.execute(
            "UPDATE integration_message SET write_date = %s WHERE id IN %s",
            [self.now - timedelta(hours=1), (blocker | held)._ids],
        )
        self.env["integration.flow"]._cron_check_health()
        [alert] = self._alerts("stuck")
        self.assertIn("1 message(s)", str(alert.note), "a message held behind another is not stuck")
        self.assertFalse(self._alerts("sla"))
