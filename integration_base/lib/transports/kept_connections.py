# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Broker connections kept per thread and target, and opened anew when they broke.

Opening a broker connection costs round trips (TCP, TLS, login) that a
delivery would otherwise pay each time; a kept one can have broken since it
was last used, though, without anything saying so until it is used. A
connection here is any object with ``usable()`` (a cheap check that nothing
pending says it closed) and ``close()``.
"""

import hashlib
import threading


class KeptConnections:
    """This thread's connections by key (target and a digest of the credentials)."""

    def __init__(self):
        self._local = threading.local()

    def _connections(self):
        return self._local.__dict__.setdefault("connections", {})

    def use(self, key, open_connection, action, stale):
        """``action(connection)`` on the kept connection of ``key``, or on one ``open_connection()`` makes.

        When a kept connection fails with ``stale`` (an exception class), the
        broker may have dropped it while it sat idle: ``action`` is done once
        more on a fresh connection. A fresh one that fails lets it through.
        """
        connections = self._connections()
        connection = connections.get(key)
        if connection is not None and not connection.usable():
            connections.pop(key).close()
            connection = None
        if connection is None:
            return action(self._open(key, open_connection))
        try:
            return action(connection)
        except stale:
            return action(self._open(key, open_connection))

    def _open(self, key, open_connection):
        connections = self._connections()
        previous = connections.pop(key, None)
        if previous is not None:
            previous.close()
        connections[key] = open_connection()
        return connections[key]

    def close_all(self):
        """Close this thread's connections (tests, and a worker that stops)."""
        for connection in self._local.__dict__.pop("connections", {}).values():
            connection.close()


def connection_key(outgoing, *extra):
    """Connections are kept per target and credentials; the password is kept only as a digest."""
    password = (outgoing.secrets or {}).get("password", "")
    return (outgoing.target, hashlib.sha256(password.encode()).hexdigest(), *extra)
