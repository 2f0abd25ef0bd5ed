"""Scenario 9: a plant's shift, played by the simulator, through a PostgreSQL restart.

The simulated MES works through a shift (operations started, paused and
finished, partial and final confirmations with scrap and lots, a machine
stop, a quality hold, events sent again and out of order, an order keyed in
at the plant first) while the planner keeps creating orders in Odoo and
Odoo sends them to the MES. Halfway through, the database server goes away
and comes back. Meanwhile the webhooks answer 503 with ``Retry-After``, the
MES sends again with the same ids, the planner clicks again, and at the end
Odoo must agree with the plant on every order, as after a quiet shift.

Restarts the whole PostgreSQL cluster: run it alone (./setup/test does).
"""

import os
import threading
import time
import uuid

from scenario import sized
from test_database_restart import cluster, restart_database_server, wait_for_database

from simulator.scenario import Counts
from simulator.shift import Settings, play

ORDERS = sized(8, 30)
REAL_MINUTES = sized(1.5, 4.0)
OUTAGE_SECONDS = sized(5, 15)


def test_a_shift_through_a_database_restart_ends_as_the_plant_reported(node, scenario_database):
    version, name = cluster()
    restarted = threading.Event()

    def restart_mid_shift():
        time.sleep(REAL_MINUTES * 60 / 2)
        restart_database_server(version, name, OUTAGE_SECONDS)
        restarted.set()

    restarter = threading.Thread(target=restart_mid_shift, daemon=True)
    restarter.start()
    summary = play(
        Settings(
            url=node.url,
            database=scenario_database,
            login=os.environ.get("INTEGRATION_LOGIN", "admin"),
            password=os.environ.get("INTEGRATION_PASSWORD", "admin"),
            backend=f"rel-shift-{uuid.uuid4().hex[:6]}",
            create_backend=True,
            counts=Counts(orders=ORDERS, bad=1),
            seed=11,
            shift_minutes=60,
            real_minutes=REAL_MINUTES,
            settle_timeout=300,
            order_timeout=OUTAGE_SECONDS * 4 + 120,
        )
    )
    restarter.join()
    wait_for_database(scenario_database)

    assert restarted.is_set(), "the database was not restarted during the shift"
    assert summary.sent["orders"] == ORDERS
    assert summary.agree, summary.text()
