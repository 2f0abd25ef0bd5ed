# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import os
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.service.model import call_kw
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.integration_base.lib import log_redaction
from odoo.addons.integration_base.lib.secret_box import (
    MASTER_KEYS_VARIABLE,
    generate_key,
    read_config_section,
)

from .common import IntegrationCase

PLAINTEXT = "whsec-plant-a-very-secret-value"


@tagged("post_install", "-at_install")
class TestIntegrationCredential(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._create_backend("cred-a", system_type="mes", plant=cls.plant_a)
        cls.credential = cls.env["integration.credential"].create(
            {"backend_id": cls.backend.id, "kind": "hmac", "secret": PLAINTEXT}
        )

    def _column(self, name):
        self.env.flush_all()
        self.env.cr.execute(f"SELECT {name} FROM integration_credential WHERE id = %s", [self.credential.id])
        return self.env.cr.fetchone()[0]

    def test_database_holds_only_ciphertext(self):
        stored = self._column("secret_ciphertext")
        self.assertTrue(stored)
        self.assertNotIn(PLAINTEXT, stored)
        self.assertTrue(self.credential.has_secret)
        self.assertEqual(self.credential._get_secret(), PLAINTEXT)

    def test_read_never_returns_the_secret(self):
        ciphertext = self._column("secret_ciphertext")
        values = self.credential.read()[0]
        self.assertFalse(values["secret"])
        self.assertNotIn("secret_ciphertext", values)
        for value in values.values():
            self.assertNotIn(str(value), (PLAINTEXT, ciphertext))
        exported = self.credential.export_data(["secret", "kind"])["datas"]
        self.assertEqual(exported, [["", "HMAC signing key"]])
        # The plaintext is not in the chatter either.
        self.assertNotIn(PLAINTEXT, "".join(self.credential.message_ids.mapped("body")))

    def test_saving_a_secret_never_answers_it(self):
        """The form's save answers with the record as it now is: the new secret is not in it."""
        new_secret = "whsec_" + "c2F2ZWQtYnktdGhlLWZvcm0tb2YtYS1tYW5hZ2Vy"
        spec = {"secret": {}, "has_secret": {}, "kind": {}}
        [saved] = self.credential.web_save({"secret": new_secret}, spec)
        self.assertEqual((saved["secret"], saved["has_secret"]), (False, True))
        self.assertEqual(self.credential.export_data(["secret"])["datas"], [[""]])
        [created] = self.env["integration.credential"].web_save(
            {"backend_id": self.backend.id, "kind": "token", "secret": new_secret}, spec
        )
        self.assertFalse(created["secret"])
        [backend] = self.backend.web_save(
            {"credential_ids": [[1, self.credential.id, {"secret": new_secret + "2"}]]},
            {"credential_ids": {"fields": spec}},
        )
        self.assertTrue(backend["credential_ids"])
        for credential in backend["credential_ids"]:
            self.assertFalse(credential["secret"])
        self.assertEqual(self.credential._get_secret(), new_secret + "2")

    def test_secrets_typed_into_a_form_stay_out_of_the_debug_log(self):
        """At debug_rpc Odoo logs each call with its arguments: a secret's are hidden."""
        new_secret = "whsec_" + "dHlwZWQtaW50by1hLWZvcm0tYXQtZGVidWctbGV2ZWw="
        with self.assertLogs("odoo.service.model", level="DEBUG") as logged:
            call_kw(
                self.env["integration.credential"],
                "web_save",
                [[self.credential.id], {"secret": new_secret}],
                {"specification": {"kind": {}}},
            )
            call_kw(
                self.backend,
                "web_save",
                [[self.backend.id], {"credential_ids": [[1, self.credential.id, {"secret": new_secret}]]}],
                {"specification": {}},
            )
            call_kw(self.backend, "read", [[self.backend.id], ["code"]], {})
        output = "\n".join(logged.output)
        self.assertNotIn(new_secret, output)
        self.assertEqual(output.count(log_redaction.HIDDEN), 2, output)
        self.assertIn("read(", output, "calls without a secret are logged as Odoo logs them")
        self.assertEqual(self.credential._get_secret(), new_secret)

    def test_only_managers_see_credentials(self):
        with self.assertRaises(AccessError):
            self.credential.with_user(self.integration_user).read(["kind"])
        self.assertEqual(self.credential.with_user(self.integration_manager).kind, "hmac")

    def test_rotation_keeps_the_previous_secret_during_the_overlap(self):
        start = fields.Datetime.now()
        with freeze_time(start):
            self.credential.write({"overlap_hours": 2, "secret": "new-secret"})
        self.assertEqual(self.credential.previous_valid_until, start + timedelta(hours=2))
        with freeze_time(start + timedelta(hours=1)):
            self.assertEqual(self.credential._get_valid_secrets(), ["new-secret", PLAINTEXT])
        with freeze_time(start + timedelta(hours=2, seconds=1)):
            self.assertEqual(self.credential._get_valid_secrets(), ["new-secret"])
        self.assertEqual(self.credential._get_secret(), "new-secret")

    def test_master_key_rotation(self):
        old_key = os.environ.get(MASTER_KEYS_VARIABLE) or self._configured_keys()
        new_key = generate_key()
        with patch.dict(os.environ, {MASTER_KEYS_VARIABLE: f"{new_key},{old_key}"}):
            self.assertEqual(self.env["integration.credential"]._reencrypt_all(), 1)
        with patch.dict(os.environ, {MASTER_KEYS_VARIABLE: new_key}):
            self.assertEqual(self.credential._get_secret(), PLAINTEXT)
        with patch.dict(os.environ, {MASTER_KEYS_VARIABLE: old_key}):
            with self.assertRaisesRegex(UserError, "cannot be decrypted"):
                self.credential._get_secret()

    def test_clear_error_without_master_key(self):
        with (
            patch.dict(os.environ, {MASTER_KEYS_VARIABLE: ""}),
            patch(
                "odoo.addons.integration_base.models.integration_credential.integration_config",
                return_value={},
            ),
            self.assertRaisesRegex(UserError, "No master key is configured"),
        ):
            self.credential._get_secret()

    def _configured_keys(self):
        return read_config_section(config.get("config"))["master_keys"]
