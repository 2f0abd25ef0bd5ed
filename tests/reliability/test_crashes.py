"""Scenario 1: HTTP workers and the job runner killed with SIGKILL, again and again, under load.

Thousands of messages over many ordering keys are posted by a plant that
retries (same ``webhook-id``) while a killer takes down, in turn, an HTTP
worker (which also runs drain jobs: queue_job's runner sends jobs to the HTTP
workers) and the job runner. The prefork master starts new ones. When the
queue has drained, every message is done, each partner (the processor's
business effect) exists exactly once, and each key's messages were applied
one after the other, in order.
"""

import threading
import time
import uuid
from collections import Counter

from scenario import Figures, Plant, arrival_order, settle, sized
from test_dispatcher import assert_applied_in_order_per_key, create_backend, partners_made

MESSAGES = sized(400, 2000)
KEYS = sized(40, 200)
KILL_EVERY_SECONDS = sized(3.0, 6.0)
SENDERS = 8


def kill_in_turn(node, stop, kills):
    """Every few seconds, SIGKILL an HTTP worker, then the job runner, then a worker again..."""
    roles = ("WorkerHTTP", "WorkerJobRunner")
    turn = 0
    while not stop.wait(KILL_EVERY_SECONDS):
        role = roles[turn % len(roles)]
        victims = node.processes(role)
        if victims:
            node.kill_pid(victims[0])
            kills[role] += 1
            turn += 1


def test_killed_workers_and_runner_lose_double_and_reorder_nothing(node, odoo, database):
    backend_id, code = create_backend(odoo, "rel-crash", ordering_key_pointer="/name")
    run = uuid.uuid4().hex[:6]
    plant = Plant(node.url, code)
    payloads = [
        {"ref": f"C{run}-{index:05d}", "name": f"key-{run}-{index % KEYS:03d}", "simulate": "slow"}
        for index in range(MESSAGES)
    ]
    kills = Counter()
    stop = threading.Event()
    killer = threading.Thread(target=kill_in_turn, args=(node, stop, kills), daemon=True)
    killer.start()
    started = time.monotonic()
    try:
        accepted = plant.deliver_all("test.partner", payloads, SENDERS)
        # Keep killing while the backlog drains, until most of it is done.
        while settle(database, [backend_id], MESSAGES * 3 // 4, timeout=1).get("done", 0) < MESSAGES * 3 // 4:
            if time.monotonic() - started > sized(300, 1200):
                break
    finally:
        stop.set()
        killer.join()
    states = settle(database, [backend_id], MESSAGES)

    partners = partners_made(odoo, f"C{run}-")
    figures = Figures.of_plant(
        "worker and runner crashes",
        plant,
        MESSAGES,
        accepted,
        states,
        partners,
        notes={
            "HTTP workers killed": kills["WorkerHTTP"],
            "runners killed": kills["WorkerJobRunner"],
            "seconds": round(time.monotonic() - started),
        },
    )
    figures.check()
    assert kills["WorkerHTTP"] >= 1 and kills["WorkerJobRunner"] >= 1, (
        f"the scenario killed too little: {kills}"
    )
    assert states == {"done": MESSAGES}, states

    assert_applied_in_order_per_key(partners, arrival_order(database, backend_id))
