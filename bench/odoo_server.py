"""An Odoo server of its own for a benchmark phase or a reliability scenario, stopped at the end."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


class OdooServer:
    """A prefork Odoo on one database, with or without queue_job's runner.

    Without the runner (``server_wide_modules`` without ``queue_job``) the
    server only stores what it accepts: the ingest scenarios measure the door
    and the store alone. The end-to-end scenario runs with the runner.
    ``options`` replace the defaults below (log level, time limits) or add to
    them, as Odoo's command line options (``{"limit-time-real": 60}``).
    """

    DEFAULT_OPTIONS = {"log-level": "warn", "limit-time-real": 900, "limit-time-cpu": 900}

    def __init__(
        self,
        odoo_bin,
        config,
        database,
        port,
        workers,
        log_path,
        with_runner,
        env=None,
        profile=None,
        options=None,
    ):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        load = "base,web,queue_job,integration_base" if with_runner else "base,web,integration_base"
        # With ``profile``, py-spy samples the server and its workers into that file
        # (collapsed stacks: open it in speedscope, or read it with flamegraph tools).
        wrapper = (
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--subprocesses",
                "--rate",
                "100",
                "--format",
                "raw",
                "-o",
                profile,
                "--",
            ]
            if profile
            else []
        )
        self.command = [
            *wrapper,
            *([sys.executable, odoo_bin] if profile else [odoo_bin]),
            "-c",
            config,
            "-d",
            database,
            f"--db-filter=^{database}$",
            f"--http-port={port}",
            f"--gevent-port={port + 3}",
            f"--workers={workers}",
            "--max-cron-threads=1",
            f"--load={load}",
            *(f"--{name}={value}" for name, value in {**self.DEFAULT_OPTIONS, **(options or {})}.items()),
            f"--logfile={log_path}",
        ]
        self.env = env
        self.profiled = bool(profile)
        self.process = None

    def __enter__(self):
        self.start()
        return self

    def start(self):
        """Start the server and wait until it serves the suite (again, after :meth:`stop`)."""
        with socket.socket() as probe:
            # As the server binds: connections of a previous run in TIME_WAIT do not count.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError:
                # Another server there would answer the checks below in this one's place.
                raise RuntimeError(f"port {self.port} is taken: stop what listens there") from None
        self.process = subprocess.Popen(self.command, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Odoo stopped at start (exit {self.process.returncode}): see its log")
            try:
                if requests.get(f"{self.url}/web/health", timeout=5).status_code == 200:
                    # A prefork worker answers /web/health before it loads the registry:
                    # the suite's own health check needs it.
                    requests.get(f"{self.url}/integration/v1/health", timeout=60)
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Odoo did not answer at {self.url} within 180 s")

    def __exit__(self, *_exc):
        self.stop()

    def stop(self):
        # py-spy, when it samples, writes its file on SIGINT; the server stops on either.
        os.killpg(self.process.pid, signal.SIGINT if self.profiled else signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
