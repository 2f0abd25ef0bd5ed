"""Scenario 7: two Odoo servers on one database, as a site that outgrew one machine runs them.

Both are prefork servers with queue_job's runner enabled. queue_job lets one
runner lead (a PostgreSQL advisory lock) while the other waits to take over.
The plant's requests alternate between the two, as behind a load balancer.
Shown: the rate limit of a backend holds for both servers together; every
message is applied exactly once and in order per key while both serve; and
when the leading node dies (SIGKILL of its whole process group) the other's
runner takes over and finishes the backlog.
"""

import os
import signal
import time
import uuid
from collections import Counter

from scenario import Figures, Plant, arrival_order, settle, sized
from test_dispatcher import assert_applied_in_order_per_key, create_backend, partners_made

MESSAGES = sized(200, 1500)
KEYS = sized(30, 150)
RATE_LIMIT = sized(20, 100)
SENDERS = 8


def wait_for_a_fresh_minute(margin_seconds):
    """Sleep until at least ``margin_seconds`` are left in the current minute (rate windows are minutes)."""
    while 60 - time.time() % 60 < margin_seconds:
        time.sleep(0.5)


def leading_runner(database, nodes):
    """The node whose job runner holds queue_job's master lock (a one-key advisory lock), if any.

    Odoo names its connections ``odoo-<pid>`` (``db_app_name``): the pid says
    which process, so which node, holds the lock.
    """
    runners = {pid: node for node in nodes for pid in node.processes("WorkerJobRunner")}
    with database.cursor() as cr:
        cr.execute(
            """SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
                  AND a.datname = current_database()"""
        )
        names = [name for (name,) in cr.fetchall()]
    pids = [int(name.rsplit("-", 1)[1]) for name in names if name.startswith("odoo-")]
    return next((runners[pid] for pid in pids if pid in runners), None)


def check_the_rate_limit_is_shared(first, second, odoo):
    _backend_id, code = create_backend(odoo, "rel-rate", backend={"rate_limit_per_minute": RATE_LIMIT})
    plant = Plant([first.url, second.url], code)
    run = uuid.uuid4().hex[:6]
    wait_for_a_fresh_minute(margin_seconds=30)
    statuses = Counter(
        plant.post("test.partner", f'{{"ref": "R{run}-{index}", "name": "rate"}}').status_code
        for index in range(2 * RATE_LIMIT)
    )
    figures = Figures(
        "two nodes: shared rate limit",
        sent=2 * RATE_LIMIT,
        accepted=statuses[202],
        requests=plant.requests,
        unavailable=plant.unavailable,
        server_errors=plant.server_errors,
        notes={"limit per minute": RATE_LIMIT, "refused 429": statuses[429]},
    )
    figures.check()
    assert statuses == {202: RATE_LIMIT, 429: RATE_LIMIT}, statuses


def test_two_nodes_share_limits_apply_once_in_order_and_survive_the_loss_of_one(
    start_node, odoo_factory, database
):
    first, second = start_node(), start_node()
    odoo = odoo_factory(second)
    check_the_rate_limit_is_shared(first, second, odoo)
    backend_id, code = create_backend(odoo, "rel-nodes", ordering_key_pointer="/name")
    plant = Plant([first.url, second.url], code)
    run = uuid.uuid4().hex[:6]
    payloads = [
        {"ref": f"N{run}-{index:05d}", "name": f"key-{run}-{index % KEYS:03d}", "simulate": "slow"}
        for index in range(MESSAGES)
    ]
    started = time.monotonic()
    accepted = plant.deliver_all("test.partner", payloads, SENDERS)
    settle(database, [backend_id], MESSAGES // 3)

    # The node whose runner leads dies whole; the other one's runner must take over.
    leader = leading_runner(database, (first, second))
    dying = leader or first
    surviving = second if dying is first else first
    os.killpg(dying.process.pid, signal.SIGKILL)
    dying.process.wait()
    killed_at = time.monotonic()
    states = settle(database, [backend_id], MESSAGES)
    took_over_after = time.monotonic() - killed_at

    partners = partners_made(odoo_factory(surviving), f"N{run}-")
    figures = Figures.of_plant(
        "two nodes: applied once, in order, one node lost",
        plant,
        MESSAGES,
        accepted,
        states,
        partners,
        notes={
            "runner leader lost": "yes" if leader else "none found",
            "backlog finished after the loss (s)": round(took_over_after),
            "seconds": round(time.monotonic() - started),
        },
    )
    figures.check()
    assert leader, "no runner held queue_job's master lock"
    assert states == {"done": MESSAGES}, states
    assert_applied_in_order_per_key(partners, arrival_order(database, backend_id))
