# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Partners and transfers show their integration messages, and warn while one waits for someone."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import RecordStateCase

ENGINE_LOGGER = "odoo.addons.integration_base.models.integration_message"


@tagged("post_install", "-at_install")
class TestRecordState(RecordStateCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Acme"})
        cls.picking = cls.env["stock.picking"].create({"picking_type_id": cls.plant_a.in_type_id.id})
        cls.stock_user = new_test_user(cls.env, login="storekeeper", groups="stock.group_stock_user")
        cls.stock_follower = new_test_user(
            cls.env,
            login="stock_follower",
            groups="stock.group_stock_user,integration_base.group_integration_user",
        )

    @mute_logger(ENGINE_LOGGER)
    def test_smart_button_counts_and_opens_the_records_messages(self):
        message = self._park(self.partner)
        self._park(self.picking)
        other = self.env["res.partner"].create({"name": "Quiet"})
        partners = self.partner | other
        partners.invalidate_recordset()
        self.assertEqual(partners.mapped("integration_message_count"), [1, 0])
        self.assertEqual(self._messages_of_action(self.partner.action_open_integration_messages()), message)
        self.assertFalse(self._messages_of_action(other.action_open_integration_messages()))
        self.assertEqual(self._messages_of_action(self.partner.action_open_integration_attention()), message)

    @mute_logger(ENGINE_LOGGER)
    def test_one_grouped_query_for_the_whole_recordset(self):
        partners = self.env["res.partner"].create([{"name": f"P{index}"} for index in range(6)])
        for partner in partners:
            self._park(partner)

        def queries(records):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            records.mapped("integration_attention_reason")
            return self.env.cr.sql_log_count - before

        self.assertEqual(queries(partners), queries(partners[:1]))
        self.assertEqual(partners.mapped("integration_attention_count"), [1] * 6)

    @mute_logger(ENGINE_LOGGER)
    def test_warning_for_a_message_in_exception(self):
        self.assertIntegrationState(self.picking, 0, 0)
        self.assertFalse(self.picking.integration_attention_reason)
        message = self._park(self.picking)
        self.assertEqual(message.state, "exception")
        self.assertIntegrationState(self.picking, 1, 1, reason="waits for someone")
        self.assertIn(message.error_message, self.picking.integration_attention_reason)
        self.assertIn("Record to records", self.picking.integration_attention_reason)
        message.action_cancel()
        self.assertIntegrationState(self.picking, 1, 0)

    @mute_logger(ENGINE_LOGGER, "odoo.addons.integration_base.models.integration_dispatcher")
    def test_one_note_however_often_the_message_fails(self):
        message = self._park(self.partner)
        self.assertEqual(len(self._integration_notes(self.partner)), 1)
        self.assertIn(message.error_message, self._integration_notes(self.partner).body)
        message.action_retry()
        self._dispatch(self.record_backend)
        self.assertEqual((message.state, message.attempts), ("exception", 1), "it failed again")
        self.assertEqual(len(self._integration_notes(self.partner)), 1, "and was not told twice")
        self.assertEqual(len(message.link_ids), 1, "nor linked twice")

    @mute_logger(ENGINE_LOGGER)
    def test_user_without_integration_rights_opens_the_form(self):
        self._park(self.picking)
        values = self.assertFormOpens(self.picking, self.stock_user, "stock.view_picking_form")
        self.assertEqual(values["integration_attention_count"], 1)
        self.assertIn("waits for someone", values["integration_attention_reason"])
        with self.assertRaises(AccessError):
            self.picking.with_user(self.stock_user).action_open_integration_messages()
        values = self.assertFormOpens(self.partner, self.integration_user, "base.view_partner_form")
        self.assertEqual(values["integration_message_count"], 0)
        self.assertFormOpens(self.picking, self.stock_follower, "stock.view_picking_form")
        action = self.picking.with_user(self.stock_follower).action_open_integration_messages()
        Message = self.env["integration.message"].with_user(self.stock_follower)
        self.assertEqual(len(Message.search(action["domain"])), 1)
