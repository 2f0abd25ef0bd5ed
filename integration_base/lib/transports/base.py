# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What every transport takes and gives back: plain data, no Odoo.

The engine resolves everything a delivery needs (the rendered body, the
headers, the target, the secrets) inside a transaction, commits, and only
then hands an :class:`Outgoing` to the transport of the target's scheme. The
transport moves the bytes and answers a :class:`DeliveryResult`; it never
raises for trouble on the way (that is an outcome), and never touches the
database.

Inbound transports (polling, folders) hand back :class:`Incoming` items, each
with a key that stays the same when it is fetched again, so that a fetch that
fails halfway and is repeated stores nothing twice.
"""

from dataclasses import dataclass, field

EXCERPT_LIMIT = 1000

# Outcomes of one delivery attempt, for the dispatcher.
DELIVERED = "delivered"  # the receiver has it
RETRY = "retry"  # not taken now (down, slow, asked to slow down): try again later
REFUSED = "refused"  # the receiver said no: a person must look


@dataclass
class Outgoing:
    """One delivery attempt, resolved: what to send, where, and with which secrets.

    ``target`` is a URL whose scheme picks the transport (``https://``,
    ``file:///``, ``sftp://``, ``mqtt://``, ``amqp://``). ``message_key`` is
    the same for every attempt of one message (the ``webhook-id``, the file
    name, the broker's message id), so that a receiver can drop a copy it
    already has. ``topic`` is a broker topic or routing key, or the file name
    for folder transports. ``secrets`` holds decrypted credentials by kind
    (``password``, ``private_key``, ``token``...), never logged.
    """

    target: str
    body: bytes
    message_key: str
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    topic: str | None = None
    ordering_key: str | None = None
    secrets: dict = field(default_factory=dict, repr=False)
    options: dict = field(default_factory=dict)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


@dataclass
class DeliveryResult:
    """What happened to one attempt.

    ``status_code`` is the HTTP status (None for other transports or when no
    answer came); ``excerpt`` a bounded piece of the answer; ``retry_after``
    the seconds the receiver asked us to wait, if it did.
    """

    outcome: str
    latency_ms: int
    excerpt: str = ""
    error: str = ""
    status_code: int | None = None
    retry_after: int | None = None


@dataclass
class Incoming:
    """One item an inbound transport fetched: its bytes and a key that is stable across fetches.

    ``key`` identifies the item at its source (a file name with its content
    hash, an event id of a polled API); ``name`` is what people read (the file
    name); ``content_type`` tells the format when the source says it.
    """

    key: str
    body: bytes
    name: str = ""
    content_type: str = ""
    meta: dict = field(default_factory=dict)


@dataclass
class Source:
    """Where an inbound transport fetches from, resolved like :class:`Outgoing`.

    ``url`` is a polled API (``https://``) or a folder (``file:///``,
    ``sftp://user@host:port/path``) holding ``in/``, ``processed/`` and
    ``error/`` sub-folders. ``options`` are the kind's settings (the cursor's
    query parameter, the pointer to the items of a page...).
    """

    url: str
    secrets: dict = field(default_factory=dict, repr=False)
    options: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


class TransportError(Exception):
    """A fetch could not be done now (the source is down, refuses our credentials...); said in words."""
