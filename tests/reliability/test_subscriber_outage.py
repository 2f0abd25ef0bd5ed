"""Scenario 3: the outbound subscriber is away for a long while, three ways, then recovers.

A real local HTTP server stands for the subscriber. First nothing listens on
its address (connections refused), then it answers 503 with ``Retry-After``,
then it hangs past the backend's read timeout; then it answers 200. Meanwhile
business events keep raising outbound messages over many ordering keys.
Afterwards every message was delivered, each key's messages (the renames of
one partner) in order, none sent before the one ahead of it was delivered,
every attempt is logged, and no
worker was killed for running too long (hanging calls end at the read
timeout, inside the job's time limit).
"""

import json
import socket
import time
import uuid
from collections import defaultdict
from itertools import pairwise

from scenario import Figures, settle, sized
from test_delivery import subscribe_to_new_partners
from test_dispatcher import create_backend

PHASE_SECONDS = sized(6, 45)
KEYS = sized(5, 25)
RENAMES_PER_PHASE = sized(3, 10)
READ_TIMEOUT = 2.0


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def attempts_by_message(database, backend_id):
    """``{webhook-id: (attempts, attempts logged, attempts that reached the subscriber, delivered)}``."""
    with database.cursor() as cr:
        cr.execute(
            """SELECT m.flow_code || '.' || m.idempotency_key, m.attempts, count(a.id),
                      count(a.id) FILTER (WHERE a.status_code > 0 OR a.error LIKE 'timeout%%'),
                      count(a.id) FILTER (WHERE a.outcome = 'delivered')
                 FROM integration_message m LEFT JOIN integration_delivery_attempt a ON a.message_id = m.id
                WHERE m.backend_id = %s GROUP BY m.id""",
            [backend_id],
        )
        return {webhook_id: counts for webhook_id, *counts in cr.fetchall()}


def overtaken_in_their_key(received):
    """Pairs (ahead, behind) of one key where "behind" came before "ahead" had come for the last time.

    The key of a rename is its partner (``ref``); its place in the key, the
    version in its new name. A retried message comes several times: the last
    time is the one that was delivered.
    """
    first_seen, last_seen, by_key = {}, {}, defaultdict(dict)
    for position, (headers, body) in enumerate(received):
        data = json.loads(body)["data"]
        webhook_id = headers["webhook-id"]
        first_seen.setdefault(webhook_id, position)
        last_seen[webhook_id] = position
        by_key[data["ref"]][data["name"]] = webhook_id
    return [
        (ahead, behind)
        for renames in by_key.values()
        for (_name, ahead), (_next_name, behind) in pairwise(sorted(renames.items()))
        if first_seen[behind] < last_seen[ahead]
    ]


def test_subscriber_outage_delays_but_loses_and_reorders_nothing(node, odoo, database, partner_server):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    backend_id, _code = create_backend(
        odoo,
        "rel-out",
        direction="outbound",
        ordering_key_pointer="/name",
        retry_backoff_seconds=1,
        retry_max=sized(12, 14),
        backend={"outbound_url": url, "read_timeout": READ_TIMEOUT, "connect_timeout": 1.0},
    )
    run = uuid.uuid4().hex[:6]
    partner_ids = odoo.execute(
        "res.partner",
        "create",
        [{"name": f"O{run}-{key:03d} v0000", "ref": f"O{run}-{key:03d}"} for key in range(KEYS)],
    )
    subscription_id = subscribe_to_new_partners(
        odoo, backend_id, f"O{run}-", event_code="test.partner.renamed"
    )
    made = 0
    version = 0

    def raise_events():
        """A phase's worth of renames (each one outbound message), every partner (key) several times."""
        nonlocal made, version
        for _turn in range(RENAMES_PER_PHASE):
            version += 1
            for partner_id, key in zip(partner_ids, range(KEYS), strict=True):
                odoo.execute(
                    "res.partner", "write", [partner_id], {"name": f"O{run}-{key:03d} v{version:04d}"}
                )
            made += KEYS

    started = time.monotonic()
    raise_events()  # nothing listens: connections refused
    time.sleep(PHASE_SECONDS)
    unavailable = partner_server.Answer(503, '{"error": "maintenance"}', headers={"Retry-After": "2"})
    with partner_server.PartnerServer(default=unavailable, port=port) as subscriber:
        raise_events()
        time.sleep(PHASE_SECONDS)
        subscriber.default = partner_server.Answer(200, delay=READ_TIMEOUT + 1.5)  # answers too late
        raise_events()
        time.sleep(PHASE_SECONDS)
        subscriber.default = partner_server.Answer(200)
        raise_events()
        states = settle(database, [backend_id], made)
        received = list(subscriber.requests)
    odoo.execute("integration.subscription", "write", [subscription_id], {"active": False})

    messages = attempts_by_message(database, backend_id)
    columns = zip(*messages.values(), strict=True)
    attempts_made, attempts_logged, reached, delivered = (sum(column) for column in columns)
    overtaken = overtaken_in_their_key(received)
    seen = {headers["webhook-id"] for headers, _body in received}
    log = node.log_text()
    figures = Figures(
        "subscriber outage",
        sent=made,
        accepted=len(messages),
        done=states.get("done", 0),
        exception=states.get("exception", 0) + states.get("dead", 0),
        lost=made - len(set(messages) & seen),
        applied_twice=sum(1 for counts in messages.values() if counts[3] > 1),
        requests=attempts_made,
        notes={
            "phases": "refused, 503 Retry-After, hanging, 200",
            "seconds each": PHASE_SECONDS,
            "requests received": len(received),
            "attempts logged": attempts_logged,
            "overtaken": len(overtaken),
            "seconds": round(time.monotonic() - started),
        },
    )
    figures.check()
    assert states == {"done": made}, states
    assert delivered == made, "each message has exactly one delivered attempt"
    assert attempts_logged == attempts_made, "every attempt is logged"
    assert reached == len(received), "every request the subscriber got is an attempt, answered or timed out"
    assert not overtaken, f"messages delivered before the one ahead of them in their key: {overtaken[:5]}"
    assert "timeout after" not in log and "virtual real time limit" not in log, "a worker was killed for time"
