# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.tests.common import RecordStateCase


@tagged("post_install", "-at_install")
class TestEdiRecordState(RecordStateCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acme = cls.env["res.partner"].create({"name": "ACME Retail", "is_company": True})
        cls.product = cls.env["product.product"].create({"name": "Gearbox", "list_price": 100})

    @mute_logger("odoo.addons.integration_base.models.integration_message")
    def test_sale_order_warns_the_salesperson(self):
        order = self.env["sale.order"].create(
            {"partner_id": self.acme.id, "order_line": [(0, 0, {"product_id": self.product.id})]}
        )
        message = self._park(order)
        self.assertIntegrationState(order, 1, 1, reason="waits for someone")
        self.assertEqual(self._messages_of_action(order.action_open_integration_attention()), message)
        self.assertEqual(len(self._integration_notes(order)), 1)
        self.assertIntegrationState(self.acme, 0, 0)
        salesperson = new_test_user(
            self.env, login="salesperson", groups="sales_team.group_sale_salesman_all_leads"
        )
        values = self.assertFormOpens(order, salesperson, "sale.view_order_form")
        self.assertEqual(values["integration_attention_count"], 1)

    @mute_logger("odoo.addons.integration_base.models.integration_message")
    def test_invoice_warns_the_accountant(self):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.acme.id,
                "invoice_line_ids": [(0, 0, {"product_id": self.product.id, "quantity": 1})],
            }
        )
        message = self._park(invoice)
        self.assertIntegrationState(invoice, 1, 1, reason=message.error_message)
        self.assertEqual(len(self._integration_notes(invoice)), 1)
        billing = new_test_user(self.env, login="billing", groups="account.group_account_invoice")
        values = self.assertFormOpens(invoice, billing, "account.view_move_form")
        self.assertEqual(values["integration_message_count"], 1)
