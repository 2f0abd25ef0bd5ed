# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The outbox onto a real MQTT broker: after commit, on an ISA-95 topic, retried, in order, replayable."""

import json

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.lib.transports import mqtt
from odoo.addons.integration_base.tests import brokers
from odoo.addons.integration_base.tests.test_transport_brokers import MqttSubscriber

from .common import EngineCase

DISPATCHER_LOGGER = "odoo.addons.integration_base.models.integration_dispatcher"


@tagged("post_install", "-at_install")
class TestBrokerConnector(EngineCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = cls.enterClassContext(brokers.Mosquitto())
        cls.out = cls._create_flow(
            cls.backend,
            direction="outbound",
            envelope="cloudevents",
            topic="acme/{site}/integration/{flow}",
            retry_backoff_seconds=0,
        )
        cls.backend.outbound_url = cls.broker.url

    def setUp(self):
        super().setUp()
        self.addCleanup(mqtt.close_sessions)

    def _send(self, ref, name):
        message, _created = self.Message._ingest(
            self.backend,
            "test.partner",
            {"ref": ref, "name": name},
            direction="outbound",
            flow=self.out,
            ordering_key=f"res.partner,{ref}",
        )
        return message

    def test_messages_are_published_in_order_as_cloudevents(self):
        subscriber = MqttSubscriber(self.broker, "acme/#", user=None, password=None)
        self.addCleanup(subscriber.close)
        sent = [self._send("K1", f"v{number}") for number in range(5)]
        self._dispatch(self.backend)
        self.assertEqual(set(sent_message.state for sent_message in sent), {"done"})
        received = subscriber.take(5)
        self.assertEqual({message.topic for message in received}, {"acme/PLA/integration/test.partner"})
        events = [json.loads(message.payload) for message in received]
        self.assertEqual([event["data"]["name"] for event in events], [f"v{number}" for number in range(5)])
        first = events[0]
        self.assertEqual((first["specversion"], first["type"]), ("1.0", "test.partner.v1"))
        self.assertEqual(first["id"], f"test.partner.{sent[0].idempotency_key}")
        self.assertTrue(first["dataschema"].endswith("/integration/v1/test-a/schemas/test.partner/v1.json"))

    @mute_logger(DISPATCHER_LOGGER, "odoo.addons.integration_base.models.integration_message")
    def test_a_broker_down_is_retried_then_dead_lettered_and_replayed_with_the_same_id(self):
        self.out.retry_max = 2
        self.broker.stop()
        self.addCleanup(lambda: brokers.accepts_connections(self.broker.port) or self.broker.start())
        message = self._send("K2", "while down")
        self._dispatch(self.backend)  # no backoff: the drain tries again at once
        self.assertEqual(message.state, "dead", "its attempts spent, it waits in the dead letters")
        self.assertIn("-> failed", message.transition_log, "it failed, was retried, then given up")
        self.assertEqual(message.delivery_attempt_ids.mapped("outcome"), ["retry", "retry"])
        self.broker.start()
        subscriber = MqttSubscriber(self.broker, "acme/#", user=None, password=None)
        self.addCleanup(subscriber.close)
        message.action_retry()
        self._dispatch(self.backend)
        self.assertEqual(message.state, "done")
        [replayed] = subscriber.take(1)
        self.assertEqual(json.loads(replayed.payload)["id"], f"test.partner.{message.idempotency_key}")
        self.assertTrue(subscriber.nothing_more())
