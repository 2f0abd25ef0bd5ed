"""Playing a shift: the planner creates orders in Odoo while the floor sends what happens to them.

``play(Settings(...))`` is the whole run: seed, start the MES endpoint, play
the plan in (compressed) real time, wait until Odoo has settled, and compare
(see ``summary``). Two sides play at once, as in a plant:

- the planner (a thread) creates and confirms each order in Odoo at its
  release time, over JSON-RPC, as a person would;
- the floor sends each event at its moment through the signed webhooks. Events
  of one order travel in one lane, one after the other; lanes are spread over
  a few sender threads. An order's lane waits until the MES knows the order
  (Odoo's ``mes.production_order`` reached the endpoint), except for orders
  the plant keyed in first, whose events go out before Odoo has the order.
"""

import base64
import secrets
import threading
import time
import zlib
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from queue import Queue

import requests

from . import scenario, seed, summary
from .mes_side import MesEndpoint
from .odoo import Odoo, OdooError, OdooUnavailable
from .webhooks import SignedClient, encode


@dataclass
class Settings:
    """Everything a run needs; the defaults play a shift of 50 orders against the demo database."""

    url: str = "http://127.0.0.1:8069"
    database: str = "integration_demo"
    login: str = "admin"
    password: str = "admin"
    backend: str = "plant-a-mes"
    create_backend: bool = False
    # The CMMS backend of the plant (breakdowns, maintenance windows); by default the demo's
    # plant-a-cmms, or <backend>-cmms beside a backend the simulator makes.
    cmms_backend: str | None = None
    counts: scenario.Counts = field(default_factory=scenario.Counts)
    seed: int = 1
    shift_minutes: float = 60.0
    real_minutes: float = 4.0
    settle_timeout: float = 300.0
    order_timeout: float = 120.0  # how long a lane waits for Odoo to send its order to the MES
    senders: int = 4
    mes_host: str = "127.0.0.1"
    mes_port: int = 0
    run: str | None = None  # names the run's orders, lots and event ids; new each run by default
    log: object = None  # a callable taking one line of progress, or None


def _patiently(call, *args, tries=10, **kwargs):
    for attempt in range(tries):
        try:
            return call(*args, **kwargs)
        except (requests.RequestException, OdooUnavailable):
            if attempt == tries - 1:
                raise
            time.sleep(3)
    return None


def _refusal(body):
    """Odoo's words for a refused post, with the contract's complaints when it has some."""
    details = "; ".join(f"{d.get('pointer')}: {d.get('error')}" for d in body.get("details") or [])
    return f" {body.get('message') or body.get('error') or ''} {details}".rstrip()


class Tally:
    """What the plant sent and what Odoo answered, counted from several threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.kinds = Counter()  # events sent, by kind
        self.statuses = Counter()  # every HTTP status seen, retried ones included
        self.resent = 0
        self.concurrent = 0
        self.problems = []  # answers the suite promises not to give, in words
        self.abandoned = []  # orders whose lane gave up waiting for Odoo's order
        self.planner_errors = []

    def answered(self, event, answer, again):
        with self._lock:
            for status in answer.statuses:
                self.statuses[status] += 1
            odd = [s for s in answer.statuses if not isinstance(s, int) or (s >= 500 and s != 503)]
            expected = (200, 202) if again else (202,)
            if odd or answer.status not in expected:
                self.problems.append(
                    f"{event.key} ({event.flow}{', sent again' if again else ''}): answered {answer.statuses}"
                    + (_refusal(answer.body) if answer.status >= 400 else "")
                )

    def note(self, what, value):
        with self._lock:
            getattr(self, what).append(value)


class Player:
    def __init__(self, settings, plan, seeded, mes, clients, say):
        self.settings = settings
        self.plan = plan
        self.seeded = seeded
        self.mes = mes
        self.clients = clients  # the signed client of each plant system ("mes", "cmms")
        self.say = say
        self.tally = Tally()
        self.refs = {}  # order index -> its reference in Odoo
        ratio = settings.shift_minutes / settings.real_minutes
        self._seconds_per_minute = 60 / ratio
        self._t0 = time.monotonic()
        self.floor_start = datetime.now(tz=UTC).replace(microsecond=0) - timedelta(
            minutes=settings.shift_minutes
        )
        self._queues = [Queue() for _ in range(settings.senders)]

    # --- time ---------------------------------------------------------------------

    def due(self, minute):
        return self._t0 + minute * self._seconds_per_minute

    def floor(self, minute):
        return (self.floor_start + timedelta(seconds=round(minute * 60))).isoformat()

    # --- the planner --------------------------------------------------------------------

    def planner(self, odoo):
        for order in sorted(self.plan.orders, key=lambda o: o.release_at):
            time.sleep(max(0, self.due(order.release_at) - time.monotonic()))
            values = {
                "product_id": self.seeded.products[order.product],
                "product_qty": order.quantity,
                "bom_id": self.seeded.boms[order.product],
                "picking_type_id": self.seeded.picking_type_id,
            }
            if order.plant_ref:
                values["name"] = order.plant_ref
            try:
                self.refs[order.index] = self.release(odoo, values)
            except (OdooError, requests.RequestException) as error:
                self.tally.note("planner_errors", f"order {order.index}: {error}")

    def release(self, odoo, values):
        """Create and confirm one order, as a planner does; the name Odoo gave it.

        Each step is tried again while the server cannot answer (it restarts,
        its database is away), as a person would click again; Odoo's own
        refusals are not.
        """
        production_id = _patiently(odoo.call, "mrp.production", "create", values)
        _patiently(odoo.call, "mrp.production", "action_confirm", [production_id])
        [read] = _patiently(odoo.call, "mrp.production", "read", [production_id], fields=["name"])
        return read["name"]

    # --- the floor ----------------------------------------------------------------------

    def ready(self, item):
        """Whether the MES may send ``item`` now: it knows the order (or keyed it in itself)."""
        if item.order is None:
            return True
        order = self.plan.orders[item.order]
        if order.plant_ref:
            return True
        ref = self.refs.get(order.index)
        return bool(ref) and self.mes.knows(ref)

    def reference(self, index):
        order = self.plan.orders[index]
        return order.plant_ref or self.refs[index]

    def render(self, value):
        if isinstance(value, scenario.Floor):
            return self.floor(value.minute)
        if isinstance(value, dict):
            return {key: self.render(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.render(item) for item in value]
        return value

    def send(self, item):
        if isinstance(item, scenario.Resend):
            event = item.original
            if event.body is None:
                return  # its lane was abandoned before the event itself went out
            self.tally.answered(
                event, self.clients[event.system].post(event.flow, event.key, event.body), again=True
            )
            with self.tally._lock:
                self.tally.resent += 1
            return
        event = item
        payload = {"event_id": event.key, **self.render(event.payload)}
        if event.order is not None:
            payload["order_ref"] = self.reference(event.order)
        event.body = encode(payload)
        with self.tally._lock:
            self.tally.kinds[event.kind] += 1
        client = self.clients[event.system]
        if event.resend == "concurrent":
            answers = [None, None]

            def post(slot):
                answers[slot] = client.post(event.flow, event.key, event.body)

            twins = [threading.Thread(target=post, args=(slot,)) for slot in (0, 1)]
            for twin in twins:
                twin.start()
            for twin in twins:
                twin.join()
            self.tally.answered(event, answers[0], again=True)
            self.tally.answered(event, answers[1], again=True)
            with self.tally._lock:
                self.tally.concurrent += 1
                if 202 not in (answers[0].status, answers[1].status):
                    self.tally.problems.append(f"{event.key}: sent twice at once, neither stored it (202)")
            return
        self.tally.answered(event, client.post(event.flow, event.key, event.body), again=False)

    def sender(self, queue):
        while (item := queue.get()) is not None:
            try:
                self.send(item)
            except Exception as error:  # a sender must not die silently: the run would hang
                self.tally.note("problems", f"{getattr(item, 'lane', '?')}: {type(error).__name__}: {error}")

    def submit(self, item):
        lane = item.lane
        if lane.startswith("order-"):
            slot = int(lane.split("-")[1])
        else:
            slot = zlib.crc32(lane.encode())
        self._queues[slot % len(self._queues)].put(item)

    def floor_loop(self):
        pending = defaultdict(deque)
        since = {}

        def flush():
            for lane in list(pending):
                queue = pending[lane]
                while queue and self.ready(queue[0]):
                    self.submit(queue.popleft())
                if not queue:
                    del pending[lane]
                    since.pop(lane, None)
                elif time.monotonic() - since[lane] > self.settings.order_timeout:
                    self.tally.note("abandoned", f"{lane}: Odoo's order never reached the MES")
                    del pending[lane]
                    since.pop(lane)

        for item in self.plan.events:
            while time.monotonic() < self.due(item.send_at):
                flush()
                time.sleep(min(0.05, max(0, self.due(item.send_at) - time.monotonic())))
            if item.lane in pending or not self.ready(item):
                pending[item.lane].append(item)
                since.setdefault(item.lane, time.monotonic())
            else:
                self.submit(item)
        while pending:
            flush()
            time.sleep(0.05)

    def play(self, odoo):
        senders = [threading.Thread(target=self.sender, args=(q,), daemon=True) for q in self._queues]
        planner = threading.Thread(target=self.planner, args=(odoo.another(),), daemon=True)
        for thread in [*senders, planner]:
            thread.start()
        self.floor_loop()
        for queue in self._queues:
            queue.put(None)
        for thread in [*senders, planner]:
            thread.join()


def wait_settled(odoo, backend_ids, after_id, timeout, say):
    """Seconds until no message of the run is on its way, or None after ``timeout``.

    On its way: received, queued, processing or failed, except a message held
    back behind an earlier one of its ordering key that waits for a person
    (exception, dead): nothing moves it any more, and the summary reports it.
    Twice in a row, a moment apart: a message woken by another (a release, a
    new order) is queued in the same transaction that settles the other.
    """
    start = time.monotonic()
    domain = [
        ["backend_id", "in", backend_ids],
        ["id", ">", after_id],
        ["state", "in", ["received", "queued", "processing", "failed"]],
    ]
    calm = 0
    said = None
    while time.monotonic() - start < timeout:
        moving = odoo.search_read("integration.message", domain, ["blocked_by_id"])
        blockers = {m["blocked_by_id"][0] for m in moving if m["blocked_by_id"]}
        parked = {
            m["id"]
            for m in odoo.call("integration.message", "read", list(blockers), fields=["state"])
            if m["state"] in ("exception", "dead")
        }
        on_the_way = [m for m in moving if not (m["blocked_by_id"] and m["blocked_by_id"][0] in parked)]
        calm = calm + 1 if not on_the_way else 0
        if calm >= 2:
            return round(time.monotonic() - start, 1)
        if said != len(on_the_way):
            say(
                f"waiting for Odoo: {len(on_the_way)} messages on their way, "
                f"{len(moving) - len(on_the_way)} held back behind an exception"
            )
            said = len(on_the_way)
        time.sleep(1.5)
    return None


def cmms_backend_code(settings):
    if settings.cmms_backend:
        return settings.cmms_backend
    return f"{settings.backend}-cmms" if settings.create_backend else "plant-a-cmms"


def play(settings):
    """Play one shift and return its ``summary.Summary`` (``.agree``, ``.text()``, ``.as_dict()``)."""
    say = settings.log or (lambda _line: None)
    run = settings.run or base64.b32encode(secrets.token_bytes(5)).decode().lower()[:6]
    plan = scenario.make_plan(run, settings.seed, settings.shift_minutes, settings.counts)
    odoo = Odoo(settings.url, settings.database, settings.login, settings.password)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with MesEndpoint(secret, settings.mes_host, settings.mes_port) as mes:
        say(f"run {run}: seeding {settings.database} (backend {settings.backend}), MES endpoint {mes.url}")
        seeded = seed.seed(odoo, settings.backend, settings.create_backend, secret, mes.url, plan)
        clients = {"mes": SignedClient(settings.url, settings.database, settings.backend, secret)}
        if plan.breakdowns or plan.windows:
            cmms = cmms_backend_code(settings)
            seed.seed_cmms(odoo, seeded, cmms, settings.create_backend, secret)
            clients["cmms"] = SignedClient(settings.url, settings.database, cmms, secret)
        try:
            last = odoo.call("integration.message", "search", [], order="id desc", limit=1)
            after_id = last[0] if last else 0
            player = Player(settings, plan, seeded, mes, clients, say)
            say(
                f"playing {len(plan.orders)} orders, {len(plan.events)} sends, "
                f"{settings.shift_minutes:g} simulated minutes in {settings.real_minutes:g} real minutes"
            )
            started = time.monotonic()
            player.play(odoo)
            played = time.monotonic() - started
            say(f"shift played in {played:.0f} s; waiting for Odoo to settle")
            backend_ids = [seeded.backend_id, *([seeded.cmms_backend_id] if seeded.cmms_backend_id else [])]
            settled = wait_settled(odoo, backend_ids, after_id, settings.settle_timeout, say)
        finally:
            seed.restore_url(odoo, seeded)
        return summary.compare(odoo, settings, plan, seeded, player, mes, after_id, played, settled)
