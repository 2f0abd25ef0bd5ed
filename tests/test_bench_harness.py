"""A smoke run of the benchmark's load generator against the live server (no timings asserted).

The benchmarks themselves run with ./setup/bench only; this proves that the
client they all share counts what it sends and what it gets back.
"""

import os
import sys
from pathlib import Path

# bench/ is not a package: its modules import each other by name, from their folder.
sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

import clients
import loadgen


def test_a_counted_run_sends_exactly_what_it_is_asked(server_url):
    result = loadgen.run_count(clients.floor(server_url, os.environ["INTEGRATION_DB"]), 3, 7)
    assert (result.requests, result.items, dict(result.statuses)) == (7, 7, {200: 7})
    assert len(result.latencies_ms) == 7 and min(result.latencies_ms) > 0
    assert result.unexpected == []
    summary = result.summary()
    assert summary["p50_ms"] <= summary["p99_ms"]
    assert summary["requests_per_second"] > 0


def test_answers_other_than_expected_are_reported(server_url):
    refused = loadgen.Call("GET", f"{server_url}/integration/v1/no-such-backend/flow")
    result = loadgen.run_count(lambda _n: refused, 1, 2)
    assert dict(result.statuses) == {405: 2}
    assert len(result.unexpected) == 2 and result.unexpected[0].startswith("405 ")


def test_a_timed_run_measures_after_its_warm_up(server_url):
    result = loadgen.run_for(clients.floor(server_url, os.environ["INTEGRATION_DB"]), 2, 0.3, 0.7)
    assert result.requests > 0 and result.statuses[200] == result.requests
    assert 0.6 < result.wall_seconds < 30
