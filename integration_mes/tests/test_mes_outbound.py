# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Manufacturing orders go to the plant's MES through the outbox."""

import json

from standardwebhooks.webhooks import Webhook

from odoo.tests import tagged

from odoo.addons.integration_base.tests.partner_server import PartnerServer

from .common import MesCase


@tagged("post_install", "-at_install")
class TestMesOutbound(MesCase):
    def test_confirmed_order_is_sent_with_mapped_codes(self):
        production = self._order(quantity=10)
        message = self._outbound(production)
        self.assertEqual(len(message), 1)
        self.assertEqual((message.flow_code, message.state), ("mes.production_order", "queued"))
        payload = json.loads(message.payload)
        self.assertEqual(
            {key: payload[key] for key in ("action", "order_ref", "product", "quantity", "unit", "tracking")},
            {
                "action": "create",
                "order_ref": production.name,
                "product": "GBX-100",
                "quantity": 10,
                "unit": production.product_uom_id.name,
                "tracking": "lot",
            },
        )
        self.assertEqual(
            sorted((c["product"], c["quantity"]) for c in payload["components"]), [("HS-1", 10), ("SH-1", 20)]
        )
        self.assertEqual(
            payload["operations"],
            [{"sequence": 1, "name": "Assemble", "work_center": "WC-ASM", "expected_minutes": 300.0}],
        )
        self.assertTrue(payload["planned_start"].endswith("+00:00"))
        with PartnerServer() as server:
            self.mes.outbound_url = server.url
            self._drain()
        self.assertEqual(message.state, "done")
        [(headers, body)] = server.requests
        self.assertEqual(Webhook(self.secret).verify(body, headers)["data"], payload)

    def test_quantity_and_date_changes_send_updates_cancel_sends_cancel(self):
        production = self._order(quantity=10)
        production.product_qty = 12
        production.origin = "a change the MES does not care about"
        production.date_start = production.date_start.replace(hour=5)
        production.action_cancel()
        messages = self._outbound(production)
        self.assertEqual(
            [(json.loads(m.payload)["action"], json.loads(m.payload)["quantity"]) for m in messages],
            [("create", 10), ("update", 12), ("update", 12), ("cancel", 12)],
        )
        self.assertEqual(len(set(messages.mapped("ordering_key"))), 1, "delivered in the order they happened")

    def test_orders_of_other_plants_and_drafts_send_nothing(self):
        self.assertFalse(self._outbound(self._order(plant=self.plant_b)))
        draft = self._order(confirm=False)
        draft.product_qty = 3
        self.assertFalse(self._outbound(draft))

    def test_rolled_back_confirmation_sends_nothing(self):
        production = self._order(confirm=False)
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            production.action_confirm()
            raise RuntimeError("the planner's transaction fails")
        self.assertFalse(self._outbound(production))

    def test_unmapped_component_waits_for_its_mapping(self):
        self.Mapping.search([("external_code", "=", "SH-1")]).unlink()
        production = self._order()
        message = self._outbound(production)
        self.assertEqual((message.state, message.payload_pending), ("exception", True))
        self.assertIn("Shaft", message.error_message)
        self.Mapping.create({"backend_id": self.mes.id, "external_code": "SH-9", "record_ref": self.shaft})
        self.assertEqual(message.state, "queued", "the new mapping retried it")
        with PartnerServer() as server:
            self.mes.outbound_url = server.url
            self._drain()
        self.assertEqual(message.state, "done")
        components = server.bodies()[0]["data"]["components"]
        self.assertIn("SH-9", [c["product"] for c in components])
