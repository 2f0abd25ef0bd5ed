# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The folder transports against real counterparts: this machine's disk, and an SFTP server on loopback.

Both transports must behave alike, so the same cases run against each; the
SFTP ones add what only a server can do (go down, refuse a login, show
another host key). No database is needed.
"""

import contextlib
import hashlib
import io
import logging
import os
import pickle
import shutil
import socket
import stat
import tempfile
import threading
import time

import paramiko

from odoo.tests import BaseCase, tagged

from odoo.addons.integration_base.lib.transports import DELIVERED, REFUSED, RETRY, for_target
from odoo.addons.integration_base.lib.transports import folder as folder_transport
from odoo.addons.integration_base.lib.transports import sftp as sftp_transport
from odoo.addons.integration_base.lib.transports.base import Outgoing, Source, TransportError

from .sftp_server import SftpServer

NOBODY = 65534
PASSWORD = "plant-secret-7f3a"


class FolderTransportCases:
    """What every folder transport does; a subclass says which transport and how it reaches ``self.root``."""

    transport = None
    # Odoo's loader only takes the test methods a class defines itself, unless told to take these too.
    allow_inherited_tests_method = True

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix="folder-transport-")
        os.chmod(self.root, 0o755)  # an unprivileged worker (see unprivileged()) must get in
        self.addCleanup(_remove_tree, self.root)

    # What a subclass says

    def url_of(self, relative):
        raise NotImplementedError

    def secrets(self):
        return {}

    def options(self):
        return {}

    def unprivileged(self, function):
        """Run ``function`` as a worker that file permissions apply to."""
        return function()

    def thread_done(self):
        """A worker thread of a test ends: let go of what the transport keeps per thread."""

    # Helpers

    def outgoing(self, relative, body, message_key="message-1", topic=None, **fields):
        fields.setdefault("secrets", self.secrets())
        fields.setdefault("options", self.options())
        return Outgoing(
            target=self.url_of(relative), body=body, message_key=message_key, topic=topic, **fields
        )

    def source(self, relative="exchange"):
        return Source(url=self.url_of(relative), secrets=self.secrets(), options=self.options())

    def local(self, *parts):
        return os.path.join(self.root, *parts)

    def make_folder(self, *parts, mode=0o755):
        path = self.local(*parts)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        return path

    def drop(self, name, body, age=0, relative="exchange"):
        """A partner puts a file in ``in/``, ``age`` seconds ago."""
        path = os.path.join(self.make_folder(relative, "in"), name)
        with open(path, "wb") as handle:
            handle.write(body)
        moment = time.time() - age
        os.utime(path, (moment, moment))
        return path

    def listing(self, *parts):
        return sorted(os.listdir(self.local(*parts)))

    def content(self, *parts):
        with open(self.local(*parts), "rb") as handle:
            return handle.read()

    def in_threads(self, count, work):
        """Run ``work(index)`` in ``count`` threads at once; their results, or the first error raised."""
        results, errors = [None] * count, []

        def run(index):
            try:
                results[index] = work(index)
            except Exception as error:
                errors.append(error)
            finally:
                self.thread_done()

        threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        if errors:
            raise errors[0]
        return results

    # Outbound

    def test_send_places_the_whole_file_under_its_topic(self):
        self.make_folder("out")
        body = os.urandom(300_000)
        result = self.transport.send(self.outgoing("out", body, topic="orders-42.dat"))
        self.assertEqual(result.outcome, DELIVERED, result.error)
        self.assertEqual(self.listing("out"), ["orders-42.dat"], "no temporary file is left behind")
        self.assertEqual(self.content("out", "orders-42.dat"), body)
        self.assertIs(for_target(self.url_of("out")), self.transport)

    def test_a_reader_never_sees_half_a_file(self):
        self.make_folder("out")
        body = os.urandom(4 * 1024 * 1024)
        final = self.local("out", "big.bin")
        sizes_seen, sending = set(), threading.Event()
        sending.set()

        def watch():
            while sending.is_set():
                with contextlib.suppress(FileNotFoundError):
                    sizes_seen.add(os.stat(final).st_size)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            result = self.transport.send(self.outgoing("out", body, topic="big.bin"))
        finally:
            sending.clear()
            watcher.join()
        self.assertEqual(result.outcome, DELIVERED, result.error)
        self.assertLessEqual(sizes_seen, {len(body)}, "the final name only ever showed the whole file")
        self.assertEqual(self.content("out", "big.bin"), body)

    def test_name_made_from_the_message_key_is_safe_and_distinct(self):
        self.make_folder("out")
        first = self.transport.send(self.outgoing("out", b'{"n": 1}', message_key="orders/42:7"))
        second = self.transport.send(self.outgoing("out", b'{"n": 2}', message_key="orders_42_7"))
        self.assertEqual((first.outcome, second.outcome), (DELIVERED, DELIVERED), first.error or second.error)
        names = self.listing("out")
        self.assertEqual(len(names), 2, "keys that differ only in unsafe characters get two files")
        self.assertIn("orders_42_7.json", names)
        made = next(name for name in names if name != "orders_42_7.json")
        self.assertRegex(made, r"^orders_42_7-[0-9a-f]{10}\.json$")
        self.assertEqual(self.content("out", made), b'{"n": 1}')

    def test_the_same_outgoing_sent_twice_is_one_file_delivered_twice(self):
        self.make_folder("out")
        outgoing = self.outgoing("out", b'{"order": 42}', message_key="msg-42")
        first, again = self.transport.send(outgoing), self.transport.send(outgoing)
        self.assertEqual((first.outcome, again.outcome), (DELIVERED, DELIVERED), again.error)
        self.assertIn("already there", again.excerpt)
        self.assertEqual(self.listing("out"), ["msg-42.json"])
        self.assertEqual(self.content("out", "msg-42.json"), b'{"order": 42}')

    def test_same_name_with_other_content_is_refused_and_the_file_kept(self):
        self.make_folder("out")
        self.transport.send(self.outgoing("out", b"first", topic="daily.csv"))
        result = self.transport.send(self.outgoing("out", b"second", topic="daily.csv"))
        self.assertEqual(result.outcome, REFUSED)
        self.assertIn("a different file named daily.csv", result.error)
        self.assertEqual(self.listing("out"), ["daily.csv"])
        self.assertEqual(self.content("out", "daily.csv"), b"first")

    def test_a_topic_that_is_not_a_plain_file_name_is_refused(self):
        self.make_folder("out")
        for topic in ("../escape.csv", "sub/x.csv", ".hidden.csv"):
            result = self.transport.send(self.outgoing("out", b"x", topic=topic))
            self.assertEqual(result.outcome, REFUSED, topic)
        self.assertEqual(self.listing("out"), [])
        self.assertNotIn("escape.csv", os.listdir(self.root))

    def test_a_missing_folder_is_refused(self):
        result = self.transport.send(self.outgoing("nowhere", b"x", topic="a.csv"))
        self.assertEqual(result.outcome, REFUSED)
        self.assertIn("no such file", result.error.lower())

    def test_a_folder_without_write_permission_is_refused(self):
        self.make_folder("out", mode=0o555)
        outgoing = self.outgoing("out", b"x", topic="a.csv")
        result = self.unprivileged(lambda: self.transport.send(outgoing))
        self.assertEqual(result.outcome, REFUSED)
        self.assertIn("permission denied", result.error.lower())
        self.assertEqual(self.listing("out"), [])

    # Inbound

    def test_files_go_from_in_to_processed_or_to_error_with_the_reason(self):
        self.drop("b.csv", b"plant;qty\nA;1\n", age=30)
        self.drop("a.json", b'{"qty": 2}', age=60)
        for unfinished in (".a.json.x.part", "c.csv.part", "d.tmp", "e.csv.filepart"):
            self.drop(unfinished, b"half", age=90)
        os.mkdir(self.local("exchange", "in", "sub"))
        source = self.source()

        self.assertEqual(self.transport.list_ready(source), ["a.json", "b.csv"], "oldest first")
        self.assertEqual(self.listing("exchange"), ["error", "in", "processed", "work"])

        claim = self.transport.claim(source, "a.json")
        self.assertNotIn("a.json", self.listing("exchange", "in"))
        self.assertEqual(len(self.listing("exchange", "work")), 1)
        incoming = self.transport.read(source, claim)
        self.assertEqual(incoming.body, b'{"qty": 2}')
        self.assertEqual(incoming.name, "a.json")
        self.assertEqual(incoming.key, "a.json:sha256:" + hashlib.sha256(b'{"qty": 2}').hexdigest())
        self.assertEqual(incoming.content_type, "application/json")
        self.assertEqual(self.transport.settle(source, claim, True), "a.json")
        self.assertEqual(self.content("exchange", "processed", "a.json"), b'{"qty": 2}')

        claim = self.transport.claim(source, "b.csv")
        self.transport.settle(source, claim, False, "line 2: plant A is unknown")
        self.assertEqual(self.listing("exchange", "error"), ["b.csv", "b.csv.reason.txt"])
        self.assertEqual(self.content("exchange", "error", "b.csv.reason.txt"), b"line 2: plant A is unknown")
        self.assertEqual(self.listing("exchange", "work"), [])
        self.assertEqual(self.transport.list_ready(source), [])

    def test_a_file_dropped_again_is_recognised_and_both_copies_kept(self):
        source = self.source()
        keys = []
        for _copy in range(2):
            self.drop("stock.csv", b"A;1\n")
            claim = self.transport.claim(source, "stock.csv")
            keys.append(self.transport.read(source, claim).key)
            self.transport.settle(source, claim, True)
        self.assertEqual(keys[0], keys[1], "the same file has the same key: its documents are stored once")
        processed = self.listing("exchange", "processed")
        self.assertEqual(len(processed), 2, processed)
        self.assertIn("stock.csv", processed)
        self.assertTrue(all(self.content("exchange", "processed", name) == b"A;1\n" for name in processed))

        self.drop("stock.csv", b"A;2\n")
        claim = self.transport.claim(source, "stock.csv")
        self.assertNotEqual(self.transport.read(source, claim).key, keys[0], "other content, other key")

    def test_two_workers_claiming_a_file_at_once_one_wins(self):
        names = [f"file-{index:02}.csv" for index in range(20)]
        for name in names:
            self.drop(name, name.encode())
        source = self.source()
        self.transport.list_ready(source)  # the work folder exists before the race starts
        together = threading.Barrier(2, timeout=60)

        def worker(_index):
            won = []
            for name in names:
                together.wait()
                if self.transport.claim(source, name) is not None:
                    won.append(name)
            return won

        first, second = self.in_threads(2, worker)
        self.assertEqual(sorted(first + second), names, "every file is taken once, by one worker")
        self.assertEqual(self.listing("exchange", "in"), [])
        self.assertEqual(len(self.listing("exchange", "work")), len(names))

    def test_two_workers_draining_the_folder_take_every_file_once(self):
        names = [f"order-{index:02}.json" for index in range(40)]
        for age, name in enumerate(reversed(names)):
            self.drop(name, f'{{"order": "{name}"}}'.encode(), age=age)
        source = self.source()

        def worker(_index):
            taken = []
            for name in self.transport.list_ready(source):
                claim = self.transport.claim(source, name)
                if claim is None:
                    continue
                self.assertEqual(self.transport.read(source, claim).body, f'{{"order": "{name}"}}'.encode())
                self.transport.settle(source, claim, True)
                taken.append(name)
            return taken

        first, second = self.in_threads(2, worker)
        self.assertEqual(sorted(first + second), names)
        self.assertEqual(self.listing("exchange", "processed"), names)
        self.assertEqual(self.listing("exchange", "work"), [])

    def test_recover_gives_abandoned_claims_back_to_in(self):
        self.drop("a.csv", b"a")
        self.drop("b.csv", b"b")
        source = self.source()
        for name in ("a.csv", "b.csv"):
            self.assertIsNotNone(self.transport.claim(source, name))
        with open(self.local("exchange", "work", "notes.txt"), "wb") as stranger:
            stranger.write(b"not a claim")

        self.assertEqual(self.transport.recover(source, 3600), [], "a claim of a minute ago is not stale")
        self.assertEqual(sorted(self.transport.recover(source, 0)), ["a.csv", "b.csv"])
        self.assertEqual(self.transport.list_ready(source), ["a.csv", "b.csv"])
        self.assertEqual(self.listing("exchange", "work"), ["notes.txt"])

    def test_recover_does_not_overwrite_a_file_dropped_again(self):
        self.drop("a.csv", b"old")
        source = self.source()
        self.transport.claim(source, "a.csv")
        self.drop("a.csv", b"new")
        self.assertEqual(self.transport.recover(source, 0), [], "the abandoned one waits in work/")
        self.assertEqual(self.content("exchange", "in", "a.csv"), b"new")

        fresh = self.transport.claim(source, "a.csv")
        self.assertEqual(self.transport.read(source, fresh).body, b"new")
        self.transport.settle(source, fresh, True)
        self.assertEqual(self.transport.recover(source, 0), ["a.csv"])
        self.assertEqual(self.content("exchange", "in", "a.csv"), b"old")

    def test_a_settle_that_fails_leaves_the_file_claimed_for_recover(self):
        self.drop("a.csv", b"a")
        source = self.source()
        claim = self.transport.claim(source, "a.csv")
        os.chmod(self.local("exchange", "work"), 0o777)
        os.chmod(self.local("exchange", "processed"), 0o555)
        with self.assertRaises(TransportError) as caught:
            self.unprivileged(lambda: self.transport.settle(source, claim, True))
        self.assertIn("permission denied", str(caught.exception).lower())
        self.assertEqual(self.listing("exchange", "processed"), [])
        self.assertEqual(self.listing("exchange", "work"), [claim.work_name])

        os.chmod(self.local("exchange", "processed"), 0o755)
        self.assertEqual(self.transport.recover(source, 0), ["a.csv"])
        self.assertEqual(self.content("exchange", "in", "a.csv"), b"a")

    def test_a_claim_that_may_not_move_the_file_raises_and_keeps_it(self):
        self.drop("a.csv", b"a")
        source = self.source()
        self.transport.list_ready(source)
        os.chmod(self.local("exchange", "work"), 0o777)
        os.chmod(self.local("exchange", "in"), 0o555)
        with self.assertRaises(TransportError) as caught:
            self.unprivileged(lambda: self.transport.claim(source, "a.csv"))
        self.assertIn("permission denied", str(caught.exception).lower())
        self.assertEqual(self.listing("exchange", "in"), ["a.csv"])
        self.assertEqual(self.listing("exchange", "work"), [])

    def test_a_folder_without_in_is_said_in_words(self):
        self.make_folder("empty")
        with self.assertRaisesRegex(TransportError, "no in/ sub-folder"):
            self.transport.list_ready(self.source("empty"))
        with self.assertRaisesRegex(TransportError, "(?i)no such file"):
            self.transport.list_ready(self.source("missing"))


@tagged("post_install", "-at_install")
class TestLocalFolderTransport(FolderTransportCases, BaseCase):
    transport = folder_transport

    def url_of(self, relative):
        return "file://" + self.local(relative)

    def unprivileged(self, function):
        """As root, in a child process that became ``nobody``: permissions do not stop root."""
        if os.geteuid() != 0:
            return function()
        return _call_as_nobody(function)

    def test_file_urls_name_a_folder_on_this_machine(self):
        self.make_folder("out")
        body = b"x"
        localhost = folder_transport.send(
            Outgoing(target="file://localhost" + self.local("out"), body=body, message_key="a", topic="a.txt")
        )
        self.assertEqual(localhost.outcome, DELIVERED, localhost.error)
        for target, words in (
            ("file://plant-a/srv/out", "must be on this machine"),
            ("file:relative/out", "no absolute path"),
        ):
            result = folder_transport.send(Outgoing(target=target, body=body, message_key="a"))
            self.assertEqual(result.outcome, REFUSED, target)
            self.assertIn(words, result.error)


@tagged("post_install", "-at_install")
class TestSftpFolderTransport(FolderTransportCases, BaseCase):
    transport = sftp_transport

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # paramiko's thread logs the trouble these tests provoke; the transport says it in its result.
        ssh_log = logging.getLogger(sftp_transport.LOG_CHANNEL)
        cls.addClassCleanup(ssh_log.setLevel, ssh_log.level)
        ssh_log.setLevel(logging.CRITICAL)

    def setUp(self):
        super().setUp()
        self.server = self.start_server()
        self.addCleanup(sftp_transport.close_connections)

    def start_server(self, host_key=None):
        server = SftpServer(self.root, users={"plant": PASSWORD}, host_key=host_key).__enter__()
        self.addCleanup(server.stop)
        return server

    def url_of(self, relative):
        return f"{self.server.url}/{relative}"

    def secrets(self):
        return {"password": PASSWORD}

    def options(self):
        return {"host_key": self.server.host_key_b64}

    def thread_done(self):
        sftp_transport.close_connections()

    def test_the_server_going_down_between_claim_and_settle_loses_nothing(self):
        self.drop("a.csv", b"a")
        self.drop("b.csv", b"b")
        source = self.source()
        claims = [self.transport.claim(source, name) for name in ("a.csv", "b.csv")]
        self.server.stop()

        with self.assertRaisesRegex(TransportError, "cannot reach|connection failed") as caught:
            self.transport.settle(source, claims[0], True)
        self.assertNotIn(PASSWORD, str(caught.exception))
        self.assertEqual(self.transport.send(self.outgoing("exchange", b"x", topic="x.csv")).outcome, RETRY)
        self.assertEqual(sorted(self.listing("exchange", "work")), sorted(c.work_name for c in claims))

        # Up again (another port, same host key): the living worker settles, the dead one's file is recovered.
        self.server = self.start_server(host_key=self.server.host_key)
        source = self.source()
        self.assertEqual(self.transport.settle(source, claims[0], True), "a.csv")
        self.assertEqual(self.transport.recover(source, 0), ["b.csv"])
        self.assertEqual(self.transport.list_ready(source), ["b.csv"])
        self.assertEqual(self.listing("exchange", "processed"), ["a.csv"])

    def test_a_refused_login_is_refused_in_words_without_the_password(self):
        self.make_folder("out")
        self.drop("a.csv", b"a")
        wrong = "not-the-password-91c2"
        outgoing = self.outgoing("out", b"x", topic="x.csv", secrets={"password": wrong})
        result = self.transport.send(outgoing)
        self.assertEqual(result.outcome, REFUSED)
        self.assertIn("refused the login of plant", result.error)
        self.assertNotIn(wrong, result.error)
        source = self.source()
        source.secrets = {"password": wrong}
        with self.assertRaisesRegex(TransportError, "refused the login") as caught:
            self.transport.list_ready(source)
        self.assertNotIn(wrong, str(caught.exception))
        self.assertEqual(self.listing("out"), [])
        self.assertEqual(self.listing("exchange", "in"), ["a.csv"])
        self.assertEqual(self.server.logins, [])

    def test_a_private_key_logs_in(self):
        self.make_folder("out")
        for kind in (paramiko.ECDSAKey, paramiko.RSAKey):
            key = kind.generate(bits=2048) if kind is paramiko.RSAKey else kind.generate()
            pem = io.StringIO()
            key.write_private_key(pem)
            self.server.authorized_keys["plant"] = [key]
            secrets = {"private_key": pem.getvalue()}
            outgoing = self.outgoing("out", b"x", topic=f"{kind.__name__}.txt", secrets=secrets)
            result = self.transport.send(outgoing)
            self.assertEqual(result.outcome, DELIVERED, result.error)
        self.assertEqual(self.server.logins, [("plant", "publickey")] * 2)

        stranger = io.StringIO()
        paramiko.ECDSAKey.generate().write_private_key(stranger)
        outgoing = self.outgoing("out", b"y", topic="y.txt")
        outgoing.secrets = {"private_key": stranger.getvalue()}
        self.assertEqual(self.transport.send(outgoing).outcome, REFUSED)
        outgoing.secrets = {"private_key": "-----BEGIN NONSENSE-----"}
        result = self.transport.send(outgoing)
        self.assertEqual(result.outcome, REFUSED)
        self.assertIn("private key cannot be read", result.error)

    def test_another_host_key_is_refused_before_any_password_is_sent(self):
        self.make_folder("out")
        self.drop("a.csv", b"a")
        impostor = paramiko.ECDSAKey.generate().get_base64()
        outgoing = self.outgoing("out", b"x", topic="x.csv", options={"host_key": impostor})
        result = self.transport.send(outgoing)
        self.assertEqual(result.outcome, REFUSED)
        self.assertIn("not the pinned one", result.error)
        self.assertIn(self.server.host_key.fingerprint, result.error)
        source = self.source()
        source.options = {"host_key": impostor}
        with self.assertRaisesRegex(TransportError, "not the pinned one"):
            self.transport.list_ready(source)
        self.assertEqual(self.server.attempts, [], "no login was tried with a server we do not know")
        self.assertEqual(self.listing("out"), [])
        self.assertEqual(self.listing("exchange", "in"), ["a.csv"])

    def test_an_unpinned_host_key_is_refused_unless_trusted(self):
        self.make_folder("out")
        unpinned = self.transport.send(self.outgoing("out", b"x", topic="x.csv", options={}))
        self.assertEqual(unpinned.outcome, REFUSED)
        self.assertIn("not pinned", unpinned.error)
        self.assertIn("SHA256:", unpinned.error)
        trusted = self.transport.send(
            self.outgoing("out", b"x", topic="x.csv", options={"trust_unknown_host": True})
        )
        self.assertEqual(trusted.outcome, DELIVERED, trusted.error)
        known_hosts_line = (
            f"[127.0.0.1]:{self.server.port} {self.server.host_key.get_name()} {self.server.host_key_b64}"
        )
        pinned = self.transport.send(
            self.outgoing("out", b"x", topic="x.csv", options={"host_key": known_hosts_line})
        )
        self.assertEqual(pinned.outcome, DELIVERED, pinned.error)

    def test_a_server_that_is_not_there_or_silent_is_retried(self):
        with socket.create_server(("127.0.0.1", 0)) as closed:
            free_port = closed.getsockname()[1]
        with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never says a word
            for port, words in ((free_port, "cannot reach"), (silent.getsockname()[1], "no SFTP session")):
                target = f"sftp://plant@127.0.0.1:{port}/out"
                started = time.monotonic()
                result = self.transport.send(
                    Outgoing(
                        target=target, body=b"x", message_key="a", secrets=self.secrets(), connect_timeout=0.5
                    )
                )
                self.assertEqual(result.outcome, RETRY, result.error)
                self.assertIn(words, result.error)
                self.assertLess(time.monotonic() - started, 5)
                with self.assertRaisesRegex(TransportError, words):
                    self.transport.list_ready(Source(url=target, secrets=self.secrets(), connect_timeout=0.5))

    def test_a_thread_keeps_one_connection(self):
        self.make_folder("out")
        self.drop("a.csv", b"a")
        for index in range(3):
            self.transport.send(self.outgoing("out", b"x", topic=f"{index}.csv"))
        self.transport.list_ready(self.source())
        self.assertEqual(self.server.logins, [("plant", "password")])


def _call_as_nobody(function):
    """``function()`` in a forked child that dropped to the ``nobody`` user; its result or its error."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's lines are seen through the pipe
        os.close(reader)
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            outcome = ("result", function())
        except Exception as error:
            outcome = ("error", error)
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(pickle.dumps(outcome))
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        kind, value = pickle.loads(pipe.read())
    os.waitpid(child, 0)
    if kind == "error":
        raise value
    return value


def _remove_tree(path):
    for folder, _subfolders, _files in os.walk(path):
        os.chmod(folder, os.stat(folder).st_mode | stat.S_IRWXU)
    shutil.rmtree(path)
