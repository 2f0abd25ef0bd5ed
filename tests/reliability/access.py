"""Calls to Odoo's models as one user over JSON-RPC that say whether Odoo allowed them.

Shared by the access matrix and the secrets scenario: every call is one HTTP
request, counted, and an answer 500 to 599 is counted apart (a refusal must
come back as a JSON-RPC error, never as a server error).
"""

import itertools
import threading

import requests

ALLOWED, DENIED = "yes", "no"
# Odoo's answers to a call the user may not make: the ACLs, a record rule, a field's
# groups, a private method, a session that is not one.
REFUSALS = frozenset(
    {
        "odoo.exceptions.AccessError",
        "odoo.exceptions.AccessDenied",
        "odoo.http.SessionExpiredException",
    }
)


class Counter:
    """The HTTP requests a scenario made and the 5xx answers it got, over every client."""

    def __init__(self):
        self.requests = 0
        self.server_errors = 0
        self.lock = threading.Lock()


class CallRefused(Exception):
    """Odoo answered a JSON-RPC error; ``name`` is the exception's class (``odoo.exceptions.AccessError``)."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class Caller:
    """One user calling models as the web client does: a session, then ``/web/dataset/call_kw``.

    Without a login it is the public user, with no session: every call must be refused.
    (Over ``/jsonrpc`` every call checks the password again, and Odoo's caches, which keep
    the check, are dropped by each backend or contract change: too slow for a matrix.)
    Every answer's text is kept in ``answers`` for the secrets scenario.
    """

    def __init__(self, counter, url, db, login=None, password=None, context=None, keep_answers=False):
        self.counter = counter
        self.url = url.rstrip("/")
        self.login = login or "public"
        self.context = context or {}
        self.session = requests.Session()
        self.keep_answers = keep_answers
        self.answers = []  # (route, text)
        self.uid = None
        if login:
            self.uid = self._post(
                "/web/session/authenticate", {"db": db, "login": login, "password": password}
            )["uid"]
            if not self.uid:
                raise AssertionError(f"{login} cannot log in")

    def _post(self, route, params):
        with self.counter.lock:
            self.counter.requests += 1
        response = self.session.post(
            f"{self.url}{route}",
            json={"jsonrpc": "2.0", "method": "call", "id": next(_ids), "params": params},
            timeout=120,
        )
        if response.status_code >= 500:
            with self.counter.lock:
                self.counter.server_errors += 1
        assert response.status_code < 500, f"{route}: HTTP {response.status_code} {response.text[:300]}"
        if self.keep_answers:
            self.answers.append((route, response.text))
        body = response.json()
        if "error" in body:
            data = body["error"].get("data") or {}
            raise CallRefused(data.get("name", "?"), data.get("message", body["error"].get("message", "")))
        return body["result"]

    def execute(self, model, method, *args, **kwargs):
        if self.context:
            kwargs["context"] = {**self.context, **kwargs.get("context", {})}
        return self._post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def attempt(self, model, method, *args, **kwargs):
        """``(ALLOWED, result)``, ``(DENIED, error)`` or ``(other error's name, error)``."""
        try:
            return ALLOWED, self.execute(model, method, *args, **kwargs)
        except CallRefused as error:
            return (DENIED if error.name in REFUSALS else error.name), error


class ExternalCaller(Caller):
    """The same calls through Odoo's external API, ``/jsonrpc`` (each checks the password)."""

    def __init__(self, counter, url, db, login, password, uid=None):
        super().__init__(counter, url, db)
        self.db, self.login, self.password = db, login, password
        self.uid = uid if uid is not None else self._rpc("common", "authenticate", db, login, password, {})

    def _rpc(self, service, method, *args):
        return self._post("/jsonrpc", {"service": service, "method": method, "args": list(args)})

    def execute(self, model, method, *args, **kwargs):
        return self._rpc(
            "object", "execute_kw", self.db, self.uid, self.password, model, method, list(args), kwargs
        )


_ids = itertools.count(1)
