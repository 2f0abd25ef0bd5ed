"""End to end on the prefork server: concurrency, kill -9 and recovery, through the real runner.

./setup/test serves the test database with ``workers = 2`` (two HTTP worker
processes, and queue_job's runner and the cron in processes of their own) and
passes the master's pid in INTEGRATION_SERVER_PID, so that a test can kill one
of its workers with SIGKILL while it drains a backlog.
"""

import json
import os
import signal
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from itertools import pairwise

import psycopg2
import pytest
import requests
from standardwebhooks.webhooks import Webhook
from test_delivery import subscribe_to_new_partners
from test_engine import create_partner_contract

from simulator.webhooks import signed_headers

SCHEMA = {
    "type": "object",
    "required": ["ref", "name"],
    "properties": {
        "ref": {"type": "string"},
        "name": {"type": "string"},
        "event_id": {"type": "string"},
        "simulate": {"enum": ["slow", "fail_first"]},
    },
}
SECRET = "whsec_" + "ZTJlLWRpc3BhdGNoZXItdGVzdHMtb25seS1rZXk="
SETTLE_TIMEOUT = 180
RESUME_WITHIN_SECONDS = 15


def server_pid():
    value = os.environ.get("INTEGRATION_SERVER_PID")
    if not value:
        pytest.skip("INTEGRATION_SERVER_PID is not set: the kill tests need the server's master pid")
    return int(value)


def create_backend(odoo, prefix, **flow_values):
    """An active backend with a signing key and the partner contract in force; returns (id, code)."""
    code = f"{prefix}-{uuid.uuid4().hex[:8]}"
    backend_id = odoo.execute(
        "integration.backend",
        "create",
        {"name": code, "code": code, "rate_limit_per_minute": 0, **flow_values.pop("backend", {})},
    )
    odoo.execute(
        "integration.credential", "create", {"backend_id": backend_id, "kind": "hmac", "secret": SECRET}
    )
    odoo.execute("integration.backend", "action_activate", [backend_id])
    create_partner_contract(odoo, backend_id, schema=json.dumps(SCHEMA), **flow_values)
    return backend_id, code


def post_signed(server_url, code, body, msg_id, path=""):
    return requests.post(
        f"{server_url}/integration/v1/{code}/test.partner{path}",
        data=body,
        headers=signed_headers(Webhook(SECRET), msg_id, body),
        timeout=120,
    )


@pytest.fixture
def database():
    """A direct connection to the server's database, to watch it while both workers are busy draining.

    Observing only: every change goes through HTTP as a plant's or a user's would.
    """
    connection = psycopg2.connect(dbname=os.environ["INTEGRATION_DB"])
    connection.autocommit = True
    yield connection
    connection.close()


def states(database, backend_id):
    with database.cursor() as cr:
        cr.execute(
            "SELECT state, count(*) FROM integration_message WHERE backend_id = %s GROUP BY state",
            [backend_id],
        )
        return dict(cr.fetchall())


def wait_until_settled(database, backend_id, total):
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        counts = states(database, backend_id)
        if counts.get("done", 0) + counts.get("exception", 0) + counts.get("dead", 0) == total:
            return counts
        time.sleep(0.5)
    raise AssertionError(f"not settled after {SETTLE_TIMEOUT} s: {counts}")


def kill_a_draining_worker(database, backend_code, master_pid, until):
    """SIGKILL the worker process that runs a drain job of the backend; returns (pid, when)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if until():
            with database.cursor() as cr:
                cr.execute(
                    "SELECT worker_pid FROM queue_job WHERE channel = %s AND state = 'started'",
                    [f"root.integration.{backend_code}"],
                )
                pids = [pid for (pid,) in cr.fetchall() if pid]
            for pid in pids:
                if _parent_of(pid) == master_pid:
                    os.kill(pid, signal.SIGKILL)
                    return pid, datetime.now(tz=UTC).replace(tzinfo=None)
        time.sleep(0.02)
    raise AssertionError("no drain job was seen running in a worker")


def assert_resumed_soon(database, backend_id, killed_at):
    """Some message of the backend was done within RESUME_WITHIN_SECONDS of the kill."""
    with database.cursor() as cr:
        cr.execute(
            "SELECT min(finished_at) FROM integration_message WHERE backend_id = %s AND finished_at > %s",
            [backend_id, killed_at],
        )
        first_done = cr.fetchone()[0]
    assert first_done, "nothing was done after the kill"
    resumed_after = (first_done - killed_at).total_seconds()
    assert resumed_after <= RESUME_WITHIN_SECONDS, f"processing resumed {resumed_after} s after the kill"


def partners_made(odoo, ref_prefix):
    """The partners the test processor made for messages whose ``ref`` starts with the prefix, in order."""
    return odoo.execute(
        "res.partner",
        "search_read",
        [["ref", "=like", f"{ref_prefix}%"]],
        fields=["ref", "name", "function"],
        order="id",
    )


def assert_applied_in_order_per_key(partners, arrival=None):
    """Partners made by "slow" test messages (keyed by name) were made in order, one after the other.

    The order of a key is the order its messages arrived in: ``arrival`` maps
    each ``ref`` to its message's id; without it, refs were sent one after the
    other and sort as they arrived. Returns the pids of the processes that made them.
    """
    by_key = defaultdict(list)
    processes = set()
    for partner in partners:
        _state, _attempt, interval, pid = partner["function"].split(" ")
        processes.add(pid)
        started, finished = (float(moment) for moment in interval.split("-"))
        by_key[partner["name"]].append((partner["ref"], started, finished))
    for key, applied in by_key.items():
        refs = [ref for ref, _started, _finished in applied]
        assert refs == sorted(refs, key=arrival.__getitem__ if arrival else None), f"{key}: out of order"
        for (_ref, _start, previous_end), (ref, start, _end) in pairwise(applied):
            assert start >= previous_end, f"{key}: {ref} started before the previous message of its key ended"
    return processes


def _parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_concurrent_duplicates_store_one_message_and_every_answer_names_it(odoo, server_url):
    backend_id, code = create_backend(odoo, "e2e-dup", idempotency_key_pointer="/event_id")
    same_webhook = json.dumps({"ref": f"DUP-{uuid.uuid4().hex[:6]}", "name": "Same webhook-id"})
    same_event = json.dumps({"ref": "DUP-E", "name": "Same event", "event_id": f"evt-{uuid.uuid4().hex}"})
    webhook_id = f"msg_{uuid.uuid4().hex}"
    for label, body, msg_id in (
        ("same webhook-id", same_webhook, lambda _i: webhook_id),
        ("same event id", same_event, lambda i: f"msg_{uuid.uuid4().hex}_{i}"),
    ):
        barrier = threading.Barrier(16)
        answers = [None] * 16

        def send(index, body=body, msg_id=msg_id, barrier=barrier, answers=answers):
            barrier.wait()
            answers[index] = post_signed(server_url, code, body, msg_id(index))

        threads = [threading.Thread(target=send, args=(index,)) for index in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = Counter(answer.status_code for answer in answers)
        assert statuses[202] == 1 and statuses[200] == 15, (label, statuses, [a.text for a in answers])
        ids = {answer.json()["message_id"] for answer in answers}
        assert len(ids) == 1 and all(ids), (label, ids)
        assert {answer.json()["duplicate"] for answer in answers if answer.status_code == 200} == {True}
    assert odoo.execute("integration.message", "search_count", [["backend_id", "=", backend_id]]) == 2


def test_a_message_held_behind_a_failing_one_goes_on_by_itself(odoo, database):
    backend_id, _code = create_backend(
        odoo, "e2e-held", ordering_key_pointer="/name", retry_backoff_seconds=1
    )
    run = uuid.uuid4().hex[:6]
    key = f"held-{run}"
    blocker = odoo.execute(
        "integration.backend",
        "ingest",
        [backend_id],
        "test.partner",
        {"ref": f"H{run}-1", "name": key, "simulate": "fail_first"},
    )
    held = odoo.execute(
        "integration.backend", "ingest", [backend_id], "test.partner", {"ref": f"H{run}-2", "name": key}
    )
    assert wait_until_settled(database, backend_id, 2) == {"done": 2}
    messages = odoo.execute(
        "integration.message",
        "read",
        [blocker["message_id"], held["message_id"]],
        fields=["attempts", "finished_at"],
    )
    assert [message["attempts"] for message in messages] == [2, 1], "the blocker failed once, then both went"
    assert messages[0]["finished_at"] <= messages[1]["finished_at"]
    partners = odoo.execute("res.partner", "search_read", [["name", "=", key]], fields=["ref"], order="id")
    assert [partner["ref"] for partner in partners] == [f"H{run}-1", f"H{run}-2"]


def test_killed_worker_loses_doubles_and_reorders_nothing_inbound(odoo, server_url, database):
    """300 messages over 30 keys; a worker is killed mid-drain; every message is applied once, in order."""
    master = server_pid()
    backend_id, code = create_backend(odoo, "e2e-kill", ordering_key_pointer="/name")
    run = uuid.uuid4().hex[:6]
    total = 300
    for start in range(0, total, 100):
        batch = [
            {"ref": f"K{run}-{index:04d}", "name": f"key-{run}-{index % 30:02d}", "simulate": "slow"}
            for index in range(start, start + 100)
        ]
        answer = post_signed(server_url, code, json.dumps(batch), f"batch_{run}_{start}", path="/batch")
        assert answer.status_code == 200 and answer.json()["accepted"] == 100, answer.text

    _pid, killed_at = kill_a_draining_worker(
        database, code, master, until=lambda: states(database, backend_id).get("done", 0) >= 30
    )
    counts = wait_until_settled(database, backend_id, total)
    assert counts == {"done": total}, counts
    assert_resumed_soon(database, backend_id, killed_at)

    partners = partners_made(odoo, f"K{run}-")
    refs = Counter(partner["ref"] for partner in partners)
    assert len(refs) == total and set(refs.values()) == {1}, "every message applied exactly once"
    processes = assert_applied_in_order_per_key(partners)
    assert len(processes) >= 2, f"the backlog was applied by more than one worker process: {processes}"

    recovered = odoo.execute(
        "integration.message",
        "search_read",
        [["backend_id", "=", backend_id], ["transition_log", "ilike", "recovered"]],
        fields=["attempts"],
    )
    assert len(recovered) <= 1, "only the message in hand at the kill is taken again"
    assert all(message["attempts"] == 2 for message in recovered)


def test_killed_worker_redelivers_only_the_message_in_flight_outbound(odoo, partner_server, database):
    master = server_pid()
    answer = partner_server.Answer(200, delay=0.03)
    with partner_server.PartnerServer(default=answer) as subscriber:
        backend_id, code = create_backend(
            odoo,
            "e2e-out-kill",
            direction="outbound",
            backend={"outbound_url": subscriber.url},
        )
        run = uuid.uuid4().hex[:6]
        subscription_id = subscribe_to_new_partners(odoo, backend_id, f"OK{run}-")
        total = 150
        odoo.execute(
            "res.partner", "create", [{"name": f"Out {i}", "ref": f"OK{run}-{i:04d}"} for i in range(total)]
        )
        try:
            _pid, killed_at = kill_a_draining_worker(
                database, code, master, until=lambda: len(subscriber.requests) >= 20
            )
            counts = wait_until_settled(database, backend_id, total)
        finally:
            odoo.execute("integration.subscription", "write", [subscription_id], {"active": False})
        assert counts == {"done": total}, counts
        assert_resumed_soon(database, backend_id, killed_at)
        delivered = Counter(headers["webhook-id"] for headers, _body in subscriber.requests)
    messages = odoo.execute(
        "integration.message",
        "search_read",
        [["backend_id", "=", backend_id]],
        fields=["flow_code", "idempotency_key", "transition_log"],
    )
    webhook_ids = {f"{m['flow_code']}.{m['idempotency_key']}": m for m in messages}
    assert set(delivered) == set(webhook_ids), "every message delivered"
    again = [webhook_id for webhook_id, count in delivered.items() if count > 1]
    assert len(again) <= 1, f"re-delivered more than the message in flight: {again}"
    for webhook_id in again:
        assert "recovered" in webhook_ids[webhook_id]["transition_log"], "a re-delivery is a recovery"
