"""Odoo as the simulator reaches it: JSON-RPC over HTTP, as any outside program would.

The simulator imports nothing of Odoo: it must see the suite as a plant and
its planners do, through the server's public interfaces only.
"""

import itertools

import requests

RPC_TIMEOUT_SECONDS = 120


class OdooError(RuntimeError):
    """Odoo refused a call: the message is Odoo's own, in words."""


class OdooUnavailable(OdooError):
    """Odoo answered, but had lost its database: nothing was done, and the call may be made again.

    After a database restart the first request on each pooled connection
    fails this way (``psycopg2`` errors, not a refusal); a person clicks again.
    """


DATABASE_LOST = ("psycopg2.OperationalError", "psycopg2.InterfaceError")


class Odoo:
    """One user's calls to Odoo's models over ``/jsonrpc`` (one kept-alive HTTP session per thread).

    ``requests.Session`` is not thread-safe, so each thread that calls Odoo
    (the planner, the checks) should have an ``Odoo`` of its own:
    :meth:`another` opens one for the same user without logging in again.
    """

    def __init__(self, url, database, login, password, uid=None):
        self.url = url.rstrip("/")
        self.database = database
        self.login = login
        self.password = password
        self._ids = itertools.count(1)
        self._http = requests.Session()
        # Without the database in a header Odoo lists every database before each sessionless call.
        self._http.headers["X-Odoo-Database"] = database
        self.uid = uid or self._call("common", "authenticate", database, login, password, {})
        if not self.uid:
            raise OdooError(f"cannot log in to database {database} at {self.url} as {login}")

    def another(self):
        """A client of its own for another thread, as the same user."""
        return Odoo(self.url, self.database, self.login, self.password, uid=self.uid)

    def _call(self, service, method, *args):
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(self._ids),
            "params": {"service": service, "method": method, "args": list(args)},
        }
        answer = self._http.post(f"{self.url}/jsonrpc", json=body, timeout=RPC_TIMEOUT_SECONDS)
        answer.raise_for_status()
        result = answer.json()
        if "error" in result:
            error = result["error"]
            data = error.get("data", {})
            failure = OdooUnavailable if data.get("name") in DATABASE_LOST else OdooError
            raise failure(data.get("message") or error.get("message"))
        return result.get("result")  # a method that returns None leaves it out

    def call(self, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` as this user."""
        return self._call(
            "object", "execute_kw", self.database, self.uid, self.password, model, method, list(args), kwargs
        )

    def search_read(self, model, domain, fields, **kwargs):
        return self.call(model, "search_read", domain, fields=fields, **kwargs)

    def ensure(self, model, domain, values, context=None):
        """The id of the first record matching ``domain``, created with ``values`` when there is none.

        What makes seeding idempotent: a second run finds what the first made.
        """
        found = self.call(model, "search", domain, limit=1, context=context or {})
        if found:
            return found[0]
        return self.call(model, "create", values, context=context or {})
