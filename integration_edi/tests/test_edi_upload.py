# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A partner uploads its interchanges to the webhook route, through Odoo's real HTTP stack."""

import uuid
from datetime import UTC, datetime

from odoo.tests import HttpCase, tagged

from odoo.addons.integration_base.lib import formats
from odoo.addons.integration_base.lib.webhook_signature import generate_secret, signature

from .common import OUR_ID, PARTNER_ID, partner_order


@tagged("post_install", "-at_install")
class TestEdiUpload(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        acme = cls.env["res.partner"].create({"name": "ACME Upload", "is_company": True})
        cls.backend = cls.env["integration.backend"].create(
            {
                "name": "ACME upload",
                "code": "acme-upload",
                "system_type": "edi",
                "partner_id": acme.id,
                "contract_family": "x12",
                "edi_our_id": OUR_ID,
                "edi_partner_id": PARTNER_ID,
                "rate_limit_per_minute": 0,
            }
        )
        cls.secret = generate_secret()
        cls.env["integration.credential"].create(
            {"backend_id": cls.backend.id, "kind": "hmac", "secret": cls.secret}
        )
        cls.backend.action_activate()
        cls.backend.action_add_contracts()
        cls.backend.flow_ids.action_activate()
        cls.Message = cls.env["integration.message"]

    def _interchange(self, number):
        envelope = {
            "sender": {"qualifier": "14", "id": PARTNER_ID},
            "receiver": {"qualifier": "ZZ", "id": OUR_ID},
            "interchange": number,
            "group": number,
            "transactions": ["0001"],
            "test": True,
        }
        return formats.encode("x12", {**partner_order(number=f"PO-{number}"), "#envelope": envelope})

    def _upload(self, body, content_type="application/edi-x12"):
        msg_id = f"upload-{uuid.uuid4().hex}"
        sent_at = int(datetime.now(tz=UTC).timestamp())
        headers = {
            "Content-Type": content_type,
            "webhook-id": msg_id,
            "webhook-timestamp": str(sent_at),
            "webhook-signature": signature(self.secret, msg_id, sent_at, body),
        }
        return self.url_open("/integration/v1/acme-upload/edi.interchange", data=body, headers=headers)

    def _interchanges(self):
        return self.Message.search(
            [("backend_id", "=", self.backend.id), ("flow_code", "=", "edi.interchange")]
        )

    def test_an_uploaded_interchange_is_stored_with_its_bytes(self):
        body = self._interchange(4001)
        response = self._upload(body)
        self.assertEqual(response.status_code, 202, response.text)
        message = self._interchanges()
        self.assertEqual(response.json()["message_id"], message.id)
        self.assertEqual(
            message.idempotency_key, "000004001", "an interchange is known by its control number"
        )
        self.assertEqual(message.raw_attachment_id.raw, body)
        again = self._upload(body)
        self.assertEqual((again.status_code, again.json()["duplicate"]), (200, True))

    def test_a_file_of_two_interchanges_makes_two_messages(self):
        response = self._upload(self._interchange(4002) + self._interchange(4003), "application/octet-stream")
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(len(response.json()["messages"]), 2)
        self.assertEqual(sorted(self._interchanges().mapped("idempotency_key")), ["000004002", "000004003"])

    def test_what_is_not_x12_is_refused_and_nothing_is_stored(self):
        response = self._upload(b"UNB+UNOC:3+X+Y+261201:1000+1'")
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(response.json()["error"], "unreadable_body")
        self.assertIn("starts with an ISA segment", response.json()["message"])
        refused = self._upload(b'{"standard": "x12"}', "application/json")
        self.assertEqual((refused.status_code, refused.json()["error"]), (415, "unsupported_media_type"))
        self.assertFalse(self._interchanges())
