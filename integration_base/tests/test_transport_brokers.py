# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The MQTT and AMQP publishers against real brokers: Debian's mosquitto and RabbitMQ, started here.

Each class starts its broker once (a RabbitMQ node takes seconds to boot;
its start is logged) and a real client of the broker reads what the
transport published: a subscriber for MQTT, a consumer of a queue for AMQP.
Stopping a broker between two deliveries is what a broker that goes down
does to its clients; freezing it (SIGSTOP) is a broker that stops answering.
"""

import contextlib
import logging
import queue
import threading
import time

import paho.mqtt.client as paho
import pika
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from odoo.tests import BaseCase, tagged

from odoo.addons.integration_base.lib.transports import DELIVERED, REFUSED, RETRY, Outgoing, amqp, mqtt, send
from odoo.addons.integration_base.lib.transports.kept_connections import KeptConnections

from . import brokers

_logger = logging.getLogger(__name__)

PLANT_PASSWORD = "plant-secret-7f3a"


class MqttSubscriber:
    """A real MQTT 5 client reading ``topic`` with QoS 1, in a network thread of its own."""

    def __init__(self, broker, topic, user="plant", password=PLANT_PASSWORD):
        self.messages = queue.Queue()
        subscribed = threading.Event()
        client = paho.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        client.username_pw_set(user, password)
        client.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
        client.on_subscribe = lambda *_: subscribed.set()
        client.on_message = lambda _client, _data, message: self.messages.put(message)
        client.connect(brokers.LOOPBACK, broker.port)
        client.loop_start()
        self.client = client
        if not subscribed.wait(10):
            self.close()
            raise AssertionError(f"the subscriber could not subscribe to {topic}")

    def take(self, count, timeout=10):
        """The next ``count`` messages; fails the test when they do not all come within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        taken = []
        while len(taken) < count:
            try:
                taken.append(self.messages.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"{len(taken)} of {count} messages came within {timeout} s") from None
        return taken

    def nothing_more(self, wait=0.5):
        try:
            extra = self.messages.get(timeout=wait)
        except queue.Empty:
            return True
        raise AssertionError(f"an unexpected message came: {extra.topic} {extra.payload!r}")

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def user_properties(message):
    return dict(message.properties.UserProperty)


@tagged("post_install", "-at_install")
class TestMqttTransport(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = cls.enterClassContext(
            brokers.Mosquitto(users={"plant": PLANT_PASSWORD}, acl={"plant": ["plant/#"]}, tls=True)
        )
        _logger.info("mosquitto started in %.3f s", cls.broker.start_seconds[0])

    def setUp(self):
        super().setUp()
        self.addCleanup(mqtt.close_sessions)

    def outgoing(self, **values):
        return Outgoing(
            **{
                "target": self.broker.url_for("plant"),
                "body": b'{"order": "WO-1"}',
                "message_key": "work_order.released.k1",
                "topic": "plant/acme/site-1/line-2/work_order",
                "secrets": {"password": PLANT_PASSWORD},
                "read_timeout": 5,
                **values,
            }
        )

    def subscriber(self, topic="plant/acme/#"):
        subscriber = MqttSubscriber(self.broker, topic)
        self.addCleanup(subscriber.close)
        return subscriber

    def test_a_subscriber_receives_the_body_with_its_id_type_and_headers(self):
        subscriber = self.subscriber()
        result = send(
            self.outgoing(
                content_type="application/xml",
                body=b"<order>WO-1</order>",
                ordering_key="WO-1",
                headers={"x-correlation-id": "c-42"},
            )
        )
        self.assertEqual(result.outcome, DELIVERED, result.error)
        (message,) = subscriber.take(1)
        self.assertEqual(message.topic, "plant/acme/site-1/line-2/work_order")
        self.assertEqual(message.payload, b"<order>WO-1</order>")
        self.assertEqual((message.qos, message.retain), (1, False))
        self.assertEqual(message.properties.ContentType, "application/xml")
        self.assertEqual(
            user_properties(message),
            {"message-id": "work_order.released.k1", "ordering-key": "WO-1", "x-correlation-id": "c-42"},
        )

    def test_messages_of_one_key_arrive_in_the_order_they_were_published(self):
        subscriber = self.subscriber()
        for number in range(20):
            result = send(
                self.outgoing(body=str(number).encode(), message_key=f"m{number}", ordering_key="WO-7")
            )
            self.assertEqual(result.outcome, DELIVERED, result.error)
        received = subscriber.take(20)
        self.assertEqual([message.payload for message in received], [str(n).encode() for n in range(20)])
        self.assertEqual({user_properties(message)["ordering-key"] for message in received}, {"WO-7"})

    def test_a_broker_that_went_down_is_retry_then_delivered_once_it_is_back(self):
        self.assertEqual(send(self.outgoing()).outcome, DELIVERED)  # a session is now kept
        self.broker.stop()
        result = send(self.outgoing(message_key="while-down"))
        self.assertEqual(result.outcome, RETRY)
        self.assertIn("cannot reach the MQTT broker", result.error)
        self.broker.start()
        subscriber = self.subscriber()
        result = send(self.outgoing(message_key="while-down"))
        self.assertEqual(result.outcome, DELIVERED, result.error)
        self.assertEqual(user_properties(subscriber.take(1)[0])["message-id"], "while-down")

    def test_a_kept_session_that_a_restart_broke_is_opened_again(self):
        self.assertEqual(send(self.outgoing()).outcome, DELIVERED)
        self.broker.stop()
        self.broker.start()
        subscriber = self.subscriber()
        result = send(self.outgoing(message_key="after-restart"))
        self.assertEqual(result.outcome, DELIVERED, result.error)
        self.assertEqual(user_properties(subscriber.take(1)[0])["message-id"], "after-restart")

    def test_a_broker_that_does_not_answer_is_retry_within_the_read_timeout(self):
        # On a topic no other test reads: the broker takes the message once it is thawed.
        outgoing = self.outgoing(topic="plant/frozen", read_timeout=1)
        self.assertEqual(send(outgoing).outcome, DELIVERED)
        self.broker.freeze()
        self.addCleanup(self.broker.thaw)
        started = time.monotonic()
        result = send(outgoing)
        self.assertEqual(result.outcome, RETRY)
        self.assertIn("sent no PUBACK within 1 s", result.error)
        self.assertLess(time.monotonic() - started, 3)

    def test_refused_credentials_are_refused_in_words_without_the_password(self):
        result = send(self.outgoing(secrets={"password": "not-the-password"}))
        self.assertEqual(result.outcome, REFUSED)
        self.assertIn("refused the connection: Not authorized", result.error)
        self.assertNotIn("not-the-password", result.error)
        anonymous = send(self.outgoing(target=self.broker.url, secrets={}))
        self.assertEqual(anonymous.outcome, REFUSED)
        self.assertIn("the URL names no user", anonymous.error)

    def test_a_topic_the_user_may_not_publish_on_is_refused_and_the_session_goes_on(self):
        subscriber = self.subscriber()
        result = send(self.outgoing(topic="office/payroll"))
        self.assertEqual(result.outcome, REFUSED)
        self.assertIn("did not take the message on 'office/payroll': Not authorized", result.error)
        self.assertEqual(send(self.outgoing(message_key="allowed")).outcome, DELIVERED)
        self.assertEqual(user_properties(subscriber.take(1)[0])["message-id"], "allowed")
        subscriber.nothing_more()

    def test_the_same_outgoing_sent_twice_carries_the_same_message_id(self):
        subscriber = self.subscriber()
        outgoing = self.outgoing(message_key="work_order.released.twice")
        self.assertEqual(send(outgoing).outcome, DELIVERED)
        self.assertEqual(send(outgoing).outcome, DELIVERED)  # as after a PUBACK lost on the way back
        copies = subscriber.take(2)
        self.assertEqual(
            [user_properties(m)["message-id"] for m in copies], ["work_order.released.twice"] * 2
        )
        kept = {
            user_properties(message)["message-id"]: message for message in copies
        }  # what a consumer keeps
        self.assertEqual(len(kept), 1)

    def test_mqtts_checks_the_certificate_of_the_broker(self):
        subscriber = self.subscriber()
        target = self.broker.url_for("plant", tls=True)
        untrusted = send(self.outgoing(target=target))
        self.assertEqual(untrusted.outcome, REFUSED)
        self.assertIn("is not trusted", untrusted.error)
        trusted = send(
            self.outgoing(target=target, options={"ca_file": self.broker.ca_file}, message_key="tls")
        )
        self.assertEqual(trusted.outcome, DELIVERED, trusted.error)
        self.assertEqual(user_properties(subscriber.take(1)[0])["message-id"], "tls")

    def test_targets_and_topics_that_cannot_work_are_refused_before_connecting(self):
        no_topic = send(self.outgoing(topic=None))
        self.assertEqual(no_topic.outcome, REFUSED)
        self.assertIn("needs a topic", no_topic.error)
        password_in_url = send(self.outgoing(target=f"mqtt://plant:{PLANT_PASSWORD}@127.0.0.1:1"))
        self.assertEqual(password_in_url.outcome, REFUSED)
        self.assertNotIn(PLANT_PASSWORD, password_in_url.error)


class Stale(Exception):
    pass


class RecordedConnection:
    """What KeptConnections keeps: anything with usable() and close(); this one says what happened to it."""

    def __init__(self, number, fit=True):
        self.number, self.fit, self.closed = number, fit, False

    def usable(self):
        return self.fit and not self.closed

    def close(self):
        self.closed = True


@tagged("post_install", "-at_install")
class TestKeptConnections(BaseCase):
    """The rule both broker transports follow for the connections they keep (the brokers test it live)."""

    def setUp(self):
        super().setUp()
        self.kept = KeptConnections()
        self.addCleanup(self.kept.close_all)
        self.opened = []

    def open_connection(self):
        self.opened.append(RecordedConnection(len(self.opened) + 1))
        return self.opened[-1]

    def use(self, action):
        return self.kept.use("target", self.open_connection, action, stale=Stale)

    def test_a_connection_is_kept_while_it_is_usable_and_replaced_when_not(self):
        self.assertEqual(self.use(lambda connection: connection.number), 1)
        self.assertEqual(self.use(lambda connection: connection.number), 1)
        self.opened[0].fit = False
        self.assertEqual(self.use(lambda connection: connection.number), 2)
        self.assertTrue(self.opened[0].closed)
        other_thread = []
        thread = threading.Thread(target=lambda: other_thread.append(self.use(lambda c: c.number)))
        thread.start()
        thread.join()
        self.assertEqual(other_thread, [3])  # each thread has its own

    def test_a_kept_connection_that_turns_out_stale_is_replaced_once(self):
        self.use(lambda connection: None)

        def fails_on_the_first(connection):
            if connection.number == 1:
                raise Stale()
            return connection.number

        self.assertEqual(self.use(fails_on_the_first), 2)
        self.assertTrue(self.opened[0].closed)

    def test_a_fresh_connection_that_fails_or_another_error_is_not_tried_again(self):
        def always_stale(connection):
            raise Stale()

        with self.assertRaises(Stale):
            self.use(always_stale)
        self.assertEqual(len(self.opened), 1)
        with self.assertRaises(Stale):  # kept, then one fresh try: two more, not a loop
            self.use(always_stale)
        self.assertEqual(len(self.opened), 2)
        with self.assertRaises(ZeroDivisionError):
            self.use(lambda connection: 1 / 0)
        self.assertEqual(len(self.opened), 2)


@tagged("post_install", "-at_install")
class TestIsa95Topic(BaseCase):
    TEMPLATE = "{enterprise}/{site}/{area}/{line}/{flow}"
    VALUES = {
        "enterprise": "acme",
        "site": "lyon",
        "area": "assembly",
        "line": "line-2",
        "flow": "work_order",
    }

    def test_values_fill_one_level_each(self):
        self.assertEqual(mqtt.isa95_topic(self.TEMPLATE, self.VALUES), "acme/lyon/assembly/line-2/work_order")

    def test_separators_wildcards_and_nul_in_a_value_stay_inside_its_level(self):
        values = {**self.VALUES, "area": "paint/shop", "line": "+#\0"}
        self.assertEqual(mqtt.isa95_topic(self.TEMPLATE, values), "acme/lyon/paint_shop/___/work_order")

    def test_an_empty_or_missing_level_is_refused_by_name(self):
        for empty in ("", "  ", None):
            with self.assertRaisesRegex(ValueError, "topic level 'site' is empty"):
                mqtt.isa95_topic(self.TEMPLATE, {**self.VALUES, "site": empty})
        without_line = {name: value for name, value in self.VALUES.items() if name != "line"}
        with self.assertRaisesRegex(ValueError, "'{line}' has no value"):
            mqtt.isa95_topic(self.TEMPLATE, without_line)

    def test_templates_that_cannot_make_a_topic_are_refused(self):
        for template, reason in (
            ("{enterprise}//{flow}", "empty level"),
            ("/{enterprise}", "empty level"),
            ("{enterprise}/#", "wildcard"),
            ("$SYS/{enterprise}", "starts with '\\$'"),
            ("{site!r}", "plain name"),
            ("{site:>9}", "plain name"),
        ):
            with self.subTest(template=template), self.assertRaisesRegex(ValueError, reason):
                mqtt.isa95_topic(template, self.VALUES)


@tagged("post_install", "-at_install")
class TestAmqpTransport(BaseCase):
    """AMQP 0-9-1 against a RabbitMQ node; and MQTT 3.1.1, which the node's MQTT plugin speaks (only)."""

    PASSWORD = "rabbit-secret-91c2"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = cls.enterClassContext(
            brokers.RabbitMQ(
                users={"plant": cls.PASSWORD, "viewer": "viewer-secret"},
                read_only=["viewer"],
                queues=["orders"],
                exchanges={"plant": "topic"},
                # What the node's MQTT listener takes goes to amq.topic, '/' turned into '.'.
                bindings=[("plant", "orders", "orders.#"), ("amq.topic", "orders", "orders.#")],
                mqtt=True,
            )
        )
        _logger.info("RabbitMQ node booted in %.1f s", cls.broker.start_seconds[0])

    def setUp(self):
        super().setUp()
        self.addCleanup(amqp.close_publishers)
        with self.consumer() as channel:
            channel.queue_purge("orders")

    @contextlib.contextmanager
    def consumer(self):
        """A channel of a connection of its own: a broker restart cannot leave it stale."""
        parameters = pika.ConnectionParameters(
            brokers.LOOPBACK,
            self.broker.port,
            self.broker.vhost,
            pika.PlainCredentials("plant", self.PASSWORD),
        )
        connection = pika.BlockingConnection(parameters)
        try:
            yield connection.channel()
        finally:
            connection.close()

    def outgoing(self, **values):
        return Outgoing(
            **{
                "target": self.broker.url_for("plant"),
                "body": b'{"order": "SO-1"}',
                "message_key": "sale_order.confirmed.k1",
                "topic": "orders.confirmed",
                "options": {"exchange": "plant"},
                "secrets": {"password": self.PASSWORD},
                "read_timeout": 4,
                **values,
            }
        )

    def consume(self, count, timeout=10):
        """The next ``count`` messages of the queue ``orders``: ``(properties, body)`` each."""
        taken = []
        with self.consumer() as channel:
            for method, properties, body in channel.consume(
                "orders", auto_ack=True, inactivity_timeout=timeout
            ):
                if method is None:
                    break
                taken.append((properties, body))
                if len(taken) == count:
                    break
        self.assertEqual(len(taken), count, f"{len(taken)} of {count} messages came within {timeout} s")
        return taken

    def test_a_consumer_receives_the_body_with_its_id_type_and_headers(self):
        result = send(
            self.outgoing(headers={"x-correlation-id": "c-42", "x-plant": "lyon"}, ordering_key="SO-1")
        )
        self.assertEqual(result.outcome, DELIVERED, result.error)
        ((properties, body),) = self.consume(1)
        self.assertEqual(body, b'{"order": "SO-1"}')
        self.assertEqual(properties.message_id, "sale_order.confirmed.k1")
        self.assertEqual(properties.content_type, "application/json")
        self.assertEqual(properties.correlation_id, "c-42")
        self.assertEqual(properties.delivery_mode, pika.DeliveryMode.Persistent.value)
        self.assertEqual(
            properties.headers, {"x-correlation-id": "c-42", "x-plant": "lyon", "ordering-key": "SO-1"}
        )

    def test_messages_of_one_key_arrive_in_the_order_they_were_published(self):
        for number in range(20):
            result = send(
                self.outgoing(body=str(number).encode(), message_key=f"m{number}", ordering_key="SO-7")
            )
            self.assertEqual(result.outcome, DELIVERED, result.error)
        received = self.consume(20)
        self.assertEqual([body for _properties, body in received], [str(n).encode() for n in range(20)])

    def test_a_broker_that_went_down_is_retry_then_delivered_once_it_is_back(self):
        self.assertEqual(send(self.outgoing()).outcome, DELIVERED)  # a connection is now kept
        self.consume(1)
        self.broker.stop()
        result = send(self.outgoing(message_key="while-down"))
        self.assertEqual(result.outcome, RETRY)
        self.assertIn("Connection refused", result.error)
        self.broker.start()
        _logger.info("RabbitMQ application started again in %.1f s", self.broker.start_seconds[-1])
        result = send(self.outgoing(message_key="while-down"))
        self.assertEqual(result.outcome, DELIVERED, result.error)
        self.assertEqual(self.consume(1)[0][0].message_id, "while-down")

    def test_a_kept_connection_that_a_restart_broke_is_opened_again(self):
        self.assertEqual(send(self.outgoing()).outcome, DELIVERED)
        self.broker.stop()
        self.broker.start()
        result = send(self.outgoing(message_key="after-restart"))
        self.assertEqual(result.outcome, DELIVERED, result.error)
        self.assertEqual(
            [p.message_id for p, _body in self.consume(2)], ["sale_order.confirmed.k1", "after-restart"]
        )

    def test_a_broker_that_does_not_answer_is_retry(self):
        # A message no queue takes: it is refused, the connection is kept, and what is published while the
        # broker is frozen cannot reach the queue of another test once it is thawed.
        outgoing = self.outgoing(options={}, topic="no-such-queue", read_timeout=2)
        self.assertEqual(send(outgoing).outcome, REFUSED)
        self.broker.freeze()
        self.addCleanup(self.broker.thaw)
        started = time.monotonic()
        result = send(outgoing)
        elapsed = time.monotonic() - started
        self.assertEqual(result.outcome, RETRY)
        self.assertIn("stopped answering", result.error)
        self.assertLess(elapsed, outgoing.read_timeout + 10 + 3)  # the heartbeat bound of amqp.py, and slack

    def test_refused_credentials_are_refused_in_words_without_the_password(self):
        result = send(self.outgoing(secrets={"password": "not-the-password"}))
        self.assertEqual(result.outcome, REFUSED)
        self.assertIn("refused our login", result.error)
        self.assertIn("ACCESS_REFUSED", result.error)
        self.assertNotIn("not-the-password", result.error)

    def test_a_user_without_write_access_is_refused(self):
        result = send(
            self.outgoing(target=self.broker.url_for("viewer"), secrets={"password": "viewer-secret"})
        )
        self.assertEqual(result.outcome, REFUSED)
        self.assertIn("403 ACCESS_REFUSED - access to exchange 'plant'", result.error)

    def test_a_message_no_queue_takes_is_refused_and_not_lost_silently(self):
        unroutable = send(self.outgoing(topic="invoices.posted"))
        self.assertEqual(unroutable.outcome, REFUSED)
        self.assertIn("no queue takes routing key 'invoices.posted' on exchange 'plant'", unroutable.error)
        unknown_exchange = send(self.outgoing(options={"exchange": "nowhere"}))
        self.assertEqual(unknown_exchange.outcome, REFUSED)
        self.assertIn("404 NOT_FOUND", unknown_exchange.error)
        # The broker closed the channel, not the connection: the next delivery opens another.
        default_exchange = send(self.outgoing(options={}, topic="orders", message_key="direct"))
        self.assertEqual(default_exchange.outcome, DELIVERED, default_exchange.error)
        self.assertEqual(self.consume(1)[0][0].message_id, "direct")

    def test_the_same_outgoing_sent_twice_carries_the_same_message_id(self):
        outgoing = self.outgoing(message_key="sale_order.confirmed.twice")
        self.assertEqual(send(outgoing).outcome, DELIVERED)
        self.assertEqual(send(outgoing).outcome, DELIVERED)  # as after a confirm lost on the way back
        copies = self.consume(2)
        self.assertEqual([p.message_id for p, _body in copies], ["sale_order.confirmed.twice"] * 2)
        kept = {properties.message_id: body for properties, body in copies}  # what a consumer keeps
        self.assertEqual(len(kept), 1)

    def test_an_mqtt_broker_that_knows_no_mqtt_5_takes_the_message_over_3_1_1(self):
        # RabbitMQ 3.10's MQTT plugin hangs up on an MQTT 5 CONNECT without a word.
        self.addCleanup(mqtt.close_sessions)
        outgoing = Outgoing(
            target=f"mqtt://plant@{brokers.LOOPBACK}:{self.broker.mqtt_port}",
            body=b"over 3.1.1",
            message_key="legacy",
            topic="orders/legacy",
            headers={"x-plant": "lyon"},
            secrets={"password": self.PASSWORD},
        )
        result = send(outgoing)
        self.assertEqual(result.outcome, DELIVERED, result.error)
        self.assertEqual(result.excerpt, "PUBACK")  # a 3.1.1 PUBACK: no reason code
        ((properties, body),) = self.consume(1)
        self.assertEqual(body, b"over 3.1.1")
        self.assertEqual(
            properties.headers, {"x-mqtt-publish-qos": 1, "x-mqtt-dup": False}
        )  # no user properties
        refused = send(Outgoing(**{**outgoing.__dict__, "secrets": {"password": "not-the-password"}}))
        self.assertEqual(refused.outcome, REFUSED)
        self.assertIn("refused the connection: Bad user name or password", refused.error)
