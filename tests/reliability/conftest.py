"""Fixtures of the reliability scenarios: a database and prefork servers of their own per scenario.

A scenario kills workers, restarts PostgreSQL or starts a second node, so it
never shares a server with other tests: each gets a fresh copy of the test
database (``INTEGRATION_TEMPLATE_DB``, which no server may be using) and
starts its servers on ports from ``RELIABILITY_HTTP_PORT`` (default 8569).
``./setup/test`` runs them after the end-to-end tests, with ``ODOO_BIN`` and
``ODOO_CONF`` set; the figures of every scenario are printed at the end.
"""

import itertools
import os
from pathlib import Path

import psycopg2
import pytest
import scenario
from odoo_rpc import OdooRpc, OdooSession

_databases = itertools.count(1)


def pytest_terminal_summary(terminalreporter):
    if not scenario.CHECKED:
        return
    columns = (
        "sent",
        "accepted",
        "done",
        "exception",
        "lost",
        "applied_twice",
        "requests",
        "unavailable",
        "server_errors",
    )
    terminalreporter.section(f"reliability figures ({'full' if scenario.FULL else 'short'} run)")
    terminalreporter.write_line(" | ".join(("scenario", *columns, "notes")))
    for figures in scenario.CHECKED:
        cells = [str(getattr(figures, column)) for column in columns]
        notes = ", ".join(f"{key} {value}" for key, value in figures.notes.items())
        terminalreporter.write_line(" | ".join((figures.scenario, *cells, notes)))


@pytest.fixture
def scenario_database():
    """A fresh copy of the test database, dropped after the scenario (kept with RELIABILITY_KEEP=1)."""
    template = os.environ.get("INTEGRATION_TEMPLATE_DB")
    if not template:
        pytest.exit("INTEGRATION_TEMPLATE_DB is not set: run the scenarios with ./setup/test", 2)
    name = f"{template}_r{next(_databases)}"
    scenario.clone_database(template, name)
    yield name
    if not os.environ.get("RELIABILITY_KEEP"):
        scenario.drop_database(name)


@pytest.fixture
def database(scenario_database):
    """A direct connection to the scenario's database, to watch it (never to change it)."""
    connection = psycopg2.connect(dbname=scenario_database)
    connection.autocommit = True
    yield connection
    connection.close()


@pytest.fixture
def start_node(scenario_database, request):
    """``start_node(workers=2, options={...})``: a prefork server on the scenario's database.

    Each node gets the next port (``RELIABILITY_HTTP_PORT``, then +10) and a log
    of its own in the log folder; every node still running is stopped after the test.
    """
    nodes = []
    base_port = int(os.environ.get("RELIABILITY_HTTP_PORT", "8569"))
    log_dir = Path(os.environ.get("RELIABILITY_LOG_DIR", scenario.REPO / ".local" / "log"))
    log_dir.mkdir(parents=True, exist_ok=True)

    def start(workers=2, options=None, env=None):
        index = len(nodes)
        log_path = log_dir / f"reliability-{request.node.name}-node{index + 1}.log"
        log_path.unlink(missing_ok=True)
        node = scenario.Node(scenario_database, base_port + 10 * index, log_path, workers, options, env)
        nodes.append(node)
        node.start()
        return node

    yield start
    for node in nodes:
        if node.process and node.process.poll() is None:
            node.stop()


@pytest.fixture
def node(start_node):
    """The scenario's one server (most scenarios need one)."""
    return start_node()


@pytest.fixture
def server_url(node):
    return node.url


@pytest.fixture
def rpc(server_url, scenario_database):
    return OdooRpc(server_url, scenario_database)


@pytest.fixture
def odoo_factory(scenario_database):
    """``odoo_factory(node)``: the admin's JSON-RPC session on one node (scenarios with several)."""

    def session(node):
        return OdooSession(
            OdooRpc(node.url, scenario_database),
            os.environ.get("INTEGRATION_LOGIN", "admin"),
            os.environ.get("INTEGRATION_PASSWORD", "admin"),
        )

    return session


@pytest.fixture
def odoo(rpc):
    return OdooSession(
        rpc, os.environ.get("INTEGRATION_LOGIN", "admin"), os.environ.get("INTEGRATION_PASSWORD", "admin")
    )
