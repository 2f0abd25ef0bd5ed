"""End to end: a small shift of the plant simulator against the live server agrees with Odoo.

Five orders on a backend (and plant) of the test's own, a fixed seed: the
MES starts, pauses, resumes and finishes them, confirms quantities with
scrap, consumption and lots, stops a machine, holds an order, sends some
events again (once twice at once) and two out of order, keys one order in
before Odoo has it, and sends two events with codes Odoo does not know; the
CMMS reports two breakdowns and approves a maintenance window.
Odoo must end with exactly what the plant reported: no message stuck,
exactly the two bad events in exception, quantities and time as sent.
"""

import os
import uuid

from simulator.scenario import Counts
from simulator.shift import Settings, play


def test_small_shift_agrees(server_url, credentials):
    login, password = credentials
    summary = play(
        Settings(
            url=server_url,
            database=os.environ["INTEGRATION_DB"],
            login=login,
            password=password,
            backend=f"e2e-sim-{uuid.uuid4().hex[:6]}",
            create_backend=True,
            counts=Counts(
                orders=5,
                retries=3,
                concurrent=1,
                out_of_order=2,
                mes_first=1,
                downtimes=1,
                holds=1,
                bad=2,
                breakdowns=2,
                windows=1,
            ),
            seed=7,
            shift_minutes=20,
            real_minutes=0.5,
            settle_timeout=60,
            order_timeout=30,
        )
    )
    sent = summary.sent
    assert (sent["orders"], sent["mes_first"], sent["expected_exceptions"]) == (5, 1, 2)
    assert sent["resent"] == 3 and sent["resent_concurrently"] == 1
    assert (sent["breakdowns"], sent["maintenance_windows"]) == (2, 1)
    assert {check.name for check in summary.checks} >= {"breakdowns", "windows"}
    assert summary.agree, summary.text()
