# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Real message brokers for tests: Debian's mosquitto and RabbitMQ, each alone in a temporary folder.

Standard library only, so that the end-to-end tests (which do not import
Odoo) use them too::

    with Mosquitto(users={"plant": "secret"}, acl={"plant": ["plant/#"]}) as broker:
        broker.url_for("plant")   # mqtt://plant@127.0.0.1:<port>
    with RabbitMQ(users={"plant": "secret"}, queues=["orders"]) as broker:
        broker.url_for("plant")   # amqp://plant@127.0.0.1:<port>/tests

Each broker listens on loopback only, on free ports, with its
configuration, data, logs (and RabbitMQ's Erlang cookie) in its own folder
and RabbitMQ with an ``epmd`` of its own, so that it clashes neither with a
broker the machine runs nor with another test's. ``stop()`` makes the
broker go away as it does when it crashes or is shut down, ``start()``
brings it back on the same port, ``freeze()`` and ``thaw()`` make it stop
answering without closing anything. Leaving the ``with`` block kills each
process group and removes the folder.
"""

import base64
import contextlib
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
# Debian's /usr/sbin/rabbitmq-server is a wrapper that changes to the rabbitmq
# user with su (which resets HOME, so the node would read the system's cookie),
# or refuses any user but root and rabbitmq, and logs to /var/log/rabbitmq. The
# scripts it calls work for any user, root included, given their environment.
RABBITMQ_BIN = "/usr/lib/rabbitmq/bin"
EPMD = "/usr/bin/epmd"
LOOPBACK = "127.0.0.1"


def free_port():
    """A TCP port nothing listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_until(ready, timeout, what, alive=None):
    """Poll ``ready()`` until true; ``RuntimeError`` naming ``what`` on timeout or if ``alive()`` fails."""
    deadline = time.monotonic() + timeout
    while not ready():
        if alive is not None and not alive():
            raise RuntimeError(f"{what}: the process ended")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout} s")
        time.sleep(0.05)


def accepts_connections(port):
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


def kill_group(process, grace=5.0):
    """Stop ``process`` and every process of its group: TERM, then KILL after ``grace`` s."""
    if process is None or process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # what the leader left behind in its group


class _Broker:
    """Temporary folder, process group and log shared by both brokers."""

    name = "broker"

    def __init__(self):
        self.folder = None
        self.process = None
        self.helpers = []  # processes the broker needs beside its own, killed after it
        self.start_seconds = []  # how long each start took, to know what a test costs

    def __enter__(self):
        self.folder = tempfile.mkdtemp(prefix=f"test-{self.name}-")
        try:
            self.prepare()
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info):
        self.shutdown()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def path(self, name):
        return os.path.join(self.folder, name)

    def spawn(self, args, log_name, env=None):
        """``args`` in a process group of its own (so that it is killed whole), output to ``log_name``."""
        with open(self.path(log_name), "ab") as log:
            return subprocess.Popen(
                args,
                cwd=self.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self, name, size=3000):
        try:
            with open(self.path(name), "rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - size))
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def freeze(self):
        """The broker stops answering (SIGSTOP): connections stay open, nothing is acknowledged."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def thaw(self):
        os.killpg(self.process.pid, signal.SIGCONT)

    def shutdown(self):
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGCONT)
            kill_group(self.process)
            self.process = None
        while self.helpers:
            kill_group(self.helpers.pop())


class Mosquitto(_Broker):
    """A mosquitto broker on loopback.

    Without ``users`` anyone may connect and publish anywhere. With ``users``
    (name -> password, hashed into a password file by ``mosquitto_passwd``)
    only they may connect; ``acl`` (name -> topic patterns) then limits each
    user to its patterns, for reading and writing alike. With ``tls`` a
    second listener speaks TLS on ``tls_port`` with a self-signed certificate
    for 127.0.0.1 (made by ``openssl``), which ``ca_file`` holds.
    """

    name = "mosquitto"

    def __init__(self, users=None, acl=None, tls=False):
        super().__init__()
        self.users = dict(users or {})
        self.acl = {user: list(patterns) for user, patterns in (acl or {}).items()}
        self.port = free_port()
        self.tls_port = free_port() if tls else None

    @property
    def url(self):
        return f"mqtt://{LOOPBACK}:{self.port}"

    def url_for(self, user, tls=False):
        if tls:
            return f"mqtts://{user}@{LOOPBACK}:{self.tls_port}"
        return f"mqtt://{user}@{LOOPBACK}:{self.port}"

    @property
    def ca_file(self):
        return self.path("certificate.pem")

    def prepare(self):
        lines = [
            f"listener {self.port} {LOOPBACK}",
            "persistence false",
            # As root mosquitto changes to the user 'mosquitto', who cannot read this folder: stay who we are.
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "connection_messages true",
            f"allow_anonymous {'false' if self.users else 'true'}",
        ]
        if self.users:
            password_file = self.path("passwords")
            for user, password in self.users.items():
                create = [] if os.path.exists(password_file) else ["-c"]
                subprocess.run(
                    [MOSQUITTO_PASSWD, *create, "-b", password_file, user, password],
                    check=True,
                    capture_output=True,
                )
            lines.append(f"password_file {password_file}")
        if self.acl:
            with open(self.path("acl"), "w") as acl:
                for user, patterns in self.acl.items():
                    acl.write(f"user {user}\n")
                    acl.writelines(f"topic readwrite {pattern}\n" for pattern in patterns)
            lines.append(f"acl_file {self.path('acl')}")
        if self.tls_port:
            self.make_certificate()
            lines += [
                f"listener {self.tls_port} {LOOPBACK}",
                f"certfile {self.ca_file}",
                f"keyfile {self.path('key.pem')}",
            ]
        with open(self.path("mosquitto.conf"), "w") as config:
            config.write("\n".join(lines) + "\n")

    def make_certificate(self):
        """A self-signed certificate for 127.0.0.1 and localhost, valid for a day."""
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
                *("-nodes", "-days", "1", "-subj", "/CN=localhost"),
                *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                *("-keyout", self.path("key.pem"), "-out", self.ca_file),
            ],
            check=True,
            capture_output=True,
        )

    def start(self):
        started = time.monotonic()
        self.process = self.spawn([MOSQUITTO, "-c", self.path("mosquitto.conf")], "mosquitto.log")
        try:
            wait_until(
                lambda: all(accepts_connections(port) for port in (self.port, self.tls_port) if port),
                10,
                "mosquitto",
                alive=lambda: self.process.poll() is None,
            )
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{self.log_tail('mosquitto.log')}") from None
        self.start_seconds.append(time.monotonic() - started)

    def stop(self):
        """The broker goes away: its process ends, its port refuses connections."""
        self.shutdown()


class RabbitMQ(_Broker):
    """A RabbitMQ node on loopback, with what the tests publish to made at its first boot.

    ``users`` (name -> password) may do anything in ``vhost``, except those
    in ``read_only`` who may only read. ``queues`` are durable queues,
    ``exchanges`` (name -> type) durable exchanges, ``bindings`` tuples of
    (exchange, queue, routing key). They are loaded from a definitions file
    when the node first boots, which costs nothing, where each rabbitmqctl
    call starts an Erlang VM of its own (about a second).

    With ``mqtt`` the node also listens for MQTT on ``mqtt_port`` (its plugin,
    which in RabbitMQ 3.10 speaks 3.1.1 only: a real broker to which MQTT 5 is
    unknown), in ``vhost``, publishing to ``amq.topic`` with '/' turned into '.'.

    ``stop()`` and ``start()`` stop and start the RabbitMQ application, not
    the Erlang node: clients see what they see when the broker goes down
    (their connections closed, the port refusing), and it is back in about a
    second, where the node boots in about 5 s (10 s with the MQTT plugin,
    which waits for peers before it elects itself) on a 2-core machine.
    """

    name = "rabbitmq"

    def __init__(
        self, users=None, vhost="tests", read_only=(), queues=(), exchanges=None, bindings=(), mqtt=False
    ):
        super().__init__()
        self.users = dict(users or {})
        self.vhost = vhost
        self.read_only = set(read_only)
        self.queues = list(queues)
        self.exchanges = dict(exchanges or {})
        self.bindings = list(bindings)
        self.port = free_port()
        self.mqtt_port = free_port() if mqtt else None
        self.node = f"integration-test-{self.port}@localhost"

    @property
    def url(self):
        return f"amqp://{LOOPBACK}:{self.port}/{self.vhost}"

    def url_for(self, user):
        return f"amqp://{user}@{LOOPBACK}:{self.port}/{self.vhost}"

    def prepare(self):
        for folder in ("home", "mnesia", "log"):
            os.mkdir(self.path(folder))
        cookie = self.path("home/.erlang.cookie")
        with open(cookie, "w") as file:
            file.write(secrets.token_hex(20))
        os.chmod(cookie, 0o400)
        with open(self.path("enabled_plugins"), "w") as plugins:
            plugins.write("[rabbitmq_mqtt].\n" if self.mqtt_port else "[].\n")
        open(self.path("rabbitmq-env.conf"), "w").close()
        with open(self.path("definitions.json"), "w") as definitions:
            json.dump(self.definitions(), definitions)
        with open(self.path("rabbitmq.conf"), "w") as config:
            config.write(
                f"listeners.tcp.default = {LOOPBACK}:{self.port}\n"
                f"load_definitions = {self.path('definitions.json')}\n"
                "log.console = false\n"
            )
            if self.mqtt_port:
                config.write(
                    f"mqtt.listeners.tcp.default = {LOOPBACK}:{self.mqtt_port}\n"
                    f"mqtt.vhost = {self.vhost}\n"
                    "mqtt.exchange = amq.topic\n"
                    "mqtt.allow_anonymous = false\n"
                )
        epmd_port, dist_port, cli_port = free_port(), free_port(), free_port()
        self.environment = {
            **os.environ,
            "HOME": self.path("home"),  # where the node and rabbitmqctl read the Erlang cookie
            "ERL_EPMD_PORT": str(epmd_port),
            "ERL_CRASH_DUMP": self.path("log/erl_crash.dump"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_CTL_DIST_PORT_MIN": str(cli_port),
            "RABBITMQ_CTL_DIST_PORT_MAX": str(cli_port),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_CONF_ENV_FILE": self.path("rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": self.path("rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": self.path("advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": self.path("enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": self.path("mnesia"),
            "RABBITMQ_LOG_BASE": self.path("log"),
            "RABBITMQ_PID_FILE": self.path("rabbitmq.pid"),
        }
        # Our own epmd (the node would start one as a daemon, outside any group we could kill).
        self.helpers.append(self.spawn([EPMD, "-address", LOOPBACK, "-port", str(epmd_port)], "epmd.log"))

    def definitions(self):
        """Users, vhost, permissions, queues, exchanges and bindings in RabbitMQ's definitions format."""
        full, read = (".*", ".*", ".*"), ("^$", "^$", ".*")
        return {
            "users": [
                {
                    "name": user,
                    "password_hash": password_hash(password),
                    "hashing_algorithm": "rabbit_password_hashing_sha256",
                    "tags": [],
                }
                for user, password in self.users.items()
            ],
            "vhosts": [{"name": self.vhost}],
            "permissions": [
                {
                    "user": user,
                    "vhost": self.vhost,
                    **dict(zip(("configure", "write", "read"), rights, strict=True)),
                }
                for user in self.users
                for rights in [read if user in self.read_only else full]
            ],
            "queues": [
                {"name": queue, "vhost": self.vhost, "durable": True, "auto_delete": False, "arguments": {}}
                for queue in self.queues
            ],
            "exchanges": [
                {
                    "name": name,
                    "vhost": self.vhost,
                    "type": kind,
                    "durable": True,
                    "auto_delete": False,
                    "internal": False,
                    "arguments": {},
                }
                for name, kind in self.exchanges.items()
            ],
            "bindings": [
                {
                    "source": exchange,
                    "vhost": self.vhost,
                    "destination": queue,
                    "destination_type": "queue",
                    "routing_key": routing_key,
                    "arguments": {},
                }
                for exchange, queue, routing_key in self.bindings
            ],
        }

    def start(self):
        """Boot the node the first time, then start the RabbitMQ application again after :meth:`stop`."""
        started = time.monotonic()
        if self.process is None:
            self.process = self.spawn(
                [f"{RABBITMQ_BIN}/rabbitmq-server"], "rabbitmq-server.log", self.environment
            )
            timeout = 120
        else:
            self.rabbitmqctl("start_app")
            timeout = 30
        try:
            wait_until(
                lambda: speaks_amqp(self.port)
                and (not self.mqtt_port or accepts_connections(self.mqtt_port)),
                timeout,
                f"RabbitMQ node {self.node}",
                alive=lambda: self.process.poll() is None,
            )
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{self.log_tail('rabbitmq-server.log')}") from None
        self.start_seconds.append(time.monotonic() - started)

    def stop(self):
        """The broker goes down: connections are closed, the port refuses (the Erlang node stays up)."""
        self.rabbitmqctl("stop_app")

    def rabbitmqctl(self, *args):
        """Run ``rabbitmqctl`` against this node and return its output; ``RuntimeError`` with what it said."""
        done = subprocess.run(
            [f"{RABBITMQ_BIN}/rabbitmqctl", "--node", self.node, *args],
            env=self.environment,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {done.stdout}{done.stderr}")
        return done.stdout


def password_hash(password):
    """RabbitMQ's default password hash: base64 of a 4-byte salt and SHA-256(salt + password)."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def speaks_amqp(port):
    """Whether an AMQP 0-9-1 broker answers on ``port``: it must send Connection.Start to our header."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=2) as connection:
            connection.sendall(b"AMQP\x00\x00\x09\x01")
            frame = connection.recv(7)
    except OSError:
        return False
    return len(frame) == 7 and frame[0] == 1  # a method frame on channel 0
