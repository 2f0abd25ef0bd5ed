"""What the plant sent against what Odoo ended with, check by check.

The plan says what a plant expects after its shift; Odoo is read back over
JSON-RPC (orders, work order time lines, scrap, component moves, holds,
downtimes, the run's messages) and held to it. Each check says in words
which orders or messages differ, so that a disagreement points at its cause;
the run agrees only when every check does.
"""

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime

MINUTES_TOLERANCE = 0.05  # Odoo rounds each time line's duration to 1/100 minute
SHOWN_DETAILS = 8
DONE_STATES = ("done", "cancelled")


@dataclass
class Check:
    name: str
    ok: bool
    summary: str
    details: list = field(default_factory=list)


@dataclass
class Summary:
    run: str
    settings: dict
    sent: dict
    odoo: dict
    checks: list

    @property
    def agree(self):
        return all(check.ok for check in self.checks)

    def as_dict(self):
        return {**asdict(self), "agree": self.agree}

    def text(self):
        return render_text(self)


class _Odoo:
    """Odoo's end state of the run's records, read once."""

    def __init__(self, odoo, plan, seeded, refs, after_id):
        backend_ids = [seeded.backend_id, *([seeded.cmms_backend_id] if seeded.cmms_backend_id else [])]
        self.messages = odoo.search_read(
            "integration.message",
            [["backend_id", "in", backend_ids], ["id", ">", after_id]],
            [
                "state",
                "direction",
                "flow_code",
                "idempotency_key",
                "error_message",
                "missing_kind",
                "missing_code",
                "blocked_by_id",
            ],
        )
        productions = odoo.search_read(
            "mrp.production",
            [["name", "in", list(refs.values())], ["picking_type_id", "=", seeded.picking_type_id]],
            ["name", "state", "qty_producing", "qty_produced", "lot_producing_ids", "workorder_ids"],
        )
        self.productions = {p["name"]: p for p in productions}
        ids = [p["id"] for p in productions]
        lot_ids = [lot for p in productions for lot in p["lot_producing_ids"]]
        self.lots = {
            lot["id"]: lot["name"] for lot in odoo.call("stock.lot", "read", lot_ids, fields=["name"])
        }
        self.time_lines = defaultdict(list)
        workorder_ids = [w for p in productions for w in p["workorder_ids"]]
        for line in odoo.search_read(
            "mrp.workcenter.productivity",
            [["workorder_id", "in", workorder_ids]],
            ["workorder_id", "date_start", "date_end", "duration"],
            order="date_start",
        ):
            self.time_lines[line["workorder_id"][0]].append(line)
        self.scrap = Counter()
        for scrap in odoo.search_read(
            "stock.scrap",
            [["production_id", "in", ids], ["state", "=", "done"]],
            ["production_id", "scrap_qty"],
        ):
            self.scrap[scrap["production_id"][0]] += scrap["scrap_qty"]
        self.consumed = Counter()
        for move in odoo.search_read(
            "stock.move",
            [["raw_material_production_id", "in", ids], ["state", "!=", "cancel"]],
            ["raw_material_production_id", "product_id", "quantity"],
        ):
            self.consumed[(move["raw_material_production_id"][0], move["product_id"][0])] += move["quantity"]
        self.holds = {
            hold["name"]: hold["state"]
            for hold in odoo.search_read(
                "mes.quality.hold",
                [["backend_id", "=", seeded.backend_id], ["name", "in", [h.hold_id for h in plan.holds]]],
                ["name", "state"],
            )
        }
        self.downtimes = defaultdict(list)
        for line in odoo.search_read(
            "mrp.workcenter.productivity",
            [["description", "like", f"SIM-{plan.run}-D"]],
            ["description", "date_start", "date_end"],
        ):
            self.downtimes[line["description"].split(":")[0]].append(line)
        self.breakdowns = self._cmms_records(
            odoo,
            seeded,
            "cmms.breakdown",
            [b.breakdown_id for b in plan.breakdowns],
            ["name", "state", "started_at", "ended_at", "leave_ids"],
        )
        self.windows = self._cmms_records(
            odoo,
            seeded,
            "cmms.maintenance.window",
            [w.window_id for w in plan.windows],
            ["name", "state", "date_from", "date_to", "leave_ids"],
        )
        leave_ids = [
            i for record in [*self.breakdowns.values(), *self.windows.values()] for i in record["leave_ids"]
        ]
        self.leaves = {
            leave["id"]: (leave["date_from"], leave["date_to"])
            for leave in odoo.call(
                "resource.calendar.leaves", "read", leave_ids, fields=["date_from", "date_to"]
            )
        }

    @staticmethod
    def _cmms_records(odoo, seeded, model, names, fields):
        if not seeded.cmms_backend_id or not names:
            return {}
        domain = [["backend_id", "=", seeded.cmms_backend_id], ["name", "in", names]]
        return {record["name"]: record for record in odoo.search_read(model, domain, fields)}

    def time_off(self, record):
        """The work centres' time off a breakdown or window made, as ``(from, to)``."""
        return sorted(self.leaves[leave_id] for leave_id in record["leave_ids"])


def compare(odoo, settings, plan, seeded, player, mes, after_id, played, settled):
    refs = {order.index: order.plant_ref or player.refs.get(order.index) for order in plan.orders}
    refs = {index: ref for index, ref in refs.items() if ref}
    state = _Odoo(odoo, plan, seeded, refs, after_id)
    checks = [
        _settled(settled, settings.settle_timeout),
        _answers(player.tally),
        _orders_out(plan, refs, mes, player.tally),
        *_messages(plan, state),
        _order_states(plan, refs, state),
        _quantities(plan, refs, state, seeded),
        _time(plan, refs, state, player),
        _holds(plan, state),
        _downtimes(plan, state, player),
        *(
            [_breakdowns(plan, state, player), _windows(plan, state, player)]
            if seeded.cmms_backend_id
            else []
        ),
    ]
    return Summary(
        plan.run,
        _settings(settings, plan),
        _sent(plan, player, mes, played),
        _ended(plan, refs, state),
        checks,
    )


# --- the checks ---------------------------------------------------------------------------


def _settled(settled, timeout):
    if settled is None:
        return Check("settled", False, f"messages still on their way after {timeout:g} s")
    return Check("settled", True, f"Odoo settled {settled:g} s after the last event")


def _answers(tally):
    promised = len(tally.problems) == 0
    return Check(
        "answers",
        promised,
        "every post answered 202, every re-send 200 or 202"
        if promised
        else f"{len(tally.problems)} posts answered otherwise",
        tally.problems[:SHOWN_DETAILS],
    )


def _orders_out(plan, refs, mes, tally):
    details = list(tally.planner_errors) + list(tally.abandoned)
    details += [f"{ref}: Odoo never sent it to the MES" for ref in refs.values() if not mes.knows(ref)]
    extra = sorted(set(mes.orders) - set(refs.values()))
    details += [f"{ref}: sent to the MES, but the plan made no such order (a backorder?)" for ref in extra]
    made = len(refs)
    return Check(
        "orders out",
        not details and made == len(plan.orders),
        f"{made} of {len(plan.orders)} orders made in Odoo and sent to the MES",
        details[:SHOWN_DETAILS],
    )


def _messages(plan, state):
    """Every event a message, done; in exception only the bad events, each waiting for its code."""
    sent = {event.key: event for event in plan.inbound_events() if event.body is not None}
    inbound = {m["idempotency_key"]: m for m in state.messages if m["direction"] == "inbound"}
    lost = sorted(set(sent) - set(inbound))
    expected = {key: event.expected_missing for key, event in sent.items() if event.expected_missing}
    unsettled = [m for m in state.messages if m["state"] not in DONE_STATES]
    unexpected = [
        m
        for m in unsettled
        if not (m["state"] == "exception" and expected.get(m["idempotency_key"]) == m["missing_code"])
    ]
    not_excepted = [key for key in expected if inbound.get(key, {}).get("state") != "exception"]
    details = [f"{key}: sent, never stored" for key in lost]
    details += [f"{_who(m)} {m['state']}: {_why(m)}" for m in unexpected]
    details += [
        f"{key}: meant to wait for {expected[key]}, is {inbound.get(key, {}).get('state')}"
        for key in not_excepted
    ]
    by_state = Counter(m["state"] for m in state.messages)
    return [
        Check(
            "messages",
            not lost and not unexpected,
            f"{len(inbound)} inbound for {len(sent)} events sent, "
            f"{sum(1 for m in state.messages if m['direction'] == 'outbound')} outbound; "
            + ", ".join(f"{s} {n}" for s, n in sorted(by_state.items())),
            details[:SHOWN_DETAILS],
        ),
        Check(
            "expected exceptions",
            not not_excepted and len(unsettled) - len(unexpected) == len(expected),
            f"{len(expected)} bad events sent, {len(unsettled) - len(unexpected)} wait for their code",
            [f"{key}: {expected[key]}" for key in not_excepted][:SHOWN_DETAILS],
        ),
    ]


def _why(message):
    if message["blocked_by_id"]:
        return f"held back behind {message['blocked_by_id'][1]}"
    return (message["error_message"] or "").strip()[:240]


def _who(message):
    return f"{message['flow_code']} {message['idempotency_key']}"


def _order_states(plan, refs, state):
    details = []
    for order in plan.orders:
        production = state.productions.get(refs.get(order.index))
        if production and production["state"] != order.expected_state:
            details.append(f"{production['name']}: {production['state']}, expected {order.expected_state}")
    return Check(
        "order states",
        not details and len(state.productions) == len(plan.orders),
        ", ".join(
            f"{s} {n}" for s, n in sorted(Counter(p["state"] for p in state.productions.values()).items())
        ),
        details[:SHOWN_DETAILS],
    )


def _quantities(plan, refs, state, seeded):
    details = []
    for order in plan.orders:
        production = state.productions.get(refs.get(order.index))
        if not production:
            continue
        name = production["name"]
        produced = (
            production["qty_produced"] if order.expected_state == "done" else production["qty_producing"]
        )
        if produced != order.expected_produced:
            details.append(f"{name}: produced {produced:g}, the MES confirmed {order.expected_produced}")
        if state.scrap[production["id"]] != order.expected_scrap:
            details.append(
                f"{name}: scrap {state.scrap[production['id']]:g}, the MES reported {order.expected_scrap}"
            )
        for code, used in order.expected_consumption.items():
            odoo_used = state.consumed[(production["id"], seeded.products[code])]
            if odoo_used != used:
                details.append(f"{name}: {code} used {odoo_used:g}, the MES reported {used}")
        lots = sorted(state.lots.get(lot, "?") for lot in production["lot_producing_ids"])
        if order.lot and lots != [order.lot]:
            details.append(f"{name}: lots {lots or 'none'}, the MES produced {order.lot}")
    return Check(
        "quantities",
        not details,
        f"produced {sum(o.expected_produced for o in plan.orders)} and scrapped "
        f"{sum(o.expected_scrap for o in plan.orders)} by the plan; Odoo: produced "
        f"{sum(_produced(p) for p in state.productions.values()):g}, scrapped {sum(state.scrap.values()):g}",
        details[:SHOWN_DETAILS],
    )


def _produced(production):
    return production["qty_produced"] if production["state"] == "done" else production["qty_producing"]


def _time(plan, refs, state, player):
    """Each work order's time lines are the intervals the MES reported, to the second."""
    details = []
    agreeing = 0
    for order in plan.orders:
        production = state.productions.get(refs.get(order.index))
        if not production:
            continue
        [workorder] = production["workorder_ids"][:1] or [None]
        lines = state.time_lines.get(workorder, [])
        odoo = [(line["date_start"], line["date_end"] or "open") for line in lines]
        expected = [(_odoo_time(player, start), _odoo_time(player, end)) for start, end in order.intervals]
        minutes = sum(line["duration"] for line in lines)
        if odoo == expected and abs(minutes - order.expected_minutes) <= MINUTES_TOLERANCE:
            agreeing += 1
            continue
        details.append(
            f"{production['name']}: {minutes:.2f} min tracked, the MES reported {order.expected_minutes:.2f} "
            f"({_intervals(odoo)} against {_intervals(expected)})"
        )
    return Check(
        "time tracked",
        not details,
        f"{agreeing} of {len(plan.orders)} work orders tracked the intervals the MES reported",
        details[:SHOWN_DETAILS],
    )


def _odoo_time(player, minute):
    """A floor moment as Odoo stores it: UTC, without zone, to the second."""
    return datetime.fromisoformat(player.floor(minute)).strftime("%Y-%m-%d %H:%M:%S")


def _intervals(pairs):
    return (
        ", ".join(f"{start[11:]}-{end[11:] if end != 'open' else 'open'}" for start, end in pairs) or "none"
    )


def _holds(plan, state):
    details = [f"{hold.hold_id}: {state.holds.get(hold.hold_id, 'missing')}" for hold in plan.holds]
    details = [
        line
        for line, hold in zip(details, plan.holds, strict=True)
        if state.holds.get(hold.hold_id) != "released"
    ]
    return Check("holds", not details, f"{len(plan.holds)} holds put and released", details[:SHOWN_DETAILS])


def _downtimes(plan, state, player):
    details = []
    for downtime in plan.downtimes:
        lines = state.downtimes.get(downtime.downtime_id, [])
        if downtime.expected_missing:
            if lines:
                details.append(f"{downtime.downtime_id}: recorded, although its work centre is unknown")
            continue
        expected = [(_odoo_time(player, downtime.start), _odoo_time(player, downtime.end))]
        got = [(line["date_start"], line["date_end"] or "open") for line in lines]
        if got != expected:
            details.append(
                f"{downtime.downtime_id}: {_intervals(got)}, the MES reported {_intervals(expected)}"
            )
    good = sum(1 for d in plan.downtimes if not d.expected_missing)
    return Check("downtimes", not details, f"{good} downtimes recorded as reported", details[:SHOWN_DETAILS])


def _breakdowns(plan, state, player):
    """Each breakdown down and up at the times the CMMS reported, its work centre off exactly then."""
    details = []
    for breakdown in plan.breakdowns:
        expected = (_odoo_time(player, breakdown.start), _odoo_time(player, breakdown.end))
        got = state.breakdowns.get(breakdown.breakdown_id)
        if not got:
            details.append(f"{breakdown.breakdown_id}: never recorded")
            continue
        times = (got["started_at"], got["ended_at"] or "open")
        off = state.time_off(got)
        if got["state"] != "up" or times != expected or off != [expected]:
            first = " (end sent first)" if breakdown.reversed else ""
            details.append(
                f"{breakdown.breakdown_id}{first}: {got['state']}, down {_intervals([times])}, "
                f"time off {_intervals(off)}; the CMMS reported {_intervals([expected])}"
            )
    end_first = sum(1 for breakdown in plan.breakdowns if breakdown.reversed)
    return Check(
        "breakdowns",
        not details,
        f"{len(plan.breakdowns)} breakdowns recorded as reported ({end_first} ended before they started on "
        "the way), each work centre off exactly then",
        details[:SHOWN_DETAILS],
    )


def _windows(plan, state, player):
    """Each maintenance window as the CMMS last said: time off when approved, none when called off."""
    details = []
    for window in plan.windows:
        expected = (_odoo_time(player, window.start), _odoo_time(player, window.end))
        got = state.windows.get(window.window_id)
        if not got:
            details.append(f"{window.window_id}: never recorded")
            continue
        off = state.time_off(got)
        wanted_off = [expected] if window.state == "approved" else []
        if (
            got["state"] != window.state
            or (got["date_from"], got["date_to"]) != expected
            or off != wanted_off
        ):
            details.append(
                f"{window.window_id}: {got['state']}, time off {_intervals(off)}; "
                f"the CMMS said {window.state} for {_intervals([expected])}"
            )
    cancelled = sum(1 for window in plan.windows if window.state == "cancelled")
    return Check(
        "windows",
        not details,
        f"{len(plan.windows)} maintenance windows as the CMMS last said ({cancelled} called off)",
        details[:SHOWN_DETAILS],
    )


# --- the figures ---------------------------------------------------------------------------


def _settings(settings, plan):
    return {
        "url": settings.url,
        "database": settings.database,
        "backend": settings.backend,
        "seed": settings.seed,
        "orders": len(plan.orders),
        "shift_minutes": settings.shift_minutes,
        "real_minutes": settings.real_minutes,
    }


def _sent(plan, player, mes, played):
    tally = player.tally
    events = plan.inbound_events()
    sent = [event for event in events if event.body is not None]
    return {
        "played_seconds": round(played, 1),
        "orders": len(plan.orders),
        "mes_first": sum(1 for o in plan.orders if o.plant_ref),
        "events": len(sent),
        "by_kind": dict(sorted(tally.kinds.items())),
        "resent": tally.resent + tally.concurrent,
        "resent_concurrently": tally.concurrent,
        "out_of_order": sum(1 for o in plan.orders if "out_of_order" in o.features),
        "zero_quantity_closures": sum(1 for o in plan.orders if "zero_close" in o.features),
        "expected_exceptions": sum(1 for event in sent if event.expected_missing),
        "breakdowns": len(plan.breakdowns),
        "breakdowns_end_first": sum(1 for breakdown in plan.breakdowns if breakdown.reversed),
        "maintenance_windows": len(plan.windows),
        "http_statuses": {str(status): count for status, count in sorted(tally.statuses.items(), key=str)},
        "mes_received": mes.figures(),
    }


def _ended(plan, refs, state):
    return {
        "orders_by_state": dict(Counter(p["state"] for p in state.productions.values())),
        "produced": sum(_produced(p) for p in state.productions.values()),
        "scrap": sum(state.scrap.values()),
        "messages_by_state": dict(Counter(m["state"] for m in state.messages)),
        "exceptions": [
            {
                "message": _who(m),
                "state": m["state"],
                "waits_for": m["missing_code"],
                "reason": m["error_message"],
            }
            for m in state.messages
            if m["state"] in ("exception", "dead")
        ],
        "tracked_minutes": round(
            sum(line["duration"] for lines in state.time_lines.values() for line in lines), 2
        ),
        "reported_minutes": round(sum(o.expected_minutes for o in plan.orders if o.index in refs), 2),
    }


def render_text(summary):
    s, sent, ended = summary.settings, summary.sent, summary.odoo
    kinds = ", ".join(f"{kind} {count}" for kind, count in sent["by_kind"].items())
    mes = sent["mes_received"]
    lines = [
        f"Shift {summary.run}: {s['orders']} orders, {s['shift_minutes']:g} simulated minutes played in "
        f"{sent['played_seconds']:g} s (seed {s['seed']}),",
        f"backend {s['backend']} of {s['database']} at {s['url']}",
        "",
        "The plant sent",
        f"  orders              {sent['orders']} ({sent['mes_first']} keyed in at the plant before Odoo)",
        f"  events              {sent['events']}: {kinds}",
        f"  sent again          {sent['resent']} ({sent['resent_concurrently']} twice at once)",
        f"  out of order        {sent['out_of_order']} orders with two events swapped on the way",
        f"  zero-quantity close {sent['zero_quantity_closures']} orders closed by a final confirmation of 0",
        f"  meant to fail       {sent['expected_exceptions']} events with unknown codes",
        f"  CMMS                {sent['breakdowns']} breakdowns ({sent['breakdowns_end_first']} ended before "
        f"their start on the way), {sent['maintenance_windows']} maintenance windows",
        "  HTTP answers        " + ", ".join(f"{k} x{v}" for k, v in sent["http_statuses"].items()),
        f"  the MES received    {mes['orders']} orders in {mes['deliveries']} deliveries "
        f"({mes['delivered_again']} delivered again, {len(mes['refused'])} refused)",
        "",
        "Odoo ended with",
        "  orders              " + ", ".join(f"{k} {v}" for k, v in sorted(ended["orders_by_state"].items())),
        f"  produced            {ended['produced']:g}, scrap {ended['scrap']:g}",
        "  messages            "
        + ", ".join(f"{k} {v}" for k, v in sorted(ended["messages_by_state"].items())),
        f"  time tracked        {ended['tracked_minutes']:g} min on the work orders, "
        f"{ended['reported_minutes']:g} min reported by the MES",
    ]
    if ended["exceptions"]:
        lines.append(f"  exceptions          {len(ended['exceptions'])}:")
        lines += [
            f"    {e['message']} ({e['state']}, waits for {e['waits_for'] or 'someone'}): "
            f"{(e['reason'] or '')[:160]}"
            for e in ended["exceptions"][:SHOWN_DETAILS]
        ]
    lines += ["", "Checks"]
    for check in summary.checks:
        lines.append(f"  {'ok  ' if check.ok else 'FAIL'}  {check.name:<20} {check.summary}")
        lines += [f"          {detail}" for detail in check.details]
    failed = [check.name for check in summary.checks if not check.ok]
    lines += [
        "",
        "Odoo agrees with the plant." if not failed else f"Odoo and the plant disagree: {', '.join(failed)}.",
    ]
    return "\n".join(lines)
