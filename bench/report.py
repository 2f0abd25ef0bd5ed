"""The benchmark's results: ratios, targets, a Markdown table and a JSON file."""

import json
from pathlib import Path


def ratio(value, base):
    return round(value / base, 2) if value and base else None


def targets(results):
    """Each product target with the figure measured against it, and whether it was met."""
    scenarios = results["scenarios"]
    ingest = scenarios["governed_ingest"]["at_reference"]
    peak = scenarios["governed_ingest"]["at_peak"]
    direct = max(
        scenarios["jsonrpc_create"]["requests_per_second"], scenarios["json2_create"]["requests_per_second"]
    )
    floor = scenarios["floor"]["requests_per_second"]
    end_to_end = scenarios["end_to_end"]
    scale = scenarios["scale"]
    slowest_read = max(scale["monitoring_ms"].items(), key=lambda item: item[1])
    rows = [
        ("governed ingest >= 2x the faster direct create", ratio(ingest["requests_per_second"], direct), 2.0),
        ("governed ingest >= 0.6 of the floor", ratio(ingest["requests_per_second"], floor), 0.6),
        (
            f"p99 of governed ingest < 50 ms at its peak (concurrency {peak['concurrency']})",
            peak["p99_ms"],
            50.0,
        ),
    ]
    for size, batch in scenarios["batch_ingest"].items():
        rows.append(
            (
                f"batch of {size} >= 10x single ingest (messages/s)",
                ratio(batch["items_per_second"], peak["requests_per_second"]),
                10.0,
            )
        )
    rows += [
        (
            "end to end >= 1.5x the direct client",
            ratio(end_to_end["engine"]["messages_per_second"], end_to_end["direct"]["messages_per_second"]),
            1.5,
        ),
        (
            f"ingest with {scale['stored']:,} stored within 10 % of the empty store",
            ratio(scale["ingest"]["requests_per_second"], ingest["requests_per_second"]),
            0.9,
        ),
        (
            f"every monitoring read < 300 ms at {scale['stored']:,} (slowest: {slowest_read[0]})",
            slowest_read[1],
            300.0,
        ),
    ]
    upper_bounds = {"p99", "monitoring"}
    return [
        {
            "target": name,
            "measured": value,
            "bound": bound,
            "met": value is not None
            and (value < bound if any(word in name for word in upper_bounds) else value >= bound),
        }
        for name, value, bound in rows
    ]


def _load_row(name, figures, base=None, base_name=""):
    ratio_text = f"{ratio(figures['requests_per_second'], base)} of {base_name}" if base else ""
    return (
        f"| {name} | {figures['concurrency']} | {figures['requests_per_second']} | "
        f"{figures['items_per_second']} | {figures['p50_ms']} / {figures['p95_ms']} / {figures['p99_ms']} | "
        f"{figures['client_cpu']} | {ratio_text} |"
    )


def _end_to_end_row(name, figures):
    lags = " / ".join(str(figures[f"lag_{q}_ms"]) for q in ("p50", "p95", "p99", "max"))
    return (
        f"| {name} | {figures['messages_per_second']} | {figures['elapsed_seconds']} | {lags} | "
        f"{figures['orders_done']} |"
    )


def markdown(results):
    scenarios = results["scenarios"]
    machine = results["machine"]
    floor = scenarios["floor"]
    lines = [
        "# Benchmark results",
        "",
        f"Run on {machine['date']} at commit {machine['commit']}: {machine['cpu_count']} CPU "
        f"({machine['cpu_model']}), {machine['memory_gib']} GiB, Python {machine['python']}, "
        f"PostgreSQL {machine['postgresql']}, Odoo {machine['odoo']}. Server: prefork, "
        f"{results['settings']['workers']} HTTP workers, log level warn; client on the same machine. "
        "Produced by `./setup/bench`; every figure is from this one run.",
        "",
        "## Load scenarios",
        "",
        "Client CPU is the load generator's own CPU time per second (1.0 = one core busy).",
        "",
        "| scenario | connections | requests/s | messages/s | p50 / p95 / p99 ms | client CPU | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        _load_row("floor: GET /web/health", floor),
        _load_row(
            "direct JSON-RPC create", scenarios["jsonrpc_create"], floor["requests_per_second"], "floor"
        ),
        _load_row("direct JSON-2 create", scenarios["json2_create"], floor["requests_per_second"], "floor"),
    ]
    for figures in scenarios["governed_ingest"]["sweep"]:
        lines.append(
            _load_row("governed ingest (signed, stored)", figures, floor["requests_per_second"], "floor")
        )
    for size, figures in scenarios["batch_ingest"].items():
        lines.append(_load_row(f"batch ingest, {size} a request", figures))
    scale = scenarios["scale"]
    lines.append(_load_row(f"governed ingest, {scale['stored']:,} stored", scale["ingest"]))
    end_to_end = scenarios["end_to_end"]
    engine, direct = end_to_end["engine"], end_to_end["direct"]
    lines += [
        "",
        f"## End to end: {end_to_end['orders']} final confirmations to as many open manufacturing orders",
        "",
        "| client | messages/s | first post to last order done (s) | lag p50 / p95 / p99 / max ms "
        "| orders done |",
        "| --- | --- | --- | --- | --- |",
        _end_to_end_row("governed: webhook, runner, processor", engine),
        _end_to_end_row("direct: 4 JSON-2 calls per confirmation", direct),
        "",
        "Lag: governed, from the message stored to the message done (database clock); direct, "
        "the four calls of one confirmation.",
        "",
        f"## Monitoring reads, empty store and {scale['stored']:,} stored messages",
        "",
        "Median of 5 calls as the web client makes them (one logged-in user, one at a time).",
        "",
        f"| read | empty (ms) | {scale['stored']:,} stored (ms) | ratio |",
        "| --- | --- | --- | --- |",
    ]
    for name, empty in scenarios["monitoring_empty"].items():
        full = scale["monitoring_ms"][name]
        lines.append(f"| {name} | {empty} | {full} | {ratio(full, empty)} |")
    lines += ["", "## Targets", "", "| target | measured | bound | met |", "| --- | --- | --- | --- |"]
    for target in results["targets"]:
        lines.append(
            f"| {target['target']} | {target['measured']} | {target['bound']} | "
            f"{'yes' if target['met'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def write(results, folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    results["targets"] = targets(results)
    (folder / "latest.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    (folder / "latest.md").write_text(markdown(results))
    return folder / "latest.md"
