"""The shift plan: every order and every event of the shift, decided before anything is sent.

A plan comes from a seed alone, so a run can be played again exactly; it
also says what the plant expects Odoo to end with (each order's state,
quantities, scrap, consumption, lot and tracked time), which is what the
summary holds Odoo to. Times are simulated minutes from the start of the
shift, rounded to whole seconds as a shop floor clock (and Odoo) keeps them.
"""

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field

from . import plant

OPERATION = "mes.operation_event"
CONFIRMATION = "mes.production_confirmation"
DOWNTIME = "mes.downtime"
HOLD = "mes.quality_hold"
BREAKDOWN = "cmms.breakdown"
WINDOW = "cmms.maintenance_window"

# Share of the shift in which orders run; the rest lets the last ones close and settle.
FIRST_START = 0.06
LAST_END = 0.88


@dataclass(frozen=True)
class Floor:
    """A moment of the shift (simulated minutes), written out as a timestamp when the event is sent."""

    minute: float


@dataclass
class Event:
    """One message of the plant (its MES, or its CMMS): its contract, payload and the moment it is sent."""

    send_at: float
    flow: str
    kind: str
    key: str  # the MES's event id, also its webhook-id
    payload: dict  # Floor values for moments; the order's reference is added when sent
    order: int | None = None  # index of the order whose reference the payload carries
    lane: str = ""  # events of one lane are sent one after the other, in send_at order
    resend: str | None = None  # "concurrent": sent twice at once; "later": a Resend follows
    moved: bool = False  # sent out of order (its send_at swapped with a neighbour's)
    expected_missing: str | None = None  # a bad event: the unknown code Odoo should wait for
    body: bytes | None = None  # the bytes of its first sending: a re-send carries them again
    system: str = "mes"  # the plant system that sends it: "mes" or "cmms"


@dataclass
class Resend:
    """The same event sent again later, as after an answer the network lost."""

    send_at: float
    original: Event

    @property
    def lane(self):
        return self.original.lane

    @property
    def order(self):
        return self.original.order


@dataclass
class Order:
    """A manufacturing order of the shift, and what Odoo should end with for it."""

    index: int
    product: str
    quantity: int
    start: float
    end: float
    release_at: float  # when the planner creates and confirms it in Odoo
    plant_ref: str | None = None  # an order the plant keyed in first: its number, known before Odoo's
    lot: str | None = None
    features: set = field(default_factory=set)
    expected_state: str = "done"
    expected_produced: int = 0
    expected_scrap: int = 0
    expected_consumption: dict = field(default_factory=dict)
    intervals: list = field(default_factory=list)  # (start, end) the work order ran

    @property
    def expected_minutes(self):
        return round(sum(end - start for start, end in self.intervals), 4)


@dataclass
class Downtime:
    downtime_id: str
    work_centre: str
    start: float
    end: float
    expected_missing: str | None = None


@dataclass
class Hold:
    hold_id: str
    order: int


@dataclass
class Breakdown:
    """A machine the CMMS reports down and back up; its end may reach Odoo before its start."""

    breakdown_id: str
    equipment: str
    start: float
    end: float
    reversed: bool = False


@dataclass
class Window:
    """Planned maintenance after the shift, as the CMMS's last report of it says."""

    window_id: str
    equipment: str
    start: float
    end: float
    state: str = "approved"  # or "cancelled"


@dataclass
class Plan:
    run: str
    seed: int
    shift_minutes: float
    orders: list
    downtimes: list
    holds: list
    events: list  # Events and Resends, in the order they are due
    breakdowns: list = field(default_factory=list)
    windows: list = field(default_factory=list)

    def inbound_events(self):
        return [event for event in self.events if isinstance(event, Event)]


@dataclass
class Counts:
    """How many of each thing the shift plays (None: a share of the orders)."""

    orders: int = 50
    retries: int | None = None
    concurrent: int | None = None
    out_of_order: int | None = None
    mes_first: int | None = None
    downtimes: int | None = None
    holds: int | None = None
    bad: int = 0
    breakdowns: int | None = None
    windows: int | None = None

    def resolved(self):
        """The counts with their defaults: about one order in ten or fifteen gets each trouble."""
        share = max(1, self.orders // 15)
        retries = self.orders if self.retries is None else self.retries
        return Counts(
            orders=self.orders,
            retries=retries,
            concurrent=retries // 3 if self.concurrent is None else min(self.concurrent, retries),
            out_of_order=max(1, self.orders // 10) if self.out_of_order is None else self.out_of_order,
            mes_first=share if self.mes_first is None else self.mes_first,
            downtimes=share if self.downtimes is None else self.downtimes,
            holds=share if self.holds is None else self.holds,
            bad=self.bad,
            breakdowns=share if self.breakdowns is None else self.breakdowns,
            windows=share if self.windows is None else self.windows,
        )


def moment(minute):
    """A simulated minute on whole seconds, as floor clocks and Odoo keep time."""
    return round(minute * 60) / 60


def split(total, parts, rng):
    """``parts`` positive whole quantities that add up to ``total``."""
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [high - low for low, high in zip([0, *cuts], [*cuts, total], strict=True)]


class _Builder:
    """Builds one plan; holds the random generator so that every choice comes from the seed."""

    def __init__(self, run, seed, shift_minutes, counts):
        self.run = run
        self.rng = random.Random(seed)
        self.shift = shift_minutes
        self.counts = counts
        self.events = []
        self.downtimes = []
        self.holds = []
        self.breakdowns = []
        self.windows = []
        self._serial = defaultdict(int)

    def key(self, prefix):
        self._serial[prefix] += 1
        return f"sim-{self.run}-{prefix}-{self._serial[prefix]:02d}"

    def add(self, order, send_at, flow, kind, payload, **extra):
        lane = f"order-{order.index}" if order else extra.pop("lane")
        prefix = f"o{order.index:03d}" if order else lane
        event = Event(moment(send_at), flow, kind, self.key(prefix), payload, order and order.index, lane)
        for name, value in extra.items():
            setattr(event, name, value)
        self.events.append(event)
        return event

    # --- the orders and their slots on the work centres ---------------------------

    def orders(self):
        rng = self.rng
        products = [rng.choice(plant.PRODUCTS) for _ in range(self.counts.orders)]
        quantities = [rng.randint(4, 24) for _ in products]
        orders = []
        by_centre = defaultdict(list)
        for index, product in enumerate(products):
            by_centre[product.work_centre].append(index)
        slots = {}
        first, last = self.shift * FIRST_START, self.shift * LAST_END
        for indexes in by_centre.values():
            changeover = min(0.5, (last - first) * 0.1 / len(indexes))
            per_unit = (last - first - changeover * len(indexes)) / sum(quantities[i] for i in indexes)
            cursor = first
            for index in indexes:
                length = per_unit * quantities[index]
                slots[index] = (moment(cursor), moment(cursor + length))
                cursor += length + changeover
        for index, product in enumerate(products):
            start, end = slots[index]
            lead = rng.uniform(0.03, 0.08) * self.shift
            orders.append(
                Order(index, product.code, quantities[index], start, end, moment(max(0, start - lead)))
            )
        return orders

    def features(self, orders):
        """Who gets which trouble: bad events, MES first, holds and downtimes each on orders of their own."""
        counts = self.counts
        pool = list(range(len(orders)))
        self.rng.shuffle(pool)
        for feature, count in (
            ("bad", (counts.bad + 1) // 2),
            ("mes_first", counts.mes_first),
            ("hold", counts.holds),
            ("downtime", counts.downtimes),
        ):
            for index in pool[:count]:
                orders[index].features.add(feature)
            pool = pool[count:]
        good = [order for order in orders if "bad" not in order.features]
        for order in self.rng.sample(good, min(counts.out_of_order, len(good))):
            order.features.add("out_of_order")

    # --- the events of one order -----------------------------------------------------

    def order_events(self, order):
        product = plant.PRODUCTS_BY_CODE[order.product]
        if product.tracking == "lot":
            order.lot = f"LOT-{self.run}-{order.index:03d}"
        if "mes_first" in order.features:
            order.plant_ref = f"SIM-{self.run}-{order.index:03d}"
        if "bad" in order.features:
            self.bad_order_events(order, product)
            return
        rng = self.rng
        start, end = order.start, order.end
        span = end - start
        self.operation(order, product, start, "start")
        resume = None
        if "downtime" in order.features or rng.random() < 0.25:
            pause = moment(start + span * rng.uniform(0.3, 0.55))
            resume = moment(min(pause + min(rng.uniform(1, 3), span * 0.25), start + span * 0.8))
            if "downtime" in order.features:
                # The machine stops: the MES pauses the order, reports the stop, its end, then resumes.
                stop_end = resume
                resume = moment(min(stop_end + 0.3, start + span * 0.9))
                self.downtime(product.work_centre, pause, stop_end, send_start=pause + 0.02)
            self.operation(order, product, pause, "pause")
            self.operation(order, product, resume, "resume")
            order.intervals = [(start, pause), (resume, end)]
        else:
            order.intervals = [(start, end)]
        partials = rng.choice([0, 1, 1, 2])
        if "mes_first" in order.features:
            partials = max(partials, 1)
        zero_close = partials > 0 and rng.random() < 0.25
        if zero_close:
            order.features.add("zero_close")
        quantities = split(order.quantity, partials if zero_close else partials + 1, rng)
        times = sorted(moment(start + span * rng.uniform(0.15, 0.85)) for _ in range(partials))
        if "mes_first" in order.features:
            times[0] = moment(start + span * 0.15)
            order.release_at = moment(start + span * 0.4)
        previous = start
        for at, quantity in zip(times, quantities, strict=False):
            self.confirmation(order, product, at, quantity, previous)
            previous = at
        self.operation(order, product, end, "finish")
        self.final(order, product, end, 0 if zero_close else quantities[-1], previous)
        order.expected_produced = order.quantity
        if "hold" in order.features:
            self.hold(order, start + span * rng.uniform(0.2, 0.5), end)
        if "out_of_order" in order.features:
            self.swap_neighbours(order)

    def operation(self, order, product, at, action):
        payload = {"work_center": product.work_centre, "action": action, "at": Floor(at), "operator": "sim"}
        self.add(order, at, OPERATION, action, payload)

    def confirmation(self, order, product, at, quantity, since, final=False, **extra):
        payload = {
            "produced_qty": quantity,
            "final": final,
            "operator": "sim",
            "started_at": Floor(since),
            "finished_at": Floor(at),
            **extra,
        }
        if order.lot and quantity:
            payload["lots"] = [order.lot]
        return self.add(
            order, at + (0.05 if final else 0), CONFIRMATION, "final" if final else "partial", payload
        )

    def final(self, order, product, end, quantity, since):
        rng = self.rng
        extra = {}
        if rng.random() < 0.3:
            scrap = rng.randint(1, 2)
            extra["scrap"] = [{"quantity": scrap, "reason": rng.choice(sorted(plant.SCRAP_REASONS))}]
            order.expected_scrap = scrap
        if rng.random() < 0.5:
            per_unit = dict(product.components)[product.reported]
            used = per_unit * (order.quantity + order.expected_scrap) + rng.randint(0, 3)
            extra["consumption"] = [{"product": product.reported, "quantity": used}]
            order.expected_consumption = {product.reported: used}
        if not quantity:
            order.features.add("zero_close")
        self.confirmation(order, product, end, quantity, since, final=True, **extra)

    def hold(self, order, at, end):
        """The quality team holds the order; the release comes before or after its final confirmation."""
        hold_id = f"SIM-{self.run}-H{len(self.holds) + 1}"
        self.holds.append(Hold(hold_id, order.index))
        payload = {"hold_id": hold_id, "action": "hold", "reason": "simulated inspection"}
        self.add(order, at, HOLD, "hold", payload)
        after_final = self.rng.random() < 0.6
        release = end + self.rng.uniform(0.5, 2) if after_final else at + (end - at) * 0.5
        self.add(order, release, HOLD, "release", {"hold_id": hold_id, "action": "release"})

    def downtime(self, work_centre, start, end, send_start=None, expected_missing=None):
        downtime_id = f"SIM-{self.run}-D{len(self.downtimes) + 1}"
        self.downtimes.append(Downtime(downtime_id, work_centre, start, end, expected_missing))
        base = {"downtime_id": downtime_id, "work_center": work_centre, "reason": "BRKDWN"}
        base["comment"] = f"{downtime_id}: simulated breakdown"
        lane = f"downtime-{downtime_id}"
        if send_start is not None:
            self.add(
                None,
                send_start,
                DOWNTIME,
                "downtime_start",
                {**base, "start": Floor(start), "end": None},
                lane=lane,
            )
        self.add(
            None,
            end,
            DOWNTIME,
            "bad_work_centre" if expected_missing else "downtime_end",
            {**base, "start": Floor(start), "end": Floor(end)},
            lane=lane,
            expected_missing=expected_missing,
        )

    def bad_order_events(self, order, product):
        """An order whose MES names a component Odoo does not know: it stops there, waiting for a mapping.

        What the MES sends after it would queue behind it (one ordering key
        per order), so the plant sends nothing more: the order stays in
        progress with what was confirmed before.
        """
        start, span = order.start, order.end - order.start
        first, _rest = split(order.quantity, 2, self.rng)
        self.operation(order, product, start, "start")
        self.confirmation(order, product, start + span * 0.3, first, start)
        pause = moment(start + span * 0.5)
        self.operation(order, product, pause, "pause")
        event = self.confirmation(
            order,
            product,
            start + span * 0.6,
            1,
            start,
            consumption=[{"product": plant.UNKNOWN_COMPONENT, "quantity": 1}],
        )
        event.kind = "bad_component"
        event.expected_missing = plant.UNKNOWN_COMPONENT
        order.expected_state = "progress"
        order.expected_produced = first
        order.intervals = [(start, pause)]

    def swap_neighbours(self, order):
        """Two neighbouring events of the order change places on the way (never two operation events)."""
        mine = sorted(
            (e for e in self.events if e.order == order.index and e.flow in (OPERATION, CONFIRMATION)),
            key=lambda e: e.send_at,
        )
        pairs = [(a, b) for a, b in itertools.pairwise(mine) if not a.flow == b.flow == OPERATION]
        if not pairs:
            order.features.discard("out_of_order")
            return
        first, second = self.rng.choice(pairs)
        first.send_at, second.send_at = second.send_at, first.send_at
        first.moved = second.moved = True

    # --- the CMMS ---------------------------------------------------------------------

    def breakdown(self):
        """A machine down for a few minutes; one in three of their ends overtakes its start on the way."""
        rng = self.rng
        breakdown_id = f"SIM-{self.run}-B{len(self.breakdowns) + 1}"
        equipment = rng.choice(sorted(plant.EQUIPMENT))
        start = moment(rng.uniform(0.15, 0.7) * self.shift)
        end = moment(start + rng.uniform(1, 4))
        reversed_ = rng.random() < 1 / 3
        self.breakdowns.append(Breakdown(breakdown_id, equipment, start, end, reversed_))
        base = {"breakdown_id": breakdown_id, "equipment": equipment}
        lane = f"breakdown-{breakdown_id}"
        down = self.add(
            None,
            start + 0.02,
            BREAKDOWN,
            "breakdown_start",
            {
                **base,
                "start": Floor(start),
                "expected_end": Floor(start + 3),
                "reason": f"{breakdown_id}: simulated breakdown",
                "failure": {"problem": "VIB", "cause": "3.4"},
            },
            lane=lane,
            system="cmms",
        )
        up = self.add(
            None, end, BREAKDOWN, "breakdown_end", {**base, "end": Floor(end)}, lane=lane, system="cmms"
        )
        if reversed_:
            down.send_at = moment(end + 0.1)
            down.moved = up.moved = True

    def window(self):
        """Maintenance approved for after the shift; one in three is moved later, one in four called off."""
        rng = self.rng
        window_id = f"SIM-{self.run}-W{len(self.windows) + 1}"
        equipment = rng.choice(sorted(plant.EQUIPMENT))
        start = moment(self.shift + 30 + 120 * len(self.windows))
        end = moment(start + rng.choice((60, 90, 120)))
        base = {"window_id": window_id, "equipment": equipment, "title": "Simulated planned maintenance"}
        lane = f"window-{window_id}"
        sent_at = rng.uniform(0.1, 0.6) * self.shift
        report = {**base, "start": Floor(start), "end": Floor(end), "status": "approved"}
        self.add(None, sent_at, WINDOW, "window", report, lane=lane, system="cmms")
        window = Window(window_id, equipment, start, end)
        change = rng.random()
        if change < 1 / 4:
            window.state = "cancelled"
            cancelled = {**report, "status": "cancelled"}
            self.add(None, sent_at + 5, WINDOW, "window_cancelled", cancelled, lane=lane, system="cmms")
        elif change < 1 / 4 + 1 / 3:
            window.start, window.end = moment(start + 30), moment(end + 30)
            moved = {**report, "start": Floor(window.start), "end": Floor(window.end)}
            self.add(None, sent_at + 5, WINDOW, "window_moved", moved, lane=lane, system="cmms")
        self.windows.append(window)

    # --- the whole plan -------------------------------------------------------------

    def bad_downtimes(self):
        for _ in range(self.counts.bad // 2):
            start = moment(self.rng.uniform(0.2, 0.7) * self.shift)
            self.downtime(
                plant.UNKNOWN_WORK_CENTRE,
                start,
                moment(start + 2),
                expected_missing=plant.UNKNOWN_WORK_CENTRE,
            )

    def resends(self):
        rng = self.rng
        chosen = rng.sample(self.events, min(self.counts.retries, len(self.events)))
        resends = []
        for position, event in enumerate(chosen):
            if position < self.counts.concurrent:
                event.resend = "concurrent"
            else:
                event.resend = "later"
                resends.append(Resend(moment(event.send_at + rng.uniform(0.2, 1.5)), event))
        return resends

    def build(self):
        orders = self.orders()
        self.features(orders)
        for order in orders:
            self.order_events(order)
        self.bad_downtimes()
        for _ in range(self.counts.breakdowns):
            self.breakdown()
        for _ in range(self.counts.windows):
            self.window()
        everything = self.events + self.resends()
        everything.sort(key=lambda item: item.send_at)  # stable: same-moment events keep their order
        return Plan(
            self.run,
            None,
            self.shift,
            orders,
            self.downtimes,
            self.holds,
            everything,
            self.breakdowns,
            self.windows,
        )


def make_plan(run, seed=1, shift_minutes=60.0, counts=None):
    """The plan of a shift of ``counts.orders`` orders over ``shift_minutes`` simulated minutes."""
    counts = (counts or Counts()).resolved()
    if counts.orders < 1:
        raise ValueError("a shift needs at least one order")
    plan = _Builder(run, seed, shift_minutes, counts).build()
    plan.seed = seed
    return plan
