# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Outbound: events, subscriptions and signed delivery to a real HTTP server on localhost."""

import json
from datetime import timedelta

from freezegun import freeze_time
from standardwebhooks.webhooks import Webhook

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.lib.webhook_signature import generate_secret
from odoo.addons.integration_base.tests.common import LocalPartnerMixin
from odoo.addons.integration_base.tests.partner_server import Answer, PartnerServer

from .common import EngineCase

MESSAGE_LOGGER = "odoo.addons.integration_base.models.integration_dispatcher"


class DeliveryCase(LocalPartnerMixin, EngineCase):
    """Plant A's backend receives ``test.partner`` outbound whenever a partner is created."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secret = generate_secret()
        cls.env["integration.credential"].create(
            {"backend_id": cls.backend.id, "kind": "hmac", "secret": cls.secret}
        )
        cls.out_flow = cls._create_flow(
            cls.backend, direction="outbound", retry_backoff_seconds=60, retry_max=5
        )
        cls.event = cls.env.ref("integration_test_connector.integration_event_partner_created")
        cls.subscription = cls.env["integration.subscription"].create(
            {"event_id": cls.event.id, "flow_code": "test.partner", "backend_ids": [(6, 0, cls.backend.ids)]}
        )

    def _create_partner(self, name, ref):
        partner = self.env["res.partner"].create({"name": name, "ref": ref})
        return partner, self._outbound(partner)

    def _outbound(self, record):
        return self.Message.search(
            [
                ("direction", "=", "outbound"),
                ("link_ids.res_model", "=", record._name),
                ("link_ids.res_id", "=", record.id),
            ],
            order="id",
        )


@tagged("post_install", "-at_install")
class TestDelivery(DeliveryCase):
    def test_event_stores_one_signed_message_and_delivers_it(self):
        partner, message = self._create_partner("Acme", "P1")
        self.assertEqual(len(message), 1)
        self.assertEqual((message.state, message.event_code), ("queued", "test.partner.created"))
        self.assertEqual(message.ordering_key, f"res.partner,{partner.id}")
        self.assertEqual(json.loads(message.payload), {"ref": "P1", "name": "Acme"})
        with PartnerServer() as server:
            self.backend.outbound_url = server.url
            self._drain()
        self.assertEqual(message.state, "done")
        [(headers, body)] = server.requests
        envelope = Webhook(self.secret).verify(body, headers)
        self.assertEqual(envelope["type"], "test.partner")
        self.assertEqual(envelope["data"], {"ref": "P1", "name": "Acme"})
        self.assertEqual(envelope["correlation_id"], message.correlation_id)
        [attempt] = message.delivery_attempt_ids
        self.assertEqual((attempt.status_code, attempt.outcome, attempt.url), (200, "delivered", server.url))
        self.assertGreaterEqual(attempt.latency_ms, 0)
        self.assertEqual(attempt.response_excerpt, '{"received": true}')

    @mute_logger(MESSAGE_LOGGER)
    def test_partner_down_then_back_order_kept_nothing_lost(self):
        partner, first = self._create_partner("Acme", "P2")
        partner.write({"name": "Acme Renamed"})
        second = self.env["integration.event"]._publish("test.partner.created", partner)
        other_partner, other = self._create_partner("Other", "P3")
        script = [
            Answer(503, '{"error": "maintenance"}'),
            Answer(),
            Answer(),
            Answer(502, "bad gateway"),
            Answer(),
        ]
        with PartnerServer(script) as server:
            self.backend.outbound_url = server.url
            self._drain()
            self.assertEqual((first.state, second.state, other.state), ("failed", "queued", "done"))
            self.assertEqual(first.error_kind, "technical")
            self.assertIn("HTTP 503", first.error_message)
            self.assertEqual(second.blocked_by_id, first)
            with freeze_time(first.next_retry_at):
                self._drain()
            self.assertEqual((first.state, second.state), ("done", "failed"))
            with freeze_time(second.next_retry_at):
                self._drain()
        self.assertEqual((first.state, second.state), ("done", "done"))
        names = [body["data"]["name"] for body in server.bodies()]
        self.assertEqual(names, ["Acme", "Other", "Acme", "Acme Renamed", "Acme Renamed"])
        webhook_ids = [headers["webhook-id"] for headers, _body in server.requests]
        self.assertEqual(webhook_ids[0], webhook_ids[2], "a retry is the same message to the partner")
        self.assertEqual(first.delivery_attempt_ids.sorted("id").mapped("status_code"), [503, 200])
        self.assertEqual(first.delivery_attempt_ids.sorted("id").mapped("outcome"), ["retry", "delivered"])
        self.assertEqual(second.delivery_attempt_ids.sorted("id").mapped("status_code"), [502, 200])
        self.assertIn("maintenance", first.delivery_attempt_ids.sorted("id")[0].response_excerpt)
        self.assertEqual(other_partner.ref, "P3")

    @mute_logger(MESSAGE_LOGGER)
    def test_other_4xx_parks_the_message_for_the_owner(self):
        _partner, message = self._create_partner("Acme", "P4")
        with PartnerServer([Answer(422, '{"error": "unknown customer group"}')]) as server:
            self.backend.outbound_url = server.url
            self._drain()
        self.assertEqual((message.state, message.error_kind), ("exception", "business"))
        self.assertIn("refused the message: HTTP 422", message.error_message)
        self.assertIn("unknown customer group", message.error_message)
        exception_type = self.env.ref("integration_base.mail_activity_type_integration_exception")
        alert = self.out_flow.activity_ids.filtered(lambda a: a.activity_type_id == exception_type)
        self.assertEqual(alert.user_id, self.flow_owner)
        [attempt] = message.delivery_attempt_ids
        self.assertEqual((attempt.status_code, attempt.outcome), (422, "refused"))
        self.assertTrue(message.exception_since)

    @mute_logger(MESSAGE_LOGGER)
    def test_timeout_and_connection_refused_are_retried(self):
        _partner, slow = self._create_partner("Slow", "P5")
        self.backend.read_timeout = 0.3
        with PartnerServer([Answer(200, delay=1.5)]) as server:
            self.backend.outbound_url = server.url
            self._drain()
        self.assertEqual(slow.state, "failed")
        [attempt] = slow.delivery_attempt_ids
        self.assertEqual((attempt.status_code, attempt.outcome), (0, "retry"))
        self.assertIn("timeout", attempt.error)
        # The server is gone: nobody listens on its port any more.
        with freeze_time(slow.next_retry_at):
            self._drain()
        self.assertEqual(slow.state, "failed")
        self.assertIn("ConnectionError", slow.delivery_attempt_ids.sorted("id")[-1].error)
        self.assertEqual(slow.attempts, 2)

    @mute_logger(MESSAGE_LOGGER)
    def test_429_waits_at_least_as_long_as_asked(self):
        _partner, message = self._create_partner("Busy", "P6")
        before = fields.Datetime.now()
        with PartnerServer([Answer(429, "slow down", headers={"Retry-After": "120"})]) as server:
            self.backend.outbound_url = server.url
            self._drain()
        self.assertEqual(message.state, "failed")
        self.assertGreaterEqual(message.next_retry_at, before + timedelta(seconds=120))
        self.assertEqual(message.delivery_attempt_ids.status_code, 429)

    def test_bearer_token_backend(self):
        self.backend.auth_method = "token"
        self.env["integration.credential"].create(
            {"backend_id": self.backend.id, "kind": "token", "secret": "tok-123"}
        )
        _partner, message = self._create_partner("Token", "P7")
        with PartnerServer() as server:
            self.backend.outbound_url = server.url
            self._drain()
        self.assertEqual(message.state, "done")
        [(headers, _body)] = server.requests
        self.assertEqual(headers["authorization"], "Bearer tok-123")
        self.assertNotIn("webhook-signature", headers)

    def test_backend_without_url_waits_for_its_configuration(self):
        _partner, message = self._create_partner("Nowhere", "P8")
        self._drain()
        self.assertEqual(message.state, "exception")
        self.assertIn("has no outbound URL", message.error_message)
        self.assertFalse(message.delivery_attempt_ids)

    def test_suspended_backend_holds_its_messages(self):
        _partner, message = self._create_partner("Held", "P9")
        self.backend.action_suspend()
        with PartnerServer() as server:
            self.backend.outbound_url = server.url
            self._drain()
            self.assertEqual((message.state, server.requests), ("queued", []))
            self.backend.action_activate()
            self._drain()
        self.assertEqual(message.state, "done")

    def test_retry_delay_has_jitter_and_honours_retry_after(self):
        retry_delay = self.env["integration.dispatcher"]._retry_delay
        delays = {retry_delay(self.flow, 3) for _i in range(50)}
        self.assertTrue(all(120 <= delay <= 240 for delay in delays), delays)
        self.assertGreater(len(delays), 1, "the delays are spread")
        self.assertEqual(retry_delay(self.flow, 1, asked=900), 900)


@tagged("post_install", "-at_install")
class TestSubscription(DeliveryCase):
    def test_rolled_back_business_change_sends_nothing(self):
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            self.env["res.partner"].create({"name": "Ghost", "ref": "G1"})
            raise RuntimeError("the business transaction fails")
        self.assertFalse(self.Message.search([("payload", "ilike", "Ghost")]))

    def test_only_the_plant_of_the_record_hears_of_it(self):
        backend_b = self._create_backend("test-b", plant=self.plant_b)
        backend_b.action_activate()
        self._create_flow(backend_b, direction="outbound")
        event = self.env["integration.event"].create(
            {
                "name": "Picking type changed",
                "code": "test.picking_type.changed",
                "model_id": self.env.ref("stock.model_stock_picking_type").id,
                "warehouse_field": "warehouse_id",
            }
        )
        self.env["integration.subscription"].create({"event_id": event.id, "flow_code": "test.partner"})
        types_a = self.env["stock.picking.type"].search([("warehouse_id", "=", self.plant_a.id)], limit=1)
        messages = event._publish("test.picking_type.changed", types_a)
        self.assertEqual(messages.backend_id, self.backend, "plant B's backend does not hear of plant A")
        self.assertEqual(messages.flow_id, self.out_flow)

    def test_domain_filters_the_records(self):
        self.subscription.domain = "[('ref', '=like', 'VIP%')]"
        _partner, plain = self._create_partner("Plain", "N1")
        _vip, vip = self._create_partner("Vip", "VIP1")
        self.assertFalse(plain)
        self.assertEqual(len(vip), 1)

    def test_missing_contract_is_reported_not_raised(self):
        self.subscription.flow_code = "test.unknown"
        partner, messages = self._create_partner("Lost", "L1")
        self.assertFalse(messages)
        notes = self.subscription.message_ids.filtered(lambda m: "Nothing sent for Lost" in m.body)
        self.assertEqual(len(notes), 1)
        self.assertIn("test.unknown", notes.body)
        self.assertTrue(partner.exists(), "the business change went through")

    def test_payload_that_cannot_be_built_waits_in_exception_then_goes(self):
        partner, message = self._create_partner("!Hidden", "H1")
        self.assertEqual((message.state, message.payload_pending), ("exception", True))
        self.assertIn("cannot be sent", message.error_message)
        self.assertEqual(json.loads(message.payload)["id"], partner.id)
        partner.name = "Visible"
        with PartnerServer() as server:
            self.backend.outbound_url = server.url
            message.action_retry()
            self._drain()
        self.assertEqual((message.state, message.payload_pending), ("done", False))
        self.assertEqual(json.loads(message.payload), {"ref": "H1", "name": "Visible"})
        self.assertEqual(server.bodies()[0]["data"]["name"], "Visible")

    def test_every_subscribed_backend_gets_its_own_message(self):
        backend_b = self._create_backend("test-b", plant=self.plant_b)
        backend_b.action_activate()
        self._create_flow(backend_b, direction="outbound")
        self.subscription.backend_ids = [(4, backend_b.id)]
        _partner, messages = self._create_partner("Both", "B1")
        self.assertEqual(messages.backend_id, self.backend | backend_b)
        self.assertEqual(len(set(messages.mapped("correlation_id"))), 1, "one event, one correlation id")
