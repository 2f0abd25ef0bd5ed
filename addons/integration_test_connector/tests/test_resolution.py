# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.models.integration_message import engine

from .common import EngineCase


@tagged("post_install", "-at_install")
class TestResolution(EngineCase):
    """A functional user fixes an exception where it shows, in words they understand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.operator = new_test_user(
            cls.env, login="resolver", groups="integration_base.group_integration_operator"
        )
        cls.netherlands = cls.env.ref("base.nl")

    def _parked(self, ref, **payload):
        message, _created = self._ingest({"ref": ref, "name": f"Partner {ref}", **payload})
        self._drain()
        self.assertEqual(message.state, "exception", message.error_message)
        return message

    def test_a_missing_code_is_told_in_words_and_not_offered_for_retry(self):
        message = self._parked("W1", country="ZZ-NL").with_user(self.operator)
        self.assertEqual(message.missing_label, "test-a Country code 'ZZ-NL' stands for no Country in Odoo")
        self.assertFalse(message.can_retry)
        self.assertIn("Create the missing mapping", message.retry_advice)
        with self.assertRaisesRegex(UserError, "Create the missing mapping"):
            message.action_retry()
        self.assertEqual(message.state, "exception", "a retry that would fail the same way is not made")

    def test_codes_waiting_are_listed_once_and_mapped_in_bulk(self):
        first = self._parked("B1", country="ZZ-NL")
        second = self._parked("B2", country="ZZ-NL")
        other = self._parked("B3", country="ZZ-BE")
        report = self.env["integration.missing.mapping"].with_user(self.operator)
        lines = report.search([("backend_id", "=", self.backend.id)])
        self.assertEqual(
            sorted(lines.mapped(lambda line: (line.missing_code, line.message_count))),
            [("ZZ-BE", 1), ("ZZ-NL", 2)],
        )
        action = lines.action_create_mapping()
        wizard = self.env["integration.mapping.wizard"].with_user(self.operator).browse(action["res_id"])
        self.assertEqual(len(wizard.line_ids), 2, "one line per code, not per message")
        with self.assertRaisesRegex(UserError, "Say what each code stands for"):
            wizard.action_create_mappings()
        targets = {"ZZ-NL": self.netherlands, "ZZ-BE": self.env.ref("base.be")}
        for line in wizard.line_ids:
            self.assertEqual(
                (line.kind, line.res_model, line.external_code), ("record", "res.country", line.missing_code)
            )
            line.res_id = targets[line.missing_code].id
        result = wizard.action_create_mappings()
        self.assertEqual(result["params"]["title"], "2 mapping(s) created")
        self.assertEqual((first | second | other).mapped("state"), ["queued"] * 3, "retried by themselves")
        self.assertEqual(
            second.audit_ids.sorted("id")[-1:].note,
            f"Retried by itself: {self.operator.name} created the mapping for ZZ-NL.",
            "who made the mapping is in the message's history",
        )
        self.assertFalse(report.search([("backend_id", "=", self.backend.id)]), "nothing waits any more")
        mapping = self.env["integration.mapping"].search([("external_code", "=", "ZZ-NL")])
        self.assertEqual((mapping.backend_id, mapping.record_ref), (self.backend, self.netherlands))
        self._drain()
        self.assertEqual(self._partners("B2").country_id, self.netherlands)

    def test_the_mapping_of_another_backend_is_offered_and_the_scope_chosen(self):
        other_backend = self._create_backend("test-b", plant=self.plant_a)
        self.env["integration.mapping"].create(
            {"backend_id": other_backend.id, "external_code": "ZZ-NL", "record_ref": self.netherlands}
        )
        message = self._parked("S1", country="ZZ-NL")
        action = message.with_user(self.operator).action_create_mapping()
        wizard = self.env["integration.mapping.wizard"].with_user(self.operator).browse(action["res_id"])
        self.assertEqual(wizard.line_ids.res_id, self.netherlands.id, "the other backend's answer")
        wizard.line_ids.scope = "plant"
        wizard.action_create_mappings()
        mapping = self.env["integration.mapping"].search(
            [("external_code", "=", "ZZ-NL"), ("backend_id", "=", False)]
        )
        self.assertEqual(mapping.warehouse_id, self.plant_a)
        self.assertEqual(message.state, "queued")

    def test_a_record_without_a_code_gets_one_from_its_outbound_message(self):
        partner = self.env["res.partner"].create({"name": "Uncoded"})
        message = engine(self.Message).create(
            {
                "backend_id": self.backend.id,
                "flow_id": self.flow.id,
                "flow_code": self.flow.code,
                "direction": "outbound",
                "payload": "{}",
                "idempotency_key": "uncoded-1",
                "state": "exception",
                "error_kind": "business",
                "missing_kind": "mapping",
                "missing_model": "res.partner",
                "missing_code": f"res.partner,{partner.id}",
            }
        )
        self.assertEqual(message.missing_label, "Uncoded (Contact) has no code at test-a")
        self.assertEqual(message.action_open_record()["res_id"], partner.id)
        action = message.with_user(self.operator).action_create_mapping()
        line = (
            self.env["integration.mapping.wizard"].with_user(self.operator).browse(action["res_id"]).line_ids
        )
        self.assertEqual((line.res_id, line.external_code), (partner.id, False), "the code is to be given")
        line.external_code = "P-0042"
        line.wizard_id.action_create_mappings()
        self.assertEqual(self.env["integration.mapping"]._external_code(self.backend, partner), "P-0042")
        self.assertEqual(message.state, "queued")

    def test_a_definitive_refusal_offers_no_retry_until_the_payload_is_corrected(self):
        message = self._parked("D1", simulate="closed").with_user(self.operator)
        self.assertTrue(message.error_definitive)
        self.assertEqual(
            (message.can_retry, message.retry_advice),
            (False, "Retrying would fail the same way: correct the payload, or cancel the message."),
        )
        self.assertFalse(message.payload_diff)
        message.payload_text = json.dumps({"ref": "D1", "name": "Partner D1"})
        self.assertTrue(message.can_retry, "a corrected payload may pass")
        self.assertEqual(
            message.payload_diff.splitlines()[:3], ["--- as stored", "+++ as corrected", "@@ -1,5 +1,4 @@"]
        )
        self.assertIn('-  "simulate": "closed"', message.payload_diff)
        message.action_retry()
        self._drain()
        self.assertEqual((message.state, message.error_definitive), ("done", False))

    def test_bulk_retry_retries_what_can_pass_and_says_why_not_the_rest(self):
        retryable = self._parked("R1", name="!Bang")
        waiting = self._parked("R2", country="ZZ-XX")
        result = (retryable | waiting).with_user(self.operator).action_retry()
        self.assertEqual((retryable.state, waiting.state), ("queued", "exception"))
        self.assertEqual(result["params"]["title"], "1 retried, 1 left waiting")
        self.assertIn("Create the missing mapping", result["params"]["message"])

    def test_cancel_asks_for_a_reason_and_keeps_it(self):
        message = self._parked("C1", name="!Gone")
        wizard_form = Form(
            self.env["integration.message.cancel.wizard"]
            .with_user(self.operator)
            .with_context(active_model="integration.message", active_ids=message.ids)
        )
        self.assertEqual(wizard_form.message_count, 1)
        wizard_form.reason = "Sent twice by the plant"
        wizard_form.save().action_cancel_messages()
        self.assertEqual(message.state, "cancelled")
        self.assertEqual(
            message.audit_ids[0].note, f"Cancelled by {self.operator.name}: Sent twice by the plant"
        )
        self.assertIn(f"cancelled by {self.operator.name}: Sent twice by the plant", message.transition_log)

    def test_a_database_refusal_is_told_in_words_and_its_detail_kept_for_managers(self):
        message = self._parked("K1", simulate="nameless_contact")
        self.assertEqual(message.error_message, "Odoo refused the Contact: Contacts require a name")
        self.assertIn("CheckViolation", message.sudo().error_detail)
        as_operator = message.with_user(self.operator)
        fields = as_operator.fields_get()
        self.assertNotIn("error_detail", fields, "the technical detail is for managers only")
        self.assertIn("error_detail", message.with_user(self.integration_manager).fields_get())

    def test_a_deleted_record_is_told_in_words(self):
        message = self._parked("V1", simulate="vanished_country")
        self.assertEqual(message.error_kind, "business")
        self.assertIn("A record this message refers to does not exist", message.error_message)
        self.assertIn("MissingError", message.sudo().error_detail)

    def test_each_kind_of_database_refusal_has_its_sentence(self):
        dispatcher = self.env["integration.dispatcher"]
        cases = {
            "INSERT INTO integration_mapping (kind, company_id) VALUES ('record', %s)": (
                "Integration Mapping: External Code is required, and the message did not give it."
            ),
            "INSERT INTO integration_mapping (kind, company_id, external_code) VALUES ('record', -1, 'X')": (
                "Integration Mapping: Company refers to a record that does not exist any more, or the "
                "record is still used by others."
            ),
            "INSERT INTO integration_mapping (kind, company_id, external_code, value_set, value) "
            "SELECT kind, company_id, external_code, value_set, value FROM integration_mapping "
            "WHERE company_id = %s AND external_code = 'DUP'": (
                "Odoo refused the Integration Mapping: This external code is already mapped in this scope."
            ),
        }
        self.env["integration.mapping"].create(
            {"external_code": "DUP", "kind": "value", "value_set": "s", "value": "v"}
        )
        for statement, sentence in cases.items():
            with self.subTest(statement=statement), mute_logger("odoo.sql_db"):
                with self.assertRaises(IntegrityError) as caught, self.env.cr.savepoint():
                    self.env.cr.execute(statement, [self.env.company.id] if "%s" in statement else [])
                self.assertEqual(dispatcher._integrity_reason(self.env, caught.exception), sentence)
