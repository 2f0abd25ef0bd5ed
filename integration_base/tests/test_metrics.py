# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import os
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.integration_base.models.integration_message import engine
from odoo.addons.integration_base.models.integration_metrics import METRICS_TOKEN_VARIABLE


@tagged("post_install", "-at_install")
class TestMetrics(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        backend = cls.env["integration.backend"].create({"name": "Metrics", "code": "met-a"})
        flow = cls.env["integration.flow"].create({"name": "F", "code": "met.flow", "backend_id": backend.id})
        received = fields.Datetime.now() - timedelta(minutes=5)
        for key, state, seconds in (("m1", "done", 0), ("m2", "done", 10), ("m3", "queued", None)):
            engine(cls.env["integration.message"]).create(
                {
                    "backend_id": backend.id,
                    "flow_id": flow.id,
                    "flow_code": "met.flow",
                    "direction": "inbound",
                    "payload": "{}",
                    "idempotency_key": key,
                    "state": state,
                    "received_at": received,
                    "finished_at": received + timedelta(seconds=seconds) if seconds is not None else False,
                }
            )

    def _get(self, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.url_open("/integration/metrics", headers=headers)

    def test_figures_of_a_known_data_set(self):
        with patch.dict(os.environ, {METRICS_TOKEN_VARIABLE: "m-token"}):
            response = self._get("m-token")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        lines = set(response.text.splitlines())
        series = 'backend="met-a",flow="met.flow"'
        for expected in (
            "# TYPE integration_messages gauge",
            f'integration_messages{{{series},direction="inbound",state="done"}} 2',
            f'integration_messages{{{series},direction="inbound",state="queued"}} 1',
            "# TYPE integration_message_duration_seconds histogram",
            f'integration_message_duration_seconds_bucket{{{series},le="0.5"}} 1',
            f'integration_message_duration_seconds_bucket{{{series},le="5.0"}} 1',
            f'integration_message_duration_seconds_bucket{{{series},le="15.0"}} 2',
            f'integration_message_duration_seconds_bucket{{{series},le="+Inf"}} 2',
            f"integration_message_duration_seconds_sum{{{series}}} 10.0",
            f"integration_message_duration_seconds_count{{{series}}} 2",
        ):
            self.assertIn(expected, lines)
        [oldest] = [
            line for line in lines if line.startswith('integration_oldest_waiting_seconds{backend="met-a"}')
        ]
        self.assertGreaterEqual(float(oldest.split()[-1]), 300)

    def test_the_token_is_required(self):
        with patch.dict(os.environ, {METRICS_TOKEN_VARIABLE: "m-token"}):
            self.assertEqual(self._get().status_code, 401)
            self.assertEqual(self._get("wrong").json()["error"], "unauthorized")
        with (
            patch.dict(os.environ, {METRICS_TOKEN_VARIABLE: ""}),
            patch(
                "odoo.addons.integration_base.models.integration_metrics.integration_config", return_value={}
            ),
        ):
            response = self._get("anything")
        self.assertEqual((response.status_code, response.json()["error"]), (403, "metrics_disabled"))
