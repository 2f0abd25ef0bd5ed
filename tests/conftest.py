"""Fixtures of the end-to-end tests: a real Odoo server reached over HTTP.

./setup/test starts the server on a fresh database and passes its address in
INTEGRATION_URL, INTEGRATION_DB, INTEGRATION_LOGIN, INTEGRATION_PASSWORD and
INTEGRATION_SERVER_LOG. To run these tests against a server of your own, set
those variables and run `.venv/bin/pytest -p no:odoo tests`.
"""

import importlib.util
import os
import time
from pathlib import Path

import pytest
import requests
from odoo_rpc import OdooRpc, OdooSession

SERVER_START_TIMEOUT = 180


def _setting(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(
            f"{name} is not set: the end-to-end tests need a running server (see tests/conftest.py)", 2
        )
    return value


@pytest.fixture(scope="session")
def server_url():
    """The server's base URL, once it answers (it may still be starting)."""
    url = _setting("INTEGRATION_URL")
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        try:
            if requests.get(f"{url}/web/health", timeout=5).status_code == 200:
                return url
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or (prefork) listening while the registry still loads
        if time.monotonic() > deadline:
            pytest.fail(f"no Odoo server answered at {url} within {SERVER_START_TIMEOUT} s")
        time.sleep(1)


@pytest.fixture(scope="session")
def rpc(server_url):
    return OdooRpc(server_url, _setting("INTEGRATION_DB"))


@pytest.fixture(scope="session")
def credentials():
    return _setting("INTEGRATION_LOGIN"), _setting("INTEGRATION_PASSWORD")


@pytest.fixture(scope="session")
def odoo(rpc, credentials):
    return OdooSession(rpc, *credentials)


@pytest.fixture(scope="session")
def server_log():
    return _setting("INTEGRATION_SERVER_LOG")


@pytest.fixture(scope="session")
def partner_server():
    """The module of the partner's HTTP server that Odoo's own tests use (standard library only)."""
    path = Path(__file__).parents[1] / "integration_base" / "tests" / "partner_server.py"
    spec = importlib.util.spec_from_file_location("partner_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
