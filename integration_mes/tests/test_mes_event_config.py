# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A problem of integration configuration never stops a manufacturing order."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from .common import MesCase

EVENT_LOGGER = "odoo.addons.integration_base.models.integration_event"


@tagged("post_install", "-at_install")
class TestMesEventConfiguration(MesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.event = cls.env.ref("integration_mes.integration_event_production_confirmed")
        cls.not_told = cls.env.ref("integration_base.mail_activity_type_integration_unpublished")

    def _alerts(self, production):
        return production.activity_ids.filtered(lambda a: a.activity_type_id == self.not_told)

    def test_a_declared_event_cannot_be_deleted_but_can_be_archived(self):
        with self.assertRaises(UserError):
            self.event.unlink()
        self.event.action_archive()
        production = self._order()
        self.assertEqual(production.state, "confirmed")
        self.assertFalse(self._outbound(production), "archived: nothing sent, on purpose")
        self.assertFalse(self._alerts(production), "and nobody is alarmed")

    def test_an_order_confirms_when_its_event_is_gone(self):
        # As when its module's records were removed (the module's uninstall may do it).
        self.event.subscription_ids.unlink()
        self.event.with_context(**{MODULE_UNINSTALL_FLAG: True}).unlink()
        with self.assertLogs(EVENT_LOGGER, "ERROR") as logged:
            production = self._order()
        self.assertEqual(production.state, "confirmed")
        self.assertIn("mrp.production.confirmed", logged.output[0])
        self.assertFalse(self._outbound(production))
        [alert] = self._alerts(production)
        self.assertIn("mrp.production.confirmed", alert.note)
        with self.assertLogs(EVENT_LOGGER, "ERROR"):
            self.env["integration.event"]._publish("mrp.production.confirmed", production)
        self.assertEqual(self._alerts(production), alert, "one alert per record, not one per repeat")
