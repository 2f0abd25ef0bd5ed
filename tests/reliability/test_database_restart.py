"""Scenario 2: PostgreSQL restarted under ingest load.

A plant keeps posting while the database server stops, stays away for a
while and starts again. Meanwhile the webhooks answer 503 with
``Retry-After`` (nothing stored), and the plant retries each delivery with
the same ``webhook-id`` as Standard Webhooks allows. Afterwards every message
was applied exactly once and the server (HTTP workers, cron, job runner)
works again without anyone restarting it.

Restarts the whole PostgreSQL cluster: run it alone (./setup/test does).
"""

import shutil
import subprocess
import threading
import time
import uuid

import psycopg2
import pytest
import requests
from scenario import Figures, Plant, settle, sized
from test_dispatcher import create_backend, partners_made

MESSAGES = sized(300, 2000)
OUTAGE_SECONDS = sized(5, 20)
RESTARTS = sized(1, 3)
SENDERS = 4


def cluster():
    """(version, name) of the local PostgreSQL cluster, as Debian's tools name it."""
    if not shutil.which("pg_lsclusters"):
        pytest.skip("Debian's pg_lsclusters is not there: cannot restart PostgreSQL here")
    version, name, *_rest = subprocess.run(
        ["pg_lsclusters", "-h"], check=True, capture_output=True, text=True
    ).stdout.split()
    return version, name


def restart_database_server(version, name, outage_seconds):
    """Stop PostgreSQL (fast: open connections are cut), stay down, start it again."""
    subprocess.run(["pg_ctlcluster", version, name, "stop", "-m", "fast"], check=True)
    time.sleep(outage_seconds)
    subprocess.run(["pg_ctlcluster", version, name, "start"], check=True)


def wait_for_database(database_name, timeout=60):
    """The database accepts connections again (psql exits 0)."""
    deadline = time.monotonic() + timeout
    command = ["psql", "-d", database_name, "-tAc", "SELECT 1"]
    while subprocess.run(command, check=False, capture_output=True).returncode:
        assert time.monotonic() < deadline, "PostgreSQL did not come back"
        time.sleep(0.5)


def test_database_restart_under_load_loses_and_doubles_nothing(node, odoo, scenario_database):
    version, name = cluster()
    backend_id, code = create_backend(odoo, "rel-pg")
    run = uuid.uuid4().hex[:6]
    plant = Plant(node.url, code, give_up_after=OUTAGE_SECONDS * 6 + 120)
    payloads = [{"ref": f"P{run}-{index:05d}", "name": f"PG restart {index}"} for index in range(MESSAGES)]
    started = time.monotonic()

    def restarts():
        for turn in range(RESTARTS):
            # Restart when about (turn + 1) / (RESTARTS + 1) of the messages have been tried.
            while plant.requests < MESSAGES * (turn + 1) // (RESTARTS + 1):
                time.sleep(0.05)
            restart_database_server(version, name, OUTAGE_SECONDS)

    restarter = threading.Thread(target=restarts, daemon=True)
    restarter.start()
    accepted = plant.deliver_all("test.partner", payloads, SENDERS)
    restarter.join()
    wait_for_database(scenario_database)

    with psycopg2.connect(dbname=scenario_database) as connection:
        connection.autocommit = True
        states = settle(connection, [backend_id], MESSAGES)
    health = requests.get(f"{node.url}/integration/v1/health", timeout=60)
    partners = partners_made(odoo, f"P{run}-")
    figures = Figures.of_plant(
        "database restart",
        plant,
        MESSAGES,
        accepted,
        states,
        partners,
        notes={
            "restarts": RESTARTS,
            "outage seconds each": OUTAGE_SECONDS,
            "seconds": round(time.monotonic() - started),
        },
    )
    figures.check(unavailable_allowed=True)
    assert states == {"done": MESSAGES}, states
    assert health.status_code == 200, f"the server did not recover by itself: {health.text}"
