# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""AMQP 0-9-1 out: publish one delivery to an exchange and call it delivered only on the broker's confirm.

Targets are ``amqp://user@host:port/vhost`` (``%2F`` for the vhost ``/``);
the password is ``secrets["password"]``. The exchange is
``options["exchange"]`` (the default exchange when unset, where the routing
key is a queue name) and the routing key is the topic. Messages are
persistent and published with ``mandatory``, so that a message no queue
takes comes back and is refused instead of vanishing; the message id is the
message key, for a consumer to drop a copy it already has.

pika's blocking connection has no deadline per call: a broker that stops
answering is noticed by the heartbeat (half the read timeout, checked by
pika every heartbeat + 5 s, so within read timeout + 10 s), and a broker
that blocks publishers (memory or disk alarm) by the blocked-connection
timeout, set to the read timeout. Each thread keeps one connection per
target and opens it anew when it broke or sat idle too long for its
heartbeats (we send none while idle).
"""

import contextlib
import logging
import time
from urllib.parse import unquote, urlsplit

import pika
from pika import exceptions as amqp_errors
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from .base import DELIVERED, REFUSED, RETRY, DeliveryResult
from .http import elapsed_ms
from .kept_connections import KeptConnections, connection_key

DEFAULT_PORT = 5672
# Channel and connection close codes that a person must act on; any other is "try later".
REFUSING_CODES = {
    403,  # ACCESS_REFUSED: the user may not write to this exchange
    404,  # NOT_FOUND: no such exchange
    406,  # PRECONDITION_FAILED: e.g. larger than the broker accepts
    530,  # NOT_ALLOWED: e.g. no access to the vhost
}
# Refusals of the login, by pika's exception (the broker closed the connection while opening it).
LOGIN_REFUSALS = (
    (amqp_errors.ProbableAuthenticationError, "the AMQP broker refused our login"),
    (amqp_errors.AuthenticationError, "the AMQP broker refused our login"),
    (amqp_errors.ProbableAccessDeniedError, "the AMQP broker refused the vhost"),
)
CORRELATION_HEADERS = ("x-correlation-id", "correlation-id", "correlation_id")

PUBLISHERS = KeptConnections()
# pika logs every failure it meets as several ERROR lines, though the delivery's result already says it
# in words: a refused login would fill the log at each attempt.
logging.getLogger("pika").setLevel(logging.CRITICAL)


class BrokerUnavailable(Exception):
    """The broker cannot take the message now (down, gone, silent, blocked); said in words."""


class ConnectionBroke(BrokerUnavailable):
    """The connection was closed under us: a kept one may just be stale, a fresh one is worth a try."""


def send(outgoing):
    """Publish ``outgoing`` and wait for the broker's confirm; never raises for trouble on the way."""
    started = time.monotonic()
    try:
        parameters = connection_parameters(outgoing)
        PUBLISHERS.use(
            connection_key(outgoing, parameters.heartbeat),
            lambda: Publisher(parameters),
            lambda publisher: publisher.publish(outgoing),
            stale=ConnectionBroke,
        )
    except (ValueError, BrokerUnavailable, amqp_errors.AMQPError) as error:
        outcome, words = outcome_of(error, outgoing)
        return DeliveryResult(outcome, elapsed_ms(started), error=words)
    return DeliveryResult(DELIVERED, elapsed_ms(started), excerpt="confirmed")


def outcome_of(error, outgoing):
    """``(outcome, words)`` of a delivery that ended in ``error``."""
    if isinstance(error, amqp_errors.UnroutableError):
        return REFUSED, unroutable(outgoing)
    for kind, said in LOGIN_REFUSALS:
        if isinstance(error, kind):
            return REFUSED, f"{said}: {error}"
    if isinstance(error, (amqp_errors.ChannelClosedByBroker, amqp_errors.ConnectionClosedByBroker)):
        outcome = REFUSED if error.reply_code in REFUSING_CODES else RETRY
        return (
            outcome,
            f"the AMQP broker closed the {closed_part(error)}: {error.reply_code} {error.reply_text}",
        )
    if isinstance(error, amqp_errors.NackError):
        return RETRY, "the AMQP broker could not take the message (nack): it will be sent again"
    if isinstance(error, ValueError):
        return REFUSED, str(error)
    return RETRY, str(error) if isinstance(error, BrokerUnavailable) else describe(error)


def connection_parameters(outgoing):
    """pika's parameters for the target and credentials of ``outgoing``; ``ValueError`` for a bad target."""
    parts = urlsplit(outgoing.target)
    if parts.scheme.lower() != "amqp" or not parts.hostname:
        raise ValueError(f"'{outgoing.target}' is not an AMQP broker: write amqp://user@host:port/vhost")
    if parts.password:
        raise ValueError("the AMQP password belongs in the backend's credential, not in the URL")
    if not parts.username:
        raise ValueError(f"'{outgoing.target}' names no user: write amqp://user@host:port/vhost")
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    heartbeat = max(1, round(outgoing.read_timeout / 2))
    return pika.ConnectionParameters(
        host=parts.hostname,
        port=parts.port or DEFAULT_PORT,
        virtual_host=vhost,
        credentials=pika.PlainCredentials(unquote(parts.username), outgoing.secrets.get("password", "")),
        connection_attempts=1,
        socket_timeout=outgoing.connect_timeout,
        stack_timeout=outgoing.connect_timeout,
        heartbeat=heartbeat,
        blocked_connection_timeout=outgoing.read_timeout,
        client_properties={"connection_name": "odoo-integration"},
    )


def message_properties(outgoing):
    """Persistent, with the message key as id, the correlation id when the headers carry one, and headers."""
    headers = {str(name): str(value) for name, value in outgoing.headers.items()}
    if outgoing.ordering_key:
        headers["ordering-key"] = outgoing.ordering_key
    by_lower_name = {name.lower(): value for name, value in headers.items()}
    correlation = next((by_lower_name[name] for name in CORRELATION_HEADERS if name in by_lower_name), None)
    return pika.BasicProperties(
        content_type=outgoing.content_type,
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=outgoing.message_key,
        correlation_id=correlation,
        timestamp=int(time.time()),
        headers=headers,
    )


def unroutable(outgoing):
    exchange = outgoing.options.get("exchange", "")
    where = f"exchange '{exchange}'" if exchange else "the default exchange"
    return (
        f"no queue takes routing key '{outgoing.topic or ''}' on {where}: the broker returned the "
        "message; bind a queue for it or correct the topic"
    )


def closed_part(error):
    return "channel" if isinstance(error, amqp_errors.ChannelClosedByBroker) else "connection"


def close_publishers():
    """Close this thread's connections (tests, and a worker that stops)."""
    PUBLISHERS.close_all()


class Publisher:
    """One blocking connection and its channel in confirm mode."""

    def __init__(self, parameters):
        self.heartbeat = parameters.heartbeat
        self.channel = None
        try:
            self.connection = pika.BlockingConnection(parameters)
        except (
            amqp_errors.ProbableAuthenticationError,
            amqp_errors.AuthenticationError,
            amqp_errors.ProbableAccessDeniedError,
            amqp_errors.ConnectionClosedByBroker,
        ):
            raise  # the broker answered: send() tells what it said
        except (amqp_errors.AMQPError, AMQPConnectorException, OSError) as error:
            where = f"{parameters.host}:{parameters.port}"
            raise BrokerUnavailable(f"cannot reach the AMQP broker at {where}: {describe(error)}") from None
        self.last_used = time.monotonic()

    def usable(self):
        """Open, not idle past half its heartbeat (we send none while idle), and nothing pending closed it."""
        if not self.connection.is_open or time.monotonic() - self.last_used > self.heartbeat / 2:
            return False
        try:
            self.connection.process_data_events(time_limit=0)
        except (amqp_errors.AMQPError, OSError):
            return False
        return self.connection.is_open

    def publish(self, outgoing):
        """Publish and wait for the confirm; pika's exceptions say why not (connection trouble as ours)."""
        self.last_used = time.monotonic()
        try:
            if self.channel is None or not self.channel.is_open:
                self.channel = self.connection.channel()
                self.channel.confirm_delivery()
            self.channel.basic_publish(
                exchange=outgoing.options.get("exchange", ""),
                routing_key=outgoing.topic or "",
                body=outgoing.body,
                properties=message_properties(outgoing),
                mandatory=True,
            )
        except (amqp_errors.ChannelClosedByBroker, amqp_errors.UnroutableError, amqp_errors.NackError):
            raise
        except amqp_errors.ConnectionClosedByBroker as error:
            if error.reply_code in REFUSING_CODES:
                raise
            self.close()
            raise ConnectionBroke(f"the AMQP broker closed the connection: {describe(error)}") from None
        except amqp_errors.AMQPHeartbeatTimeout as error:
            self.close()
            raise BrokerUnavailable(f"the AMQP broker stopped answering: {describe(error)}") from None
        except (amqp_errors.AMQPError, OSError) as error:
            self.close()
            raise ConnectionBroke(f"the AMQP connection was lost: {describe(error)}") from None

    def close(self):
        with contextlib.suppress(amqp_errors.AMQPError, OSError):  # already gone: nothing to say goodbye to
            if self.connection.is_open:
                self.connection.close()


def describe(error):
    """pika's exceptions often have an empty message and their cause in an argument: say both."""
    cause = error.args[0] if error.args and isinstance(error.args[0], BaseException) else None
    cause = cause or getattr(error, "exception", None)  # pika's connector errors keep it there
    text = describe(cause) if cause is not None else str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
