# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""MQTT out: publish one delivery with QoS 1 and call it delivered only on the broker's PUBACK.

Targets are ``mqtt://user@host:port`` or ``mqtts://`` (TLS, checked against
the system's authorities or ``options["ca_file"]``); the password is
``secrets["password"]`` and never part of the URL. The session speaks MQTT 5
when the broker does, so that the message id, the ordering key, the headers
and the content type travel as properties a subscriber can read without
opening the body; with an MQTT 3.1.1 broker only the body travels, and a
topic the broker does not allow cannot be told from a delivered one (3.1.1
acknowledges both alike).

Each thread keeps one session per target, driven by hand (no network thread
of its own): a session that broke, or sat idle for as long as the broker
would keep it, is opened anew before the next delivery.
"""

import contextlib
import ssl
import string
import time
import uuid
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from .base import DELIVERED, REFUSED, RETRY, DeliveryResult
from .http import elapsed_ms
from .kept_connections import KeptConnections, connection_key

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
KEEPALIVE = 60  # seconds; the broker drops a silent session after 1.5 times this
# Reason codes that mean "not now" rather than "no" (MQTT 5, CONNACK and PUBACK).
TRANSIENT_REASONS = {
    0x88,  # server unavailable
    0x89,  # server busy
    0x97,  # quota exceeded
    0x9F,  # connection rate exceeded
}
UNSUPPORTED_PROTOCOL_VERSION = 0x84
TOPIC_FORBIDDEN = str.maketrans({"/": "_", "+": "_", "#": "_", "\0": "_"})

SESSIONS = KeptConnections()


class BrokerUnavailable(Exception):
    """The broker cannot take the message now (down, gone, silent, busy); said in words."""


class SessionBroke(BrokerUnavailable):
    """The session was closed under us: a kept one may just be stale, a fresh one is worth a try."""


class BrokerRefused(Exception):
    """The broker said no for a reason a person must fix (credentials, topic, certificate)."""


def send(outgoing):
    """Publish ``outgoing.body`` on ``outgoing.topic``; never raises for trouble on the way."""
    started = time.monotonic()
    try:
        address = broker_address(outgoing.target)
        if not outgoing.topic:
            raise ValueError("an MQTT delivery needs a topic: set the contract's topic")
        reason = SESSIONS.use(
            connection_key(outgoing),
            lambda: Session(address, outgoing),
            lambda session: session.publish(outgoing),
            stale=SessionBroke,
        )
    except (ValueError, BrokerRefused) as error:
        return DeliveryResult(REFUSED, elapsed_ms(started), error=str(error))
    except BrokerUnavailable as error:
        return DeliveryResult(RETRY, elapsed_ms(started), error=str(error))
    if reason is None or not reason.is_failure:
        return DeliveryResult(DELIVERED, elapsed_ms(started), excerpt=str(reason or "PUBACK"))
    outcome = RETRY if reason.value in TRANSIENT_REASONS else REFUSED
    error = f"the broker did not take the message on '{outgoing.topic}': {reason}"
    return DeliveryResult(outcome, elapsed_ms(started), error=error)


def broker_address(target):
    """``(tls, host, port, username)`` of an ``mqtt://`` or ``mqtts://`` target; ``ValueError`` otherwise."""
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"'{target}' is not an MQTT broker: write mqtt://user@host:port or mqtts://")
    if parts.password:
        raise ValueError("the MQTT password belongs in the backend's credential, not in the URL")
    username = unquote(parts.username) if parts.username else None
    return scheme == "mqtts", parts.hostname, parts.port or DEFAULT_PORTS[scheme], username


def close_sessions():
    """Close this thread's sessions (tests, and a worker that stops)."""
    SESSIONS.close_all()


class Session:
    """One connected paho client, MQTT 5 unless the broker only speaks 3.1.1."""

    def __init__(self, address, outgoing):
        self.address = address
        self.acks = {}  # message id -> PUBACK reason code
        self.client = None
        self.last_used = time.monotonic()
        try:
            self.connect(outgoing, MQTTProtocolVersion.MQTTv5)
        except (UnsupportedProtocol, SessionBroke):
            # A 3.1.1 broker answers MQTT 5 with "unacceptable protocol version", or hangs up unanswered.
            self.connect(outgoing, MQTTProtocolVersion.MQTTv311)

    @property
    def mqtt5(self):
        return self.client.protocol == MQTTProtocolVersion.MQTTv5

    def connect(self, outgoing, protocol):
        tls, host, port, username = self.address
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"odoo-integration-{uuid.uuid4().hex[:12]}",
            protocol=protocol,
            clean_session=None if protocol == MQTTProtocolVersion.MQTTv5 else True,
        )
        client.connect_timeout = outgoing.connect_timeout
        if username:
            client.username_pw_set(username, outgoing.secrets.get("password"))
        if tls:
            client.tls_set_context(ssl.create_default_context(cafile=outgoing.options.get("ca_file")))
        answer = {}
        client.on_connect = lambda _client, _data, _flags, reason, _props: answer.setdefault("reason", reason)
        acks = self.acks  # not self: a client that refers back to its session would outlive it
        client.on_publish = lambda _client, _data, mid, reason, _props: acks.__setitem__(mid, reason)
        self.client = client
        try:
            client.connect(host, port, keepalive=KEEPALIVE)
        except ssl.SSLCertVerificationError as error:
            raise BrokerRefused(
                f"the certificate of {host}:{port} is not trusted: {error.verify_message}"
            ) from None
        except OSError as error:
            raise BrokerUnavailable(f"cannot reach the MQTT broker at {host}:{port}: {error}") from None
        self.wait(lambda: "reason" in answer, outgoing.connect_timeout, "CONNACK")
        reason = answer["reason"]
        if reason.is_failure:
            self.close()
            if reason.value == UNSUPPORTED_PROTOCOL_VERSION and protocol == MQTTProtocolVersion.MQTTv5:
                raise UnsupportedProtocol()
            refusal = f"the MQTT broker at {host}:{port} refused the connection: {reason}"
            if reason.value in TRANSIENT_REASONS:
                raise BrokerUnavailable(refusal)
            if username is None:
                refusal += " (the URL names no user: write mqtt://user@host)"
            raise BrokerRefused(refusal)

    def usable(self):
        """Connected, not idle past what the broker allows, and nothing pending says it closed."""
        if time.monotonic() - self.last_used > KEEPALIVE:
            return False
        return self.client.loop(timeout=0) == MQTTErrorCode.MQTT_ERR_SUCCESS and self.client.is_connected()

    def publish(self, outgoing):
        """Publish with QoS 1 and wait for its PUBACK: its reason code (None from a 3.1.1 broker)."""
        self.last_used = time.monotonic()
        info = self.client.publish(
            outgoing.topic, outgoing.body, qos=1, retain=False, properties=self.properties(outgoing)
        )
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self.close()
            raise SessionBroke(f"the MQTT session is lost: {paho.error_string(info.rc)}")
        self.wait(lambda: info.mid in self.acks, outgoing.read_timeout, "PUBACK")
        reason = self.acks.pop(info.mid)
        return reason if self.mqtt5 else None

    def properties(self, outgoing):
        """MQTT 5 properties: content type and user properties for the key, ordering key and headers."""
        if not self.mqtt5:
            return None
        properties = Properties(PacketTypes.PUBLISH)
        properties.ContentType = outgoing.content_type
        pairs = [("message-id", outgoing.message_key)]
        if outgoing.ordering_key:
            pairs.append(("ordering-key", outgoing.ordering_key))
        pairs += [(str(name), str(value)) for name, value in outgoing.headers.items()]
        properties.UserProperty = pairs
        return properties

    def wait(self, done, timeout, what):
        """Run the network loop until ``done()``; ``SessionBroke`` if the session drops, ``BrokerUnavailable``
        if time is up (the broker is silent: a fresh session would wait as long)."""
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise BrokerUnavailable(f"the MQTT broker sent no {what} within {timeout:g} s")
            rc = self.client.loop(timeout=min(remaining, 1.0))
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and not done():
                self.close()
                raise SessionBroke(
                    f"the MQTT broker closed the session before its {what}: {paho.error_string(rc)}"
                )

    def close(self):
        if self.client is not None:
            with contextlib.suppress(OSError, ValueError):  # already gone: nothing left to say goodbye to
                self.client.disconnect()


class UnsupportedProtocol(Exception):
    """The broker does not speak MQTT 5: the session is tried again with 3.1.1."""


def isa95_topic(template, values):
    """The topic ``template`` (``"{enterprise}/{site}/{area}/{line}/{flow}"``) filled with ``values``.

    ISA-95 topics name one level per tier of the plant. A value must stay one
    level whatever it holds: ``/`` would add levels, ``+`` and ``#`` are
    wildcards a broker refuses in a topic it is given, NUL ends a string in C
    brokers; each becomes ``_``. A level left empty (a missing site code) would
    publish next to the plant's real topics, so it is refused with a
    ``ValueError`` that names it, as is a placeholder without a value.
    """
    rendered = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        rendered.append(literal)
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValueError(f"topic placeholder '{{{name}}}' must be a plain name, as {{site}}")
        if name not in values:
            raise ValueError(f"topic placeholder '{{{name}}}' has no value: give one for {name}")
        level = "" if values[name] is None else str(values[name]).strip()
        if not level:
            raise ValueError(f"topic level '{name}' is empty in '{template}': give {name} a value")
        rendered.append(level.translate(TOPIC_FORBIDDEN))
    topic = "".join(rendered)
    levels = topic.split("/")
    if "" in levels:
        raise ValueError(
            f"topic '{topic}' has an empty level: remove the doubled or outer '/' of '{template}'"
        )
    if any(char in topic for char in "+#\0"):
        raise ValueError(f"topic template '{template}' holds a wildcard or NUL: topics to publish on cannot")
    if topic.startswith("$"):
        raise ValueError(f"topic '{topic}' starts with '$', which brokers keep for themselves")
    if len(topic.encode()) > 65535:
        raise ValueError("the topic is longer than MQTT's 65535 bytes")
    return topic
