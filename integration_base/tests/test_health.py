# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.integration_base.models.integration_message import engine


@tagged("post_install", "-at_install")
class TestHealth(HttpCase):
    def _health(self):
        response = self.url_open("/integration/v1/health")
        self.assertEqual(response.headers["Content-Type"], "application/json")
        return response.status_code, response.json()

    def test_healthy_with_a_known_backlog(self):
        backend = self.env["integration.backend"].create({"name": "Health", "code": "health-a"})
        flow = self.env["integration.flow"].create(
            {"name": "F", "code": "health.flow", "backend_id": backend.id}
        )
        message = engine(self.env["integration.message"]).create(
            {
                "backend_id": backend.id,
                "flow_id": flow.id,
                "flow_code": "health.flow",
                "direction": "inbound",
                "payload": "{}",
                "idempotency_key": "h-1",
                "state": "queued",
            }
        )
        self.env.cr.execute(
            "UPDATE integration_message SET received_at = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(hours=2), message.id],
        )
        self.env.invalidate_all()
        status, report = self._health()
        self.assertEqual(status, 200)
        self.assertEqual((report["status"], report["database"]), ("ok", "ok"))
        self.assertTrue(report["job_runner"]["alive"])
        self.assertGreaterEqual(report["backlog"]["messages"], 1)
        self.assertGreaterEqual(report["backlog"]["oldest_seconds"], 7200)

    def test_only_get_is_answered(self):
        response = self.url_open("/integration/v1/health", data=b"{}")
        self.assertEqual((response.status_code, response.json()["error"]), (405, "method_not_allowed"))
        self.assertEqual(response.headers["Allow"], "GET")

    def test_a_job_nobody_runs_degrades_health(self):
        backend = self.env["integration.backend"].create({"name": "Stuck", "code": "health-stuck"})
        backend.action_activate()
        job = self.env["integration.dispatcher"]._schedule(backend)
        self.env.cr.execute(
            "UPDATE queue_job SET date_created = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(minutes=10), job.id],
        )
        status, report = self._health()
        self.assertEqual(status, 503)
        self.assertEqual(report["status"], "degraded")
        self.assertFalse(report["job_runner"]["alive"])
        self.assertGreaterEqual(report["job_runner"]["oldest_overdue_job_seconds"], 600)
