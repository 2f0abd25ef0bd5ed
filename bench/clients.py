"""What each scenario sends: the same client, different requests.

The direct client is what a plant system integrating with Odoo's API would
do for each record; the governed client is the same plant posting signed
messages to the suite's webhooks.
"""

import itertools
import json
import statistics
import time
import xml.etree.ElementTree as ET

import requests
from loadgen import Call, send
from standardwebhooks.webhooks import Webhook

from simulator.webhooks import signed_headers

JSON = {"Content-Type": "application/json"}


def database_header(database):
    """Every client names the database: else Odoo lists all databases on each call without a session.

    (One query on PostgreSQL's ``postgres`` database per call, a tenth of a
    governed ingest; machines that call Odoo should send it.)
    """
    return {"X-Odoo-Database": database}


def floor(url, database):
    """Odoo's route that does nothing: its health check."""
    headers = database_header(database)
    return lambda _n: Call("GET", f"{url}/web/health", headers=headers)


def jsonrpc_create(url, database, password, run):
    """``res.partner`` ``create`` over JSON-RPC, as the administrator (uid 2)."""
    headers = {**JSON, **database_header(database)}

    def make(n):
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": n,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [database, 2, password, "res.partner", "create", [{"name": f"RPC {run}-{n}"}]],
            },
        }
        return Call("POST", f"{url}/jsonrpc", json.dumps(body).encode(), headers)

    return make


def json2_headers(api_key, database):
    return {**JSON, **database_header(database), "Authorization": f"bearer {api_key}"}


def json2_create(url, api_key, database, run):
    """``res.partner`` ``create`` over Odoo 19's JSON-2 API, with an API key."""
    headers = json2_headers(api_key, database)

    def make(n):
        body = json.dumps({"vals_list": [{"name": f"JSON-2 {run}-{n}"}]}).encode()
        return Call("POST", f"{url}/json/2/res.partner/create", body, headers)

    return make


def confirmation(event_id, order_ref, quantity, final=True):
    """An MES production confirmation (``mes.production_confirmation`` v1)."""
    return {
        "event_id": event_id,
        "order_ref": order_ref,
        "produced_qty": quantity,
        "final": final,
        "operator": "bench",
    }


class SignedPoster:
    """Posts to a backend's webhooks, signed as the plant's MES signs (Standard Webhooks)."""

    def __init__(self, url, database, backend_code, secret):
        self.base = f"{url}/integration/v1/{backend_code}/mes.production_confirmation"
        self.signer = Webhook(secret)
        self.database = database

    def call(self, message_id, payload, batch=False, items=1):
        body = json.dumps(payload)
        headers = signed_headers(self.signer, message_id, body, self.database)
        return Call(
            "POST",
            self.base + ("/batch" if batch else ""),
            body.encode(),
            headers,
            items=items,
            accept=(200,) if batch else (202,),
        )

    def singles(self, run, order_refs=None):
        """One confirmation a request: for the orders given in turn, else for orders nobody knows."""

        def make(n):
            ref = order_refs[n] if order_refs else f"BENCH/NONE/{n:07d}"
            return self.call(f"{run}-{n}", confirmation(f"{run}-{n}", ref, 5))

        return make

    def batches(self, run, size):
        def make(n):
            items = [confirmation(f"{run}-{n}-{i}", f"BENCH/NONE/{n:05d}{i:04d}", 5) for i in range(size)]
            return self.call(f"{run}-{n}", items, batch=True, items=size)

        return make


# A direct client calls again when Odoo answers 500 after its own retries of a serialization failure.
DIRECT_TRIES = 3


def direct_confirmation(url, api_key, database, order_refs, quantity):
    """The calls a direct integration makes to apply one final confirmation to its order.

    Find the order by its reference, set the quantity produced, let Odoo
    set the components' quantities from the bill of materials, mark it
    done: four calls, each its own transaction, each called again (up to
    ``DIRECT_TRIES`` times) when orders finishing together collide.
    """
    headers = json2_headers(api_key, database)
    base = f"{url}/json/2/mrp.production"

    def make(n):
        async def work(session):
            status, text = await send(
                session,
                "POST",
                f"{base}/search_read",
                json.dumps(
                    {"domain": [["name", "=", order_refs[n]]], "fields": ["state"], "limit": 1}
                ).encode(),
                headers,
            )
            if status != 200 or not json.loads(text):
                return status, text, 1, False
            ids = [json.loads(text)[0]["id"]]
            steps = (
                ("write", {"ids": ids, "vals": {"qty_producing": quantity}}),
                ("set_qty_producing", {"ids": ids}),
                ("button_mark_done", {"ids": ids, "context": {"skip_backorder": True}}),
            )
            for method, body in steps:
                for _attempt in range(DIRECT_TRIES):
                    status, text = await send(
                        session, "POST", f"{base}/{method}", json.dumps(body).encode(), headers
                    )
                    if status == 200 or "SerializationFailure" not in text:
                        break
                if status != 200:
                    return status, text, 1, False
            return status, text, 1, True

        return work

    return make


class WebClient:
    """A logged-in user's browser, for the monitoring reads: the calls the web client makes."""

    def __init__(self, url, database, login, password):
        self.url = url
        self.http = requests.Session()
        self._ids = itertools.count(1)
        self.rpc("/web/session/authenticate", {"db": database, "login": login, "password": password})

    def rpc(self, path, params):
        answer = self.http.post(
            self.url + path,
            json={"jsonrpc": "2.0", "method": "call", "id": next(self._ids), "params": params},
            timeout=600,
        )
        answer.raise_for_status()
        body = answer.json()
        if "error" in body:
            raise RuntimeError(f"{path}: {body['error']['data']['message']}")
        return body["result"]

    def call(self, model, method, *args, **kwargs):
        return self.rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def view_specification(self, model, view_type):
        """The fields the view of ``view_type`` reads, as the web client asks for them."""
        views = self.call(model, "get_views", [[False, view_type]])
        fields = views["models"][model]["fields"]
        names = []

        def walk(node):
            for child in node:
                if child.tag == "field":
                    names.append(child.get("name"))
                else:
                    walk(child)

        walk(ET.fromstring(views["views"][view_type]["arch"]))
        spec = {}
        for name in names:
            kind = fields[name]["type"]
            if kind in ("one2many", "many2many"):
                continue
            spec[name] = {"fields": {"display_name": {}}} if kind == "many2one" else {}
        return spec


def timed(read, runs):
    """Median milliseconds of ``runs`` calls of ``read`` (after one call that is not counted)."""
    read()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        read()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 1)
