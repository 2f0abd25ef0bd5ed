"""What every reliability scenario shares: its size, its figures, its servers, a plant that retries.

A scenario breaks something on purpose (a killed process, a restarted
database, a partner that hangs, hostile bytes) and then proves that nothing
was lost, nothing applied twice and no request answered 5xx. It says so in
figures (:class:`Figures`), written to the report that ``./setup/test``
prints at the end and README's "Reliability" section quotes.

``RELIABILITY_SCALE=full`` (``./setup/test --reliability``) runs every
scenario at full size; the default, ``short``, keeps each to seconds in CI.
"""

import itertools
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
from standardwebhooks.webhooks import Webhook

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from odoo_server import OdooServer  # noqa: E402
from test_dispatcher import SECRET  # noqa: E402  (the backends of create_backend sign with it)

FULL = os.environ.get("RELIABILITY_SCALE", "short") == "full"
REPORT = Path(os.environ.get("RELIABILITY_REPORT", REPO / ".local" / "log" / "reliability.jsonl"))
CHECKED = []  # the figures of this run's scenarios, printed in pytest's summary (see conftest.py)


def sized(short, full):
    """The size of a scenario: ``short`` in every ``./setup/test``, ``full`` with ``--reliability``."""
    return full if FULL else short


@dataclass
class Figures:
    """What a scenario did and saw; :meth:`check` fails it on any loss, double effect or 5xx.

    A 503 with ``Retry-After`` is the documented "busy, nothing stored, retry"
    answer: it is counted apart, and fails only the scenarios that say so
    (:meth:`check` with ``unavailable_allowed=False``, the default).
    """

    scenario: str
    sent: int = 0  # messages the plant meant to deliver
    accepted: int = 0  # of those, the ones the server said it stored (2xx)
    done: int = 0
    exception: int = 0  # settled in a business exception (each must be justified by the scenario)
    lost: int = 0  # accepted (or meant) but not stored, or never settled
    applied_twice: int = 0  # business effects made more than once
    requests: int = 0  # HTTP requests tried, retries included
    unavailable: int = 0  # answers 503 with Retry-After: "nothing stored, retry later", as documented
    server_errors: int = 0  # every other answer from 500 to 599
    notes: dict = field(default_factory=dict)  # the scenario's own figures (kills, attempts, seconds)

    @classmethod
    def of_plant(cls, scenario, plant, sent, accepted, states, partners, notes=None):
        """The figures of inbound messages a :class:`Plant` sent, made into partners by the test processor."""
        lost, applied_twice = effects(sent, partners)
        return cls(
            scenario,
            sent=sent,
            accepted=accepted,
            done=states.get("done", 0),
            exception=states.get("exception", 0) + states.get("dead", 0),
            lost=lost,
            applied_twice=applied_twice,
            requests=plant.requests,
            unavailable=plant.unavailable,
            server_errors=plant.server_errors,
            notes={**(notes or {}), "given up": len(plant.failures)},
        )

    def check(self, unavailable_allowed=False):
        """Write the figures to the report, then fail on loss, double effects or 5xx."""
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        line = {"scale": "full" if FULL else "short", "at": datetime.now(tz=UTC).isoformat(), **asdict(self)}
        with REPORT.open("a", encoding="utf-8") as report:
            report.write(json.dumps(line) + "\n")
        CHECKED.append(self)
        assert self.lost == 0, f"{self.scenario}: {self.lost} messages lost"
        assert self.applied_twice == 0, f"{self.scenario}: {self.applied_twice} effects applied twice"
        assert self.server_errors == 0, f"{self.scenario}: {self.server_errors} answers were 5xx"
        assert unavailable_allowed or not self.unavailable, f"{self.scenario}: {self.unavailable} answers 503"


class Node(OdooServer):
    """One prefork Odoo server of a scenario, with the processes a scenario may kill.

    ``setproctitle`` (in requirements.txt) names each process of the prefork
    server by its role (``odoo: WorkerHTTP <pid>``), so that a scenario kills
    exactly the HTTP worker or the job runner it means to.
    """

    def __init__(self, database, port, log_path, workers=2, options=None, env=None):
        super().__init__(
            os.environ["ODOO_BIN"],
            os.environ["ODOO_CONF"],
            database,
            port,
            workers,
            str(log_path),
            with_runner=True,
            env=env,
            options={
                "log-level": "info",
                "limit-time-real": 60,
                "limit-time-real-cron": 600,
                **(options or {}),
            },
        )
        self.log_path = Path(log_path)

    def processes(self, role):
        """Pids of this server's processes of ``role`` (WorkerHTTP, WorkerCron, WorkerJobRunner)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            if parent == self.process.pid and title.startswith(f"odoo: {role} "):
                found.append(int(entry.name))
        return found

    @staticmethod
    def kill_pid(pid):
        """SIGKILL one process of the server (the master starts a new one in its place)."""
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass  # it ended by itself meanwhile

    def log_text(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


def clone_database(template, name):
    """A fresh copy of the test database (and its filestore) for one scenario."""
    subprocess.run(["dropdb", "--if-exists", name], check=True)
    subprocess.run(["createdb", "-T", template, name], check=True)
    data_dir = Path(os.environ.get("ODOO_DATA_DIR", REPO / ".local" / "data")) / "filestore"
    if (data_dir / template).exists():
        subprocess.run(["rm", "-rf", str(data_dir / name)], check=True)
        subprocess.run(["cp", "-a", str(data_dir / template), str(data_dir / name)], check=True)


def drop_database(name):
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=False)
    data_dir = Path(os.environ.get("ODOO_DATA_DIR", REPO / ".local" / "data")) / "filestore"
    subprocess.run(["rm", "-rf", str(data_dir / name)], check=False)


class Plant:
    """A plant system posting signed webhooks, and retrying as Standard Webhooks asks.

    A delivery is retried with the same ``webhook-id`` (and a fresh
    signature) until the server answers 2xx or 4xx, or ``give_up_after``
    seconds pass: a connection refused or reset, a timeout or a 5xx is a
    reason to try again, never a reason to send a different message.
    Thread-safe; counts every request and every 5xx it saw.
    """

    def __init__(self, url, backend_code, secret=SECRET, give_up_after=180, timeout=60):
        # Several servers (a list) take the requests in turn, as behind a load balancer:
        # a retry goes to the next one.
        self.urls = [address.rstrip("/") for address in ([url] if isinstance(url, str) else url)]
        self._turns = itertools.count()
        self.backend_code = backend_code
        self.secret = secret
        self.give_up_after = give_up_after
        self.timeout = timeout
        self.requests = 0
        self.unavailable = 0
        self.server_errors = 0
        self.failures = []  # (webhook-id, last error) of deliveries given up
        self._lock = threading.Lock()
        self._local = threading.local()

    def _session(self):
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def post(self, flow_code, body, webhook_id=None, path=""):
        """One signed request, no retry: returns the response (or raises the connection error)."""
        webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
        sent_at = datetime.now(tz=UTC)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(self.secret).sign(webhook_id, sent_at, body),
        }
        with self._lock:
            self.requests += 1
            server = self.urls[next(self._turns) % len(self.urls)]
        response = self._session().post(
            f"{server}/integration/v1/{self.backend_code}/{flow_code}{path}",
            data=body,
            headers=headers,
            timeout=self.timeout,
        )
        if response.status_code >= 500:
            retry_later = response.status_code == 503 and "Retry-After" in response.headers
            with self._lock:
                if retry_later:
                    self.unavailable += 1
                else:
                    self.server_errors += 1
        return response

    def deliver(self, flow_code, payload, webhook_id, path="", retry_statuses=()):
        """Deliver ``payload`` until it is accepted or refused; returns the last response or None.

        ``retry_statuses`` are 4xx answers that mean "later" in the scenario
        (429 when the rate limit is shared between nodes).
        """
        body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
        deadline = time.monotonic() + self.give_up_after
        pause = 0.2
        last_error = None
        while time.monotonic() < deadline:
            try:
                response = self.post(flow_code, body, webhook_id, path)
            except requests.RequestException as error:
                last_error = repr(error)
            else:
                if response.status_code < 500 and response.status_code not in retry_statuses:
                    return response
                last_error = f"{response.status_code} {response.text[:200]}"
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    pause = max(pause, min(float(retry_after), 5.0))
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
        with self._lock:
            self.failures.append((webhook_id, last_error))
        return None

    def deliver_all(self, flow_code, payloads, senders=8):
        """Deliver every payload (its ``webhook-id`` made of its ``ref``) from ``senders`` threads at once.

        Returns how many were accepted (stored now, or found stored already).
        """
        with ThreadPoolExecutor(senders) as pool:
            answers = pool.map(
                lambda payload: self.deliver(flow_code, payload, f"msg_{payload['ref']}"), payloads
            )
            return sum(1 for answer in answers if answer is not None and answer.status_code in (200, 202))


def effects(sent, partners):
    """``(lost, applied twice)`` of ``sent`` messages, from the partners the processor made for them."""
    applied = Counter(partner["ref"] for partner in partners)
    return sent - len(applied), sum(count - 1 for count in applied.values())


SETTLE_SECONDS = sized(240, 900)


def settle(database, backend_ids, total, timeout=SETTLE_SECONDS):
    """Wait until ``total`` messages of the backends are done, in exception or dead; returns states."""
    deadline = time.monotonic() + timeout
    counts = {}
    while time.monotonic() < deadline:
        counts = message_states(database, backend_ids)
        if sum(counts.get(state, 0) for state in ("done", "exception", "dead", "cancelled")) >= total:
            return counts
        time.sleep(0.5)
    return counts


def arrival_order(database, backend_id):
    """``{ref: message id}`` of the backend's messages: the order they arrived in.

    Senders working side by side (or a retry) may deliver a key's messages in
    another order than the one they were made in; the order to keep is the
    order they were stored in.
    """
    with database.cursor() as cr:
        cr.execute(
            "SELECT payload::json->>'ref', id FROM integration_message WHERE backend_id = %s", [backend_id]
        )
        return dict(cr.fetchall())


def message_states(database, backend_ids):
    with database.cursor() as cr:
        cr.execute(
            "SELECT state, count(*) FROM integration_message WHERE backend_id = ANY(%s) GROUP BY state",
            [list(backend_ids)],
        )
        return dict(cr.fetchall())
