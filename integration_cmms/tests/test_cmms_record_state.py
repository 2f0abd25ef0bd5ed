# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.tests.common import RecordStateCase


@tagged("post_install", "-at_install")
class TestCmmsRecordState(RecordStateCase):
    @mute_logger("odoo.addons.integration_base.models.integration_message")
    def test_equipment_shows_its_waiting_message_to_the_maintenance_team(self):
        Equipment = self.env["maintenance.equipment"]
        press = Equipment.create({"name": "Press A1", "warehouse_id": self.plant_a.id})
        self.assertIntegrationState(press, 0, 0)
        message = self._park(press)
        self.assertIntegrationState(press, 1, 1, reason="waits for someone")
        self.assertEqual(self._messages_of_action(press.action_open_integration_messages()), message)
        self.assertEqual(len(self._integration_notes(press)), 1)
        technician = new_test_user(self.env, login="technician", groups="base.group_user")
        # equipment is read by those who follow it
        press.message_subscribe(partner_ids=(technician | self.integration_user).partner_id.ids)
        values = self.assertFormOpens(press, technician, "maintenance.hr_equipment_view_form")
        self.assertIn(message.error_message, values["integration_attention_reason"])
        self.assertFormOpens(press, self.integration_user, "maintenance.hr_equipment_view_form")
