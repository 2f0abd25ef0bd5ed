"""The benchmarks' load generator: a fixed number of connections, a warm-up, a measured window.

Every scenario goes through this one client, so that scenarios differ only in
what the server does. It also reports its own CPU use (seconds of CPU per
second of wall time, where 1.0 is one core busy): a client near 1.0 is the
limit of the figure, not the server.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp


@dataclass
class Call:
    """One request to send: ``items`` is what it carries (messages in a batch, else 1).

    A unit of work of the load is anything called with the client session
    that returns ``(status, body text, items, expected)``: one ``Call``, or
    a coroutine function making several requests (a direct integration
    applying one confirmation in four calls).
    """

    method: str
    url: str
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    items: int = 1
    accept: tuple = (200,)

    async def __call__(self, session):
        status, text = await send(session, self.method, self.url, self.body, self.headers)
        return status, text, self.items, status in self.accept


@dataclass
class LoadResult:
    """What the client saw in the measured part of a run."""

    concurrency: int
    wall_seconds: float
    requests: int
    items: int
    statuses: Counter
    latencies_ms: list
    client_cpu: float
    unexpected: list

    @property
    def requests_per_second(self):
        return self.requests / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def items_per_second(self):
        return self.items / self.wall_seconds if self.wall_seconds else 0.0

    def percentile(self, fraction):
        """Latency (ms) at ``fraction`` (0.5, 0.95, 0.99) of the measured requests, nearest rank."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]

    def summary(self):
        return {
            "concurrency": self.concurrency,
            "wall_seconds": round(self.wall_seconds, 3),
            "requests": self.requests,
            "items": self.items,
            "requests_per_second": round(self.requests_per_second, 1),
            "items_per_second": round(self.items_per_second, 1),
            "p50_ms": _rounded(self.percentile(0.50)),
            "p95_ms": _rounded(self.percentile(0.95)),
            "p99_ms": _rounded(self.percentile(0.99)),
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "client_cpu": round(self.client_cpu, 2),
            "unexpected": self.unexpected[:5],
        }


def _rounded(value):
    return None if value is None else round(value, 1)


async def send(session, method, url, body=None, headers=None):
    """Send one request; returns ``(status, body text)``, status 0 when the connection failed."""
    try:
        async with session.request(method, url, data=body, headers=headers) as response:
            return response.status, await response.text()
    except (TimeoutError, aiohttp.ClientError) as error:
        return 0, f"{type(error).__name__}: {error}"


async def _load(make_work, concurrency, warmup_seconds, measure_seconds, total):
    """Run ``concurrency`` senders, for a measured window after a warm-up, or for ``total`` calls."""
    timeout = aiohttp.ClientTimeout(total=900)
    connector = aiohttp.TCPConnector(limit=concurrency)
    numbers = iter(range(10**12))
    statuses, latencies, unexpected = Counter(), [], []
    counted = {"requests": 0, "items": 0}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.monotonic()
        window_start = started + warmup_seconds
        window_end = window_start + measure_seconds if total is None else None

        async def sender():
            while True:
                if total is not None and counted["requests"] + len(in_flight) >= total:
                    return
                now = time.monotonic()
                if window_end is not None and now >= window_end:
                    return
                work = make_work(next(numbers))
                token = object()
                in_flight.add(token)
                status, text, items, expected = await work(session)
                in_flight.discard(token)
                if now < window_start:
                    continue
                latencies.append((time.monotonic() - now) * 1000)
                statuses[status] += 1
                counted["requests"] += 1
                counted["items"] += items
                if not expected and len(unexpected) < 20:
                    unexpected.append(f"{status} {text[:300]}")

        in_flight = set()
        cpu_start, measured_start = time.process_time(), started

        async def measured():
            nonlocal cpu_start, measured_start
            await asyncio.sleep(max(0.0, window_start - time.monotonic()))
            cpu_start, measured_start = time.process_time(), time.monotonic()

        await asyncio.gather(measured(), *(sender() for _ in range(concurrency)))
        wall = time.monotonic() - measured_start
        cpu = time.process_time() - cpu_start
    return LoadResult(
        concurrency=concurrency,
        wall_seconds=wall,
        requests=counted["requests"],
        items=counted["items"],
        statuses=statuses,
        latencies_ms=latencies,
        client_cpu=cpu / wall if wall else 0.0,
        unexpected=unexpected,
    )


def run_for(make_work: Callable[[int], Callable], concurrency, warmup_seconds, measure_seconds):
    """Load for ``warmup_seconds`` (not counted), then measure ``measure_seconds``.

    ``make_work(n)`` gives the n-th unit of work (a ``Call``, or see ``Call``).
    """
    return asyncio.run(_load(make_work, concurrency, warmup_seconds, measure_seconds, None))


def run_count(make_work: Callable[[int], Callable], concurrency, total):
    """Do exactly ``total`` units of work, measured from the first start to the last answer."""
    return asyncio.run(_load(make_work, concurrency, 0.0, 0.0, total))
