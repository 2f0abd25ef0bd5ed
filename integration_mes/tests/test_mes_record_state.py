# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A planner sees on the order what the MES refused about it, without integration rights."""

from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.tests.common import RecordStateMixin

from .common import MesCase

ENGINE_LOGGER = "odoo.addons.integration_base.models.integration_message"


@tagged("post_install", "-at_install")
class TestMesRecordState(RecordStateMixin, MesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.planner = new_test_user(cls.env, login="planner", groups="mrp.group_mrp_user")
        cls.mes_follower = new_test_user(
            cls.env, login="mes_follower", groups="mrp.group_mrp_user,integration_base.group_integration_user"
        )

    def _confirm(self, production, event_id, produced):
        return self._receive(
            "mes.production_confirmation",
            {"event_id": event_id, "order_ref": production.name, "produced_qty": produced, "final": False},
        )

    @mute_logger(ENGINE_LOGGER)
    def test_refused_confirmation_shows_on_its_cancelled_order(self):
        production = self._order(confirm=False)
        production.action_cancel()
        self.assertFalse(self._outbound(production), "the MES never heard of it")
        message = self._confirm(production, "EV-C1", 3)
        self.assertEqual(message.state, "exception")
        self.assertEqual(
            [(link.res_model, link.res_id) for link in message.link_ids], [("mrp.production", production.id)]
        )
        self.assertIntegrationState(production, 1, 1, reason=production.name)
        self.assertIn("cancel", production.integration_attention_reason.lower())
        self.assertIn("from plant-a-mes waits for someone", production.integration_attention_reason)
        self.assertEqual(self._messages_of_action(production.action_open_integration_messages()), message)
        [note] = self._integration_notes(production)
        self.assertIn(production.name, note.body)

        values = self.assertFormOpens(production, self.planner, "mrp.mrp_production_form_view")
        self.assertEqual((values["integration_message_count"], values["integration_attention_count"]), (1, 1))
        self.assertIn(production.name, values["integration_attention_reason"])
        self.assertFormOpens(production, self.mes_follower, "mrp.mrp_production_form_view")

    @mute_logger(ENGINE_LOGGER)
    def test_refused_operation_event_shows_on_its_work_order(self):
        production = self._order(quantity=2)
        workorder = production.workorder_ids
        event = {"order_ref": production.name, "work_center": "WC-ASM", "at": "2030-01-01T08:00:00Z"}
        done = self._receive("mes.operation_event", {**event, "event_id": "OP-1", "action": "finish"})
        late = self._receive(
            "mes.operation_event",
            {**event, "event_id": "OP-2", "action": "start", "at": "2030-01-01T09:00:00Z"},
        )
        self.assertEqual((done.state, late.state), ("done", "exception"))
        self.assertEqual(
            {(link.res_model, link.res_id) for link in late.link_ids},
            {("mrp.workorder", workorder.id), ("mrp.production", production.id)},
        )
        self.assertIntegrationState(workorder, 2, 1, reason="is already finished")
        self.assertEqual(self._messages_of_action(workorder.action_open_integration_attention()), late)
        view = "mrp.mrp_production_workorder_form_view_inherit"
        values = self.assertFormOpens(workorder, self.planner, view)
        self.assertIn("is already finished", values["integration_attention_reason"])
        self.assertTrue(
            self._integration_notes(production).filtered(
                lambda note: "is already finished" in str(note.body)
            ),
            "the order's chatter is told (a work order has none)",
        )
