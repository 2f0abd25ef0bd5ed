# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged

from odoo.addons.integration_base.models.integration_message import engine


@tagged("post_install", "-at_install")
class TestWebClient(HttpCase):
    """The Integration app opens in a real browser without a JavaScript error."""

    def _open(self, action):
        self.browser_js(
            f"/odoo/action-integration_base.{action}",
            "console.log('test successful')",
            "odoo.isReady === true && !!document.querySelector('.o_action_manager .o_view_controller')",
            login="admin",
            timeout=120,
        )

    def test_exceptions_and_backends_open(self):
        self._open("integration_message_action_exceptions")
        self._open("integration_backend_action_kanban")

    def test_dashboards_open_with_figures(self):
        warehouse = self.env["stock.warehouse"].search([], limit=1)
        backend = self.env["integration.backend"].create(
            {"name": "Dashboard WMS", "code": "dash-wms", "system_type": "wms", "warehouse_id": warehouse.id}
        )
        flow = self.env["integration.flow"].create(
            {
                "name": "Snapshot",
                "code": "stock.snapshot",
                "backend_id": backend.id,
                "processor": "integration.processor.stock.snapshot",
            }
        )
        engine(self.env["integration.message"]).create(
            {
                "backend_id": backend.id,
                "flow_id": flow.id,
                "flow_code": flow.code,
                "direction": "inbound",
                "payload": "{}",
                "idempotency_key": "dash-1",
                "state": "exception",
            }
        )
        plant = self.env["integration.plant.health"].search([("warehouse_id", "=", warehouse.id)])
        self.assertEqual((plant.health_exception_count, plant.health_status), (1, "critical"))
        for action in (
            "integration_plant_health_action",
            "integration_backend_action_kanban",
            "integration_flow_action_health",
            "integration_subscription_action",
            "integration_event_action",
            "integration_reconciliation_action",
        ):
            self._open(action)
