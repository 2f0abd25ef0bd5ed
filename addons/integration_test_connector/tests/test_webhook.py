# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Inbound webhooks through Odoo's real HTTP stack, signed with the reference library."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from openapi_spec_validator import validate as validate_openapi
from standardwebhooks.webhooks import Webhook

from odoo.tests import HttpCase, tagged

from odoo.addons.integration_base.lib.webhook_signature import generate_secret, signature, verify
from odoo.addons.integration_base.models import integration_webhook
from odoo.addons.integration_base.models.integration_message import engine

from .common import PARTNER_SCHEMA


@tagged("post_install", "-at_install")
class TestSignatureAgainstReference(HttpCase):
    """Our implementation of Standard Webhooks agrees with the reference library."""

    def test_same_signature_both_ways(self):
        secret = generate_secret()
        body = '{"ref": "S1", "name": "Signed"}'
        sent_at = datetime.now(tz=UTC).replace(microsecond=0)
        reference = Webhook(secret).sign("msg_1", sent_at, body)
        self.assertEqual(signature(secret, "msg_1", sent_at.timestamp(), body.encode()), reference)
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": reference,
        }
        self.assertEqual(Webhook(secret).verify(body, headers), json.loads(body))
        self.assertTrue(verify([secret], "msg_1", headers["webhook-timestamp"], reference, body.encode()))


@tagged("post_install", "-at_install")
class TestWebhook(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        warehouse = cls.env["stock.warehouse"].search([], limit=1)
        cls.backend = cls.env["integration.backend"].create(
            {
                "name": "Webhook plant",
                "code": "hook-a",
                "warehouse_id": warehouse.id,
                "rate_limit_per_minute": 0,
            }
        )
        cls.secret = generate_secret()
        cls.credential = cls.env["integration.credential"].create(
            {"backend_id": cls.backend.id, "kind": "hmac", "secret": cls.secret}
        )
        cls.backend.action_activate()
        cls.flow = cls.env["integration.flow"].create(
            {
                "name": "Partner",
                "code": "test.partner",
                "backend_id": cls.backend.id,
                "schema": json.dumps(PARTNER_SCHEMA),
                "processor": "integration.processor.test.partner",
            }
        )
        cls.flow.action_activate()

    def _post(
        self,
        payload,
        secret=None,
        msg_id=None,
        sent_at=None,
        path="/integration/v1/hook-a/test.partner",
        **kw,
    ):
        body = payload if isinstance(payload, str) else json.dumps(payload)
        sent_at = sent_at or datetime.now(tz=UTC)
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        headers = {
            "Content-Type": kw.pop("content_type", "application/json"),
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": kw.pop("signature", None)
            or Webhook(secret or self.secret).sign(msg_id, sent_at, body),
            **kw.pop("headers", {}),
        }
        return self.url_open(path, data=body.encode(), headers=headers, **kw)

    def assertAnswer(self, response, status, error=None):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        body = response.json()
        if error:
            self.assertEqual(body["error"], error)
            self.assertTrue(body["message"])
        return body

    def test_signed_message_is_accepted_once(self):
        first = self.assertAnswer(self._post({"ref": "W1", "name": "Hook"}, msg_id="msg_w1"), 202)
        message = self.env["integration.message"].browse(first["message_id"])
        self.assertEqual((message.state, message.idempotency_key), ("queued", "msg_w1"))
        self.assertEqual(first["status_url"], f"/integration/v1/hook-a/messages/{message.id}")
        replay = self.assertAnswer(self._post({"ref": "W1", "name": "Hook"}, msg_id="msg_w1"), 200)
        self.assertEqual((replay["message_id"], replay["duplicate"]), (message.id, True))

    def test_a_call_replayed_to_another_contract_is_refused(self):
        """The signature covers the webhook-id, not the address: the id names one message."""
        copy = self.env["integration.flow"].create(
            {
                "name": "Partner copy",
                "code": "test.partner.copy",
                "backend_id": self.backend.id,
                "schema": json.dumps(PARTNER_SCHEMA),
                "processor": "integration.processor.test.partner",
            }
        )
        copy.action_activate()
        payload, sent_at = {"ref": "RP1", "name": "Replayed"}, datetime.now(tz=UTC)
        first = self.assertAnswer(self._post(payload, msg_id="msg_rp", sent_at=sent_at), 202)
        elsewhere = self._post(
            payload, msg_id="msg_rp", sent_at=sent_at, path="/integration/v1/hook-a/test.partner.copy"
        )
        self.assertAnswer(elsewhere, 409, "key_reused")
        again = self.assertAnswer(self._post(payload, msg_id="msg_rp", sent_at=sent_at), 200)
        self.assertEqual(again["message_id"], first["message_id"])
        batch = [payload]
        answer = self.assertAnswer(
            self._post(
                batch, msg_id="msg_rb", sent_at=sent_at, path="/integration/v1/hook-a/test.partner/batch"
            ),
            200,
        )
        self.assertEqual([item["status"] for item in answer["items"]], [202])
        answer = self.assertAnswer(
            self._post(
                batch, msg_id="msg_rb", sent_at=sent_at, path="/integration/v1/hook-a/test.partner.copy/batch"
            ),
            200,
        )
        self.assertEqual([(item["status"], item["error"]) for item in answer["items"]], [(409, "key_reused")])
        messages = self.env["integration.message"].search([("backend_id", "=", self.backend.id)])
        self.assertEqual(set(messages.mapped("flow_code")), {"test.partner"})
        self.assertEqual(len(messages), 2)

    def test_bad_credentials_all_get_the_same_401(self):
        answers = [
            self._post({"ref": "X", "name": "Wrong key"}, secret=generate_secret()),
            self._post({"ref": "X", "name": "Stale"}, sent_at=datetime.now(tz=UTC) - timedelta(minutes=6)),
            self._post({"ref": "X", "name": "Future"}, sent_at=datetime.now(tz=UTC) + timedelta(minutes=6)),
            self._post({"ref": "X", "name": "Garbled"}, signature="v1,AAAA"),
            self.url_open(
                "/integration/v1/hook-a/test.partner",
                data=b"{}",
                headers={"Content-Type": "application/json"},
            ),
            self._post({"ref": "X", "name": "Nobody"}, path="/integration/v1/nobody/test.partner"),
            self._post({"ref": "X", "name": "Bad code"}, path="/integration/v1/No%00Body/test.partner"),
        ]
        bodies = [self.assertAnswer(answer, 401, "unauthorized") for answer in answers]
        self.assertEqual(
            len({json.dumps(body) for body in bodies}),
            1,
            "the answer never says what was wrong, nor whether the backend exists",
        )
        self.assertFalse(self.env["integration.message"].search([("backend_id", "=", self.backend.id)]))

    def test_rotated_secret_is_accepted_during_the_overlap(self):
        old_secret, new_secret = self.secret, generate_secret()
        self.credential.write({"overlap_hours": 1, "secret": new_secret})
        self.assertAnswer(self._post({"ref": "R1", "name": "Old key"}, secret=old_secret), 202)
        self.assertAnswer(self._post({"ref": "R2", "name": "New key"}, secret=new_secret), 202)
        sent_at = datetime.now(tz=UTC)
        both = " ".join(
            Webhook(secret).sign("msg_both", sent_at, '{"ref": "R3", "name": "Both"}')
            for secret in (new_secret, old_secret)
        )
        self.assertAnswer(
            self._post('{"ref": "R3", "name": "Both"}', msg_id="msg_both", sent_at=sent_at, signature=both),
            202,
        )
        self.credential.previous_valid_until = datetime.now() - timedelta(seconds=1)
        self.assertAnswer(
            self._post({"ref": "R4", "name": "Old key, too late"}, secret=old_secret), 401, "unauthorized"
        )

    def _key(self, usage, secret, overlap_hours=0):
        return self.env["integration.credential"].create(
            {
                "backend_id": self.backend.id,
                "kind": "hmac",
                "usage": usage,
                "secret": secret,
                "overlap_hours": overlap_hours,
            }
        )

    def assertDeliverySignedWith(self, secret):
        body = b'{"type": "test.partner"}'
        headers = self.backend._outbound_headers("msg_out", int(time.time()), body)
        self.assertEqual(Webhook(secret).verify(body, headers), {"type": "test.partner"})

    def test_an_outbound_key_does_not_open_the_door(self):
        outbound_secret = generate_secret()
        self._key("outbound", outbound_secret)
        self.assertAnswer(
            self._post({"ref": "K1", "name": "Outbound key"}, secret=outbound_secret), 401, "unauthorized"
        )
        self.assertAnswer(self._post({"ref": "K2", "name": "Shared key"}), 202)
        self.assertDeliverySignedWith(outbound_secret)

    def test_each_direction_is_replaced_on_its_own(self):
        inbound_secret, outbound_secret = generate_secret(), generate_secret()
        inbound, outbound = self._key("inbound", inbound_secret), self._key("outbound", outbound_secret)
        self.assertAnswer(self._post({"ref": "K3", "name": "Shared key"}), 401, "unauthorized")
        new_outbound = generate_secret()
        outbound.secret = new_outbound
        self.assertAnswer(self._post({"ref": "K4", "name": "Inbound key"}, secret=inbound_secret), 202)
        self.assertDeliverySignedWith(new_outbound)
        new_inbound = generate_secret()
        inbound.secret = new_inbound
        self.assertAnswer(self._post({"ref": "K5", "name": "Old inbound"}, secret=inbound_secret), 401)
        self.assertAnswer(self._post({"ref": "K6", "name": "New inbound"}, secret=new_inbound), 202)
        self.assertAnswer(self._post({"ref": "K7", "name": "Outbound"}, secret=new_outbound), 401)
        self.assertDeliverySignedWith(new_outbound)

    def test_every_client_error_has_its_status(self):
        self.assertAnswer(self._post("{not json"), 400, "malformed_json")
        self.assertAnswer(
            self._post({"ref": "E"}, path="/integration/v1/hook-a/test.unknown"), 404, "unknown_flow"
        )
        self.assertAnswer(self.url_open("/integration/v1/hook-a/test.partner"), 405, "method_not_allowed")
        self.assertAnswer(
            self._post({"ref": "E", "name": "x"}, content_type="text/plain"), 415, "unsupported_media_type"
        )
        self.backend.max_body_bytes = 64
        self.assertAnswer(self._post({"ref": "E", "name": "x" * 100}), 413, "body_too_large")
        self.backend.max_body_bytes = 1024 * 1024
        invalid = self.assertAnswer(self._post({"name": 5}), 422, "schema_violation")
        self.assertEqual(
            invalid["details"],
            [
                {"pointer": "/", "error": "'ref' is a required property"},
                {"pointer": "/name", "error": "5 is not of type 'string'"},
            ],
        )
        self.flow.action_retire()
        self.assertAnswer(self._post({"ref": "E", "name": "x"}), 403, "flow_not_allowed")
        self.backend.action_suspend()
        self.assertAnswer(self._post({"ref": "E", "name": "x"}), 403, "backend_not_active")

    def test_rate_limit_answers_429_with_retry_after(self):
        self.backend.rate_limit_per_minute = 2
        start = time.time()
        if 60 - start % 60 < 5:
            time.sleep(60 - start % 60)  # do not straddle two windows
        self.assertAnswer(self._post({"ref": "L1", "name": "one"}), 202)
        self.assertAnswer(self._post({"ref": "L2", "name": "two"}), 202)
        limited = self._post({"ref": "L3", "name": "three"})
        self.assertAnswer(limited, 429, "rate_limited")
        self.assertTrue(1 <= int(limited.headers["Retry-After"]) <= 60)

    def test_an_address_that_keeps_failing_is_slowed_down(self):
        start = time.time()
        if 60 - start % 60 < 5:
            time.sleep(60 - start % 60)  # do not straddle two windows
        with patch.object(integration_webhook, "UNAUTHENTICATED_PER_MINUTE", 3):
            answers = [self._post({"ref": "F", "name": "guess"}, secret=generate_secret()) for _i in range(4)]
            answers.append(
                self._post({"ref": "F", "name": "guess"}, path="/integration/v1/nobody/test.partner")
            )
        self.assertEqual([answer.status_code for answer in answers], [401, 401, 401, 429, 429])
        self.assertEqual(answers[3].json()["error"], "rate_limited")
        self.assertTrue(1 <= int(answers[3].headers["Retry-After"]) <= 60)

    def test_bearer_token_backend(self):
        self.backend.auth_method = "token"
        self.env["integration.credential"].create(
            {"backend_id": self.backend.id, "kind": "token", "secret": "tok-123"}
        )
        path = "/integration/v1/hook-a/test.partner"
        body = json.dumps({"ref": "B1", "name": "Bearer"}).encode()
        ok = self.url_open(
            path,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer tok-123",
                "Idempotency-Key": "b-1",
            },
        )
        accepted = self.assertAnswer(ok, 202)
        self.assertEqual(accepted["idempotency_key"], "b-1")
        wrong = self.url_open(
            path, data=body, headers={"Content-Type": "application/json", "Authorization": "Bearer nope"}
        )
        self.assertAnswer(wrong, 401, "unauthorized")

    def _signed_get(self, path):
        sent_at = datetime.now(tz=UTC)
        headers = {
            "webhook-id": "get-check",
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(self.secret).sign("get-check", sent_at, ""),
        }
        return self.url_open(path, headers=headers)

    def test_openapi_document_describes_the_contracts_in_force(self):
        v2_schema = {
            **PARTNER_SCHEMA,
            "properties": {**PARTNER_SCHEMA["properties"], "vat": {"type": "string"}},
        }
        v2 = self.flow.copy({"version": 2, "schema": json.dumps(v2_schema)})
        v2.action_activate()
        self.flow.action_deprecate()
        document = self.assertAnswer(self._signed_get("/integration/v1/hook-a/openapi.json"), 200)
        validate_openapi(document)
        self.assertEqual(document["openapi"], "3.1.0")
        operation = document["paths"]["/integration/v1/hook-a/test.partner"]["post"]
        self.assertEqual(
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/TestPartnerV2",
        )
        self.assertEqual(document["components"]["schemas"]["TestPartnerV2"], v2_schema)
        self.assertNotIn("TestPartnerV1", document["components"]["schemas"], "the newest version in force")
        self.assertIn("/integration/v1/hook-a/test.partner/batch", document["paths"])
        self.assertEqual(
            set(operation["responses"]),
            {"200", "202", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503"},
        )
        self.assertAnswer(self.url_open("/integration/v1/hook-a/openapi.json"), 401, "unauthorized")

    def test_sender_reads_the_state_of_its_own_messages_only(self):
        accepted = self.assertAnswer(self._post({"ref": "G1", "name": "Status"}), 202)
        get = self._signed_get

        status = self.assertAnswer(get(accepted["status_url"]), 200)
        self.assertEqual((status["message_id"], status["state"]), (accepted["message_id"], "queued"))
        other = self.env["integration.backend"].create({"name": "Other", "code": "hook-other"})
        foreign = engine(self.env["integration.message"]).create(
            {
                "backend_id": other.id,
                "flow_id": self.flow.id,
                "flow_code": "test.partner",
                "direction": "inbound",
                "payload": "{}",
                "idempotency_key": "foreign",
            }
        )
        self.assertAnswer(get(f"/integration/v1/hook-a/messages/{foreign.id}"), 404, "unknown_message")
        self.assertAnswer(self.url_open(accepted["status_url"]), 401, "unauthorized")

    def test_batch_answers_item_by_item(self):
        batch = [{"ref": "BA1", "name": "First"}, {"ref": "BA2", "name": 7}, {"ref": "BA3", "name": "Third"}]
        path = "/integration/v1/hook-a/test.partner/batch"
        answer = self.assertAnswer(self._post(batch, msg_id="batch_1", path=path), 200)
        self.assertEqual((answer["accepted"], answer["refused"]), (2, 1))
        self.assertEqual([item["status"] for item in answer["items"]], [202, 422, 202])
        self.assertEqual(
            answer["items"][1]["details"], [{"pointer": "/name", "error": "7 is not of type 'string'"}]
        )
        third_key = answer["items"][2]["idempotency_key"]
        self.assertRegex(third_key, r"^batch_1#[0-9a-f]{64}$", "the item's hash, not its position")
        reordered = [batch[2], batch[1], batch[0]]
        again = self.assertAnswer(self._post(reordered, msg_id="batch_1", path=path), 200)
        self.assertEqual([item["status"] for item in again["items"]], [200, 422, 200])
        self.assertEqual(again["items"][0]["idempotency_key"], third_key)
        self.assertEqual(
            self.env["integration.message"].search_count([("backend_id", "=", self.backend.id)]), 2
        )

    def test_batch_with_the_longest_call_key_is_accepted(self):
        call_key = "k" * 255  # as long as a header key may be: the items' keys are hashed to fit
        path = "/integration/v1/hook-a/test.partner/batch"
        batch = [{"ref": "LK1", "name": "One"}, {"ref": "LK2", "name": "Two"}]
        answer = self.assertAnswer(self._post(batch, msg_id=call_key, path=path), 200)
        self.assertEqual([item["status"] for item in answer["items"]], [202, 202])
        self.assertRegex(answer["items"][0]["idempotency_key"], r"^sha256:[0-9a-f]{64}#[0-9a-f]{64}$")
        again = self.assertAnswer(self._post(batch, msg_id=call_key, path=path), 200)
        self.assertEqual([item["status"] for item in again["items"]], [200, 200])

    def test_batch_as_ndjson_and_malformed_batches(self):
        path = "/integration/v1/hook-a/test.partner/batch"
        ndjson = '{"ref": "ND1", "name": "One"}\n\n{"ref": "ND2", "name": "Two"}\n'
        answer = self.assertAnswer(self._post(ndjson, path=path, content_type="application/x-ndjson"), 200)
        self.assertEqual([item["status"] for item in answer["items"]], [202, 202])
        self.assertAnswer(self._post({"ref": "X", "name": "not a list"}, path=path), 400, "not_a_batch")
        self.assertAnswer(self._post([], path=path), 400, "batch_size")
        bad_line = self._post(
            '{"ref": "ND3", "name": "ok"}\n{oops\n', path=path, content_type="application/x-ndjson"
        )
        self.assertIn("Line 2", self.assertAnswer(bad_line, 400, "malformed_json")["message"])
