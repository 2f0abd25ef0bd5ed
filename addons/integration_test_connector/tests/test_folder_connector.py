# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Folders as transports through the engine: files taken from in/, stored, settled; messages written out."""

import json
import os
import tempfile
from pathlib import Path

import paramiko

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.lib.transports import sftp
from odoo.addons.integration_base.tests.sftp_server import SftpServer

from .common import EngineCase

FETCHER_LOGGER = "odoo.addons.integration_base.models.integration_fetcher"


@tagged("post_install", "-at_install")
class TestFolderConnector(EngineCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = Path(tempfile.mkdtemp(prefix="integration-folder-"))
        cls.addClassCleanup(lambda: os.system(f"rm -rf {cls.root}"))
        cls.backend.action_add_contracts()
        cls.contacts = cls.backend.flow_ids.filtered(lambda f: f.code == "test.contact")
        cls.contacts.write(
            {
                "data_format": "csv",
                "format_options": json.dumps({"split": True}),
                "source_url": f"file://{cls.root}/inbox",
            }
        )
        cls.contacts.action_activate()

    def _drop(self, name, text):
        inbox = self.root / "inbox" / "in"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_text(text)

    def _contacts(self):
        return self.Message.search([("flow_id", "=", self.contacts.id)], order="id")

    @mute_logger(FETCHER_LOGGER)
    def test_each_row_of_a_file_is_a_message_and_the_file_is_settled(self):
        self._drop("contacts-1.csv", "id,name,email\r\nC-1,Ann,ann@example.com\r\nC-2,Bob,\r\n")
        self._drop("contacts-2.csv", "id,name\nC-3,\nC-4,Dee\n")
        self.assertEqual(
            self.env["integration.fetcher"]._fetch(self.contacts.id), "2 file(s), 4 new message(s)"
        )
        messages = self._contacts()
        self.assertEqual(len(messages), 4)
        self.assertTrue(messages[0].idempotency_key.startswith("contacts-1.csv:sha256:"))
        refused = messages.filtered(lambda m: m.state == "exception")
        self.assertEqual(len(refused), 1, "the row without a name waits for a person")
        self.assertIn("breaks its contract", refused.error_message)
        self.assertEqual(
            sorted(p.name for p in (self.root / "inbox" / "processed").iterdir()), ["contacts-1.csv"]
        )
        error = self.root / "inbox" / "error"
        self.assertTrue((error / "contacts-2.csv").exists())
        self.assertIn("breaks", next(error.glob("contacts-2.csv*reason*")).read_text())
        first_file = messages[:2].raw_attachment_id
        self.assertEqual(len(first_file), 1, "the rows of one file share the file as it came")
        self.assertEqual(first_file.raw.decode(), "id,name,email\r\nC-1,Ann,ann@example.com\r\nC-2,Bob,\r\n")
        self._dispatch(self.backend)
        ann = self.env["integration.binding"]._find_bound(self.backend, "res.partner", "C-1")
        self.assertEqual((ann.name, ann.email), ("Ann", "ann@example.com"))

    @mute_logger(FETCHER_LOGGER)
    def test_the_same_file_dropped_again_stores_nothing_twice(self):
        self._drop("again.csv", "id,name\nC-9,Zed\n")
        self.env["integration.fetcher"]._fetch(self.contacts.id)
        self._drop("again.csv", "id,name\nC-9,Zed\n")
        self.assertEqual(
            self.env["integration.fetcher"]._fetch(self.contacts.id), "1 file(s), 0 new message(s)"
        )
        self.assertEqual(len(self._contacts()), 1)

    @mute_logger(FETCHER_LOGGER)
    def test_a_file_that_is_not_csv_waits_whole_for_a_person(self):
        self._drop("broken.csv", 'id,name\n"C-1,Ann\n')
        self.env["integration.fetcher"]._fetch(self.contacts.id)
        message = self._contacts()
        self.assertEqual(message.state, "exception")
        self.assertIn("cannot be read", message.error_message)
        self.assertIn('"C-1,Ann', json.loads(message.payload)["refused_input"], "what came is kept whole")

    def test_outbound_messages_are_written_to_the_folder(self):
        out = self._create_flow(self.backend, direction="outbound", envelope="none", topic="{flow}-{id}.json")
        self.backend.outbound_url = f"file://{self.root}/outbox"
        (self.root / "outbox").mkdir()  # a folder that is not there is refused: a person must look
        message, _created = self.Message._ingest(
            self.backend, "test.partner", {"ref": "F-1", "name": "Filed"}, direction="outbound", flow=out
        )
        self._dispatch(self.backend)
        self.assertEqual(message.state, "done")
        written = self.root / "outbox" / f"test.partner-{message.idempotency_key}.json"
        self.assertEqual(json.loads(written.read_text()), {"name": "Filed", "ref": "F-1"})
        self.assertEqual(message.delivery_attempt_ids.outcome, "delivered")


@tagged("post_install", "-at_install")
class TestSftpConnector(EngineCase):
    """A partner's SFTP folder, fetched by the engine with the backend's password and pinned host key."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = Path(tempfile.mkdtemp(prefix="integration-sftp-"))
        cls.addClassCleanup(lambda: os.system(f"rm -rf {cls.root}"))
        cls.server = cls.enterClassContext(SftpServer(str(cls.root), users={"partner": "sftp-secret"}))
        cls.env["integration.credential"].create(
            {"backend_id": cls.backend.id, "kind": "password", "secret": "sftp-secret"}
        )
        cls.backend.action_add_contracts()
        cls.contacts = cls.backend.flow_ids.filtered(lambda f: f.code == "test.contact")
        cls.contacts.write(
            {
                "data_format": "csv",
                "format_options": json.dumps({"split": True}),
                "transport_options": json.dumps({"host_key": cls.server.host_key_b64}),
            }
        )
        cls.contacts.action_activate()

    def setUp(self):
        super().setUp()
        self.addCleanup(sftp.close_connections)
        # a folder of each test's own at the partner
        self.drop = self.root / self._testMethodName
        (self.drop / "in").mkdir(parents=True)
        self.contacts.source_url = self.server.url_for("partner", f"/{self._testMethodName}")

    def test_files_are_fetched_over_sftp_and_settled_there(self):
        (self.drop / "in" / "c.csv").write_text("id,name\nS-1,Sam\n")
        self.assertEqual(
            self.env["integration.fetcher"]._fetch(self.contacts.id), "1 file(s), 1 new message(s)"
        )
        self.assertTrue((self.drop / "processed" / "c.csv").exists())
        self._dispatch(self.backend)
        self.assertEqual(
            self.env["integration.binding"]._find_bound(self.backend, "res.partner", "S-1").name, "Sam"
        )

    @mute_logger(FETCHER_LOGGER)
    def test_an_unknown_host_key_is_refused_and_nothing_is_taken(self):
        (self.drop / "in" / "d.csv").write_text("id,name\nS-2,Sue\n")
        self.contacts.transport_options = json.dumps({"host_key": paramiko.ECDSAKey.generate().get_base64()})
        self.assertIn("fetch failed", self.env["integration.fetcher"]._fetch(self.contacts.id))
        self.assertIn("host key", self.contacts.last_fetch_error)
        self.assertTrue((self.drop / "in" / "d.csv").exists(), "the file waits for a trusted fetch")
