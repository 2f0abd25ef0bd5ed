# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The MES calls Odoo's real HTTP stack, signed as the Standard Webhooks specification says."""

import json
import time

from odoo.tests import HttpCase, tagged

from .common import MesCase


@tagged("post_install", "-at_install")
class TestMesWebhook(MesCase, HttpCase):
    def _post(self, flow_code, payload, webhook_id):
        body = json.dumps(payload).encode()
        # The MES signs with the backend's key, exactly as Odoo signs what it sends to the MES.
        headers = self.mes._outbound_headers(webhook_id, int(time.time()), body)
        return self.url_open(f"/integration/v1/plant-a-mes/{flow_code}", data=body, headers=headers)

    def test_signed_confirmation_goes_through_the_webhook(self):
        production = self._order(quantity=5)
        payload = {
            "event_id": "EV-W1",
            "order_ref": production.name,
            "produced_qty": 5,
            "final": True,
            "lots": ["LOT-W1"],
        }
        response = self._post("mes.production_confirmation", payload, "msg_w1")
        self.assertEqual(response.status_code, 202, response.text)
        message = self.Message.browse(response.json()["message_id"])
        again = self._post("mes.production_confirmation", payload, "msg_w1-resent")
        self.assertEqual(
            (again.status_code, again.json()["message_id"]), (200, message.id), "same MES event id"
        )
        self._drain()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual((production.state, production.qty_produced), ("done", 5))

    def test_contract_violation_is_answered_by_json_pointer(self):
        response = self._post(
            "mes.downtime", {"event_id": "DT-1", "downtime_id": "D-1", "work_center": "WC-ASM"}, "msg_w2"
        )
        self.assertEqual(response.status_code, 422, response.text)
        self.assertIn("'reason' is a required property", json.dumps(response.json()["details"]))

    def test_openapi_lists_the_mes_contracts(self):
        body = b""
        headers = self.mes._outbound_headers("msg_w3", int(time.time()), body)
        document = self.url_open("/integration/v1/plant-a-mes/openapi.json", headers=headers).json()
        paths = " ".join(document["paths"])
        for contract in (
            "mes.production_confirmation",
            "mes.operation_event",
            "mes.downtime",
            "mes.quality_hold",
        ):
            self.assertIn(contract, paths)
