"""Benchmark of the governed integration against direct Odoo API calls: every scenario, one run.

Run by ``./setup/bench`` (which creates the database first); see the
README. Phases, each on a fresh prefork server started here:

1. without the job runner (the server stores what it accepts): monitoring
   reads on the empty store, the floor, direct JSON-RPC and JSON-2 creates,
   governed ingest at several concurrencies, batch ingest;
2. with the runner: end to end, N final confirmations through the webhook
   to done orders, then a direct client applying the same confirmations to
   N other orders;
3. one million historical messages loaded in SQL, then without the runner:
   governed ingest again, and the monitoring reads.
"""

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import clients
import loadgen
import psycopg2
import report
import store
from odoo_server import OdooServer

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MONITORING_RUNS = 5


def arguments():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True)
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, default=8369)
    parser.add_argument("--workers", type=int, default=4, help="HTTP workers of the prefork server")
    parser.add_argument("--concurrency", type=int, default=8, help="connections of the reference load")
    parser.add_argument("--sweep", default="1,2,4,8,16", help="connections tried for governed ingest")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument("--measure", type=float, default=10.0, help="seconds measured per load scenario")
    parser.add_argument("--orders", type=int, default=400, help="orders of the end-to-end scenario")
    parser.add_argument(
        "--stored", type=int, default=1_000_000, help="messages loaded for the scale scenario"
    )
    parser.add_argument("--batches", default="100:20,1000:4", help="size:requests of the batch scenarios")
    parser.add_argument(
        "--phases",
        default="store,end-to-end,scale",
        help="phases to run; only a run of all three writes bench/results (others print their figures)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy into .local/log/bench-<phase>.txt",
    )
    parser.add_argument("--output", default=str(HERE / "results"))
    parser.add_argument("--log-dir", default=str(REPO / ".local" / "log"))
    return parser.parse_args()


def say(text):
    print(text, flush=True)


def seed(args, secret, prefix):
    """Run seed.py in ``odoo shell``; returns what it printed."""
    env = {
        **os.environ,
        "BENCH_ORDERS": str(args.orders),
        "BENCH_SECRET": secret,
        "BENCH_BACKEND_PREFIX": prefix,
    }
    with open(HERE / "seed.py", "rb") as script:
        done = subprocess.run(
            [args.odoo_bin, "shell", "-c", args.config, "-d", args.database, "--no-http", "--log-level=warn"],
            stdin=script,
            capture_output=True,
            env=env,
            check=False,
        )
    lines = [line for line in done.stdout.decode().splitlines() if line.startswith("BENCH-SEED ")]
    if done.returncode or not lines:
        sys.exit(f"bench: seeding the database failed:\n{done.stderr.decode()[-3000:]}")
    return json.loads(lines[-1].removeprefix("BENCH-SEED "))


def machine(args):
    with psycopg2.connect(dbname=args.database) as connection, connection.cursor() as cr:
        cr.execute("SHOW server_version")
        postgresql = cr.fetchone()[0]
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
    )
    odoo = (
        subprocess.run(
            [sys.executable, "-c", "import odoo.release as r; print(r.version)"],
            capture_output=True,
            check=False,
        )
        .stdout.decode()
        .strip()
    )
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, check=False
    )
    return {
        "date": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit.stdout.decode().strip() or "unknown",
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(memory_kib / 2**20, 1),
        "python": platform.python_version(),
        "postgresql": postgresql,
        "odoo": odoo,
        "kernel": platform.release(),
    }


def monitoring_reads(url, database, token):
    """Every monitoring read a user or a scraper makes, timed (median milliseconds)."""
    web = clients.WebClient(url, database, "admin", "admin")
    message_list = web.view_specification("integration.message", "list")
    plants = web.view_specification("integration.plant.health", "kanban")
    backends = web.view_specification("integration.backend", "kanban")
    contracts = web.view_specification("integration.flow", "list")
    [health_cron] = web.call(
        "ir.model.data",
        "search_read",
        [["module", "=", "integration_base"], ["name", "=", "ir_cron_integration_check_health"]],
        ["res_id"],
    )
    metrics = web.http.get  # a scraper has no session; the token is its credential
    reads = {
        "message list (80 rows and count)": lambda: web.call(
            "integration.message", "web_search_read", [], message_list, limit=80, count_limit=10001
        ),
        "message counts by state": lambda: web.call(
            "integration.message", "web_read_group", [], ["state"], ["__count"]
        ),
        "exceptions grouped by flow": lambda: web.call(
            "integration.message",
            "web_read_group",
            [["state", "in", ["exception", "dead"]]],
            ["flow_code"],
            ["__count"],
        ),
        "plants dashboard": lambda: web.call("integration.plant.health", "web_search_read", [], plants),
        "backends kanban": lambda: web.call("integration.backend", "web_search_read", [], backends),
        "contracts SLA list": lambda: web.call("integration.flow", "web_search_read", [], contracts),
        "Prometheus scrape": lambda: metrics(
            f"{url}/integration/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=600
        ).raise_for_status(),
        "health cron": lambda: web.call("ir.cron", "method_direct_trigger", [health_cron["res_id"]]),
    }
    return {name: clients.timed(read, MONITORING_RUNS) for name, read in reads.items()}


def checked(name, figures):
    """The figures of a scenario whose every request got the answer it expects; else stop the run.

    A refused request is not throughput: a figure that counts refusals would mislead.
    """
    if figures["unexpected"]:
        sys.exit(f"bench: {name}: unexpected answers {figures['statuses']}: {figures['unexpected']}")
    return figures


def load(args, make_work, name, concurrency=None):
    figures = loadgen.run_for(make_work, concurrency or args.concurrency, args.warmup, args.measure)
    return checked(name, figures.summary())


def ingest_sweep(args, poster, run):
    sweep = []
    for concurrency in [int(c) for c in args.sweep.split(",")]:
        figures = load(args, poster.singles(f"{run}-c{concurrency}"), "governed ingest", concurrency)
        say(f"    ingest, {concurrency} connections: {figures['requests_per_second']} req/s")
        sweep.append(figures)
    reference = next(f for f in sweep if f["concurrency"] == args.concurrency)
    peak = max(sweep, key=lambda f: f["requests_per_second"])
    return {"sweep": sweep, "at_reference": reference, "at_peak": peak}


def engine_end_to_end(args, poster, seeded, run):
    """Post one final confirmation per order, then wait until every message is settled."""
    orders = seeded["engine_orders"]
    started = time.time()
    posted = loadgen.run_count(poster.singles(run, orders), args.concurrency, len(orders)).summary()
    checked("end-to-end posts", posted)
    deadline = time.monotonic() + 1800
    with psycopg2.connect(dbname=args.database) as connection, connection.cursor() as cr:
        while True:
            cr.execute(
                "SELECT count(*) FILTER (WHERE settled_at IS NOT NULL), count(*) FROM bench_message_clock"
            )
            settled, stored = cr.fetchone()
            connection.commit()
            if settled >= len(orders) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        cr.execute(
            """SELECT extract(epoch FROM max(settled_at)),
                      percentile_disc(ARRAY[0.5, 0.95, 0.99, 1.0]) WITHIN GROUP (
                          ORDER BY extract(epoch FROM settled_at - stored_at) * 1000),
                      count(*) FILTER (WHERE state = 'done')
                 FROM bench_message_clock"""
        )
        last_settled, lags, done = cr.fetchone()
        cr.execute("SELECT count(*) FROM mrp_production WHERE name = ANY(%s) AND state = 'done'", [orders])
        orders_done = cr.fetchone()[0]
    elapsed = float(last_settled or time.time()) - started
    return {
        "posted": posted,
        "messages_stored": stored,
        "messages_done": done,
        "orders_done": orders_done,
        "elapsed_seconds": round(elapsed, 2),
        "messages_per_second": round(settled / elapsed, 1),
        **{
            f"lag_{name}_ms": round(float(lag), 1) if lag is not None else None
            for name, lag in zip(("p50", "p95", "p99", "max"), lags or [None] * 4, strict=True)
        },
    }


def direct_end_to_end(args, server, seeded):
    orders = seeded["direct_orders"]
    make = clients.direct_confirmation(
        server.url, seeded["api_key"], args.database, orders, seeded["quantity"]
    )
    figures = loadgen.run_count(make, args.concurrency, len(orders))
    with psycopg2.connect(dbname=args.database) as connection, connection.cursor() as cr:
        cr.execute("SELECT count(*) FROM mrp_production WHERE name = ANY(%s) AND state = 'done'", [orders])
        orders_done = cr.fetchone()[0]
    return {
        "calls": figures.summary(),
        "orders_done": orders_done,
        "elapsed_seconds": round(figures.wall_seconds, 2),
        "messages_per_second": round(figures.items_per_second, 1),
        **{
            f"lag_{name}_ms": round(figures.percentile(q), 1)
            for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        },
    }


class Bench:
    """One run: its settings, the seeded records, the servers it starts and the figures it keeps."""

    def __init__(self, args):
        self.args = args
        self.secret = "whsec_" + secrets.token_urlsafe(24).replace("-", "A").replace("_", "B")
        self.token = secrets.token_urlsafe(24)
        self.run = datetime.now(tz=UTC).strftime("%H%M%S")
        self.log_dir = Path(args.log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.seeded = seed(args, self.secret, "bench")
        self.results = {
            "machine": machine(args),
            "settings": {k: v for k, v in vars(args).items() if k not in ("odoo_bin", "config")},
            "scenarios": {},
        }
        self.scenarios = self.results["scenarios"]

    def server(self, with_runner, phase):
        args = self.args
        return OdooServer(
            args.odoo_bin,
            args.config,
            args.database,
            args.port,
            args.workers,
            str(self.log_dir / f"bench-{phase}.log"),
            with_runner,
            {**os.environ, "INTEGRATION_METRICS_TOKEN": self.token},
            profile=str(self.log_dir / f"bench-{phase}.txt") if args.profile else None,
        )

    def set_ingest_backend(self, url, state):
        """Suspend the ingest backend while the runner works (its messages wait), or put it back."""
        web = clients.WebClient(url, self.args.database, "admin", "admin")
        [backend] = web.call(
            "integration.backend", "search_read", [["code", "=", self.seeded["ingest_backend"]]], ["state"]
        )
        if backend["state"] != state:
            action = "action_activate" if state == "active" else "action_suspend"
            web.call("integration.backend", action, [backend["id"]])

    def door_and_store(self):
        args, scenarios, run = self.args, self.scenarios, self.run
        say("==> Phase 1: the door and the store (no job runner)")
        with self.server(False, "store") as odoo:
            scenarios["monitoring_empty"] = monitoring_reads(odoo.url, args.database, self.token)
            say(f"    monitoring reads, empty store: {scenarios['monitoring_empty']}")
            direct = {
                "floor": clients.floor(odoo.url, args.database),
                "jsonrpc_create": clients.jsonrpc_create(odoo.url, args.database, "admin", run),
                "json2_create": clients.json2_create(odoo.url, self.seeded["api_key"], args.database, run),
            }
            for name, make_work in direct.items():
                scenarios[name] = load(args, make_work, name)
                say(f"    {name}: {scenarios[name]['requests_per_second']} req/s")
            poster = clients.SignedPoster(odoo.url, args.database, self.seeded["ingest_backend"], self.secret)
            scenarios["governed_ingest"] = ingest_sweep(args, poster, f"{run}-single")
            scenarios["batch_ingest"] = {}
            for spec in args.batches.split(","):
                size, count = (int(part) for part in spec.split(":"))
                figures = loadgen.run_count(poster.batches(f"{run}-b{size}", size), 2, count).summary()
                checked(f"batch of {size}", figures)
                say(f"    batch of {size}: {figures['items_per_second']} msg/s")
                scenarios["batch_ingest"][str(size)] = figures
            self.set_ingest_backend(odoo.url, "suspended")

    def end_to_end(self):
        say("==> Phase 2: end to end, with the job runner")
        with self.server(True, "end-to-end") as odoo:
            self.set_ingest_backend(odoo.url, "suspended")
            poster = clients.SignedPoster(
                odoo.url, self.args.database, self.seeded["engine_backend"], self.secret
            )
            engine = engine_end_to_end(self.args, poster, self.seeded, f"{self.run}-e2e")
            say(f"    governed: {engine['messages_per_second']} msg/s, {engine['orders_done']} orders done")
            direct = direct_end_to_end(self.args, odoo, self.seeded)
            say(f"    direct: {direct['messages_per_second']} msg/s, {direct['orders_done']} orders done")
            self.scenarios["end_to_end"] = {"orders": self.args.orders, "engine": engine, "direct": direct}

    def scale(self):
        args = self.args
        say(f"==> Phase 3: {args.stored:,} stored messages")
        seconds = store.load_store(f"dbname={args.database}", self.seeded["ingest_flow_id"], args.stored, say)
        with self.server(False, "scale") as odoo:
            self.set_ingest_backend(odoo.url, "active")
            poster = clients.SignedPoster(odoo.url, args.database, self.seeded["ingest_backend"], self.secret)
            ingest = load(args, poster.singles(f"{self.run}-scale"), "governed ingest at scale")
            say(f"    governed ingest: {ingest['requests_per_second']} req/s")
            reads = monitoring_reads(odoo.url, args.database, self.token)
            say(f"    monitoring reads: {reads}")
            self.scenarios["scale"] = {
                "stored": args.stored,
                "load_seconds": round(seconds, 1),
                "ingest": ingest,
                "monitoring_ms": reads,
            }


def main():
    say("==> Seeding the benchmark database")
    bench = Bench(arguments())
    phases = {"store": bench.door_and_store, "end-to-end": bench.end_to_end, "scale": bench.scale}
    chosen = bench.args.phases.split(",")
    for name, phase in phases.items():
        if name in chosen:
            phase()
    if set(chosen) >= set(phases):
        say(report.write(bench.results, bench.args.output).read_text())
    else:
        say(json.dumps(bench.scenarios, indent=1))


if __name__ == "__main__":
    main()
