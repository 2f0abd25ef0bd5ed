"""Odoo's external API as a plant's system or a script calls it: JSON-RPC over HTTP, nothing else."""

import itertools

import pytest
import requests


class OdooRpc:
    """A minimal JSON-RPC client, as an external system would talk to Odoo."""

    def __init__(self, url, db):
        self.url = url.rstrip("/")
        self.db = db
        self._ids = itertools.count(1)

    def call(self, service, method, *args):
        response = requests.post(
            f"{self.url}/jsonrpc",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "id": next(self._ids),
                "params": {"service": service, "method": method, "args": list(args)},
            },
            timeout=60,
        )
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            raise RuntimeError(body["error"]["data"]["message"])
        return body.get("result")  # a method returning None answers without one


class OdooSession:
    """Calls to Odoo's models as one authenticated user, over JSON-RPC."""

    def __init__(self, rpc, login, password):
        self.rpc = rpc
        self.password = password
        self.uid = rpc.call("common", "authenticate", rpc.db, login, password, {})
        if not self.uid:
            pytest.fail(f"cannot log in to {rpc.db} as {login}")

    def execute(self, model, method, *args, **kwargs):
        return self.rpc.call(
            "object", "execute_kw", self.rpc.db, self.uid, self.password, model, method, list(args), kwargs
        )
