# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Users' journeys through the MES integration, walked in a real browser (tours).

Each journey leaves a picture of its main steps in
``<--screenshots>/<database>/journeys/<journey>/`` (see
``integration_base/tests/tour_case.py``). The tours are in
``integration_mes/static/tests/tours/``.
"""

from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.tests.tour_case import JourneyTourCase

from .common import MesCase

ENGINE_LOGGER = "odoo.addons.integration_base.models.integration_message"


@tagged("post_install", "-at_install")
class TestMesJourneys(MesCase, JourneyTourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.operator = new_test_user(
            cls.env,
            login="mes_operator",
            name="Olga Operator",
            groups="integration_base.group_integration_operator,mrp.group_mrp_user",
        )

    @mute_logger(ENGINE_LOGGER)
    def test_planner_sees_a_failed_integration_on_the_order(self):
        """A planner reads on the order why the MES's confirmation waits; with integration rights, opens it.

        The MES confirmed 12 of an order of 10 and the backend does not allow
        overproduction: the confirmation waits in exception, and nothing of it
        was applied. A planner without integration rights is told on the order
        (and once in its chatter) but offered no button to messages they
        cannot read; a planner who is also an integration user opens the
        message from the order.
        """
        self.mes.flow_ids.filtered(lambda flow: flow.code == "mes.production_order").action_retire()
        production = self._order(quantity=10)
        payload = {"event_id": "EV-201", "order_ref": production.name, "produced_qty": 12, "final": False}
        message = self._receive("mes.production_confirmation", payload)
        self.assertEqual((message.state, production.qty_producing), ("exception", 0))
        planner = new_test_user(self.env, login="planner", name="Paula Planner", groups="mrp.group_mrp_user")
        self.assertFalse(planner.has_group("integration_base.group_integration_user"))
        self.start_journey_tour(
            "planner_failed_integration", "integration_mes_planner_sees_failed_integration", login="planner"
        )

        planner.group_ids |= self.env.ref("integration_base.group_integration_user")
        self.start_journey_tour(
            "planner_failed_integration", "integration_mes_planner_opens_failed_integration", login="planner"
        )

    @mute_logger(ENGINE_LOGGER)
    def test_operator_maps_a_new_code_and_its_messages_apply(self):
        """An operator (not an administrator) maps, from the message, a code the MES started to send.

        The plant's MES names a new code, SHAFT-V2, for the shaft: two
        confirmations wait for it. Mapping it once from either message sends
        both back to the queue; once the dispatcher has run, both are done and
        their orders produce what they confirmed.
        """
        # This journey is about the confirmations; the orders' own messages to the MES stay out of it.
        self.mes.flow_ids.filtered(lambda flow: flow.code == "mes.production_order").action_retire()
        first, second = self._order(quantity=10), self._order(quantity=5)
        messages = self.Message
        for production, event_id, produced in ((first, "EV-101", 4), (second, "EV-102", 3)):
            payload = {
                "event_id": event_id,
                "order_ref": production.name,
                "produced_qty": produced,
                "final": False,
                "consumption": [{"product": "SHAFT-V2", "quantity": produced * 2}],
            }
            messages |= self.Message._ingest(self.mes, "mes.production_confirmation", payload)[0]
        self._drain()
        self.assertEqual(set(messages.mapped("state")), {"exception"})
        self.assertEqual(set(messages.mapped("missing_code")), {"SHAFT-V2"})

        journey = "resolve_missing_mapping"
        self.start_journey_tour(journey, "integration_mes_resolve_missing_mapping", login="mes_operator")
        mapping = self.Mapping.search([("backend_id", "=", self.mes.id), ("external_code", "=", "SHAFT-V2")])
        self.assertEqual((mapping.record_ref, mapping.create_uid), (self.shaft, self.operator))
        messages.invalidate_recordset()
        self.assertEqual(set(messages.mapped("state")), {"queued"}, "both went back to the queue")

        self._drain()  # what the job runner does next
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual((first.qty_producing, second.qty_producing), (4, 3))

        self.start_journey_tour(journey, "integration_mes_missing_mapping_applied", login="mes_operator")

    def test_administrator_sets_up_an_mes_backend(self):
        """An administrator connects Plant B's MES: backend, signing key, contracts, activation."""
        self.start_journey_tour("set_up_mes_backend", "integration_mes_set_up_backend", login="admin")
        backend = self.env["integration.backend"].search([("code", "=", "plant-b-mes")])
        self.assertEqual(
            (backend.name, backend.system_type, backend.warehouse_id, backend.state),
            ("Plant B MES", "mes", self.plant_b, "active"),
        )
        credential = backend.credential_ids
        self.assertEqual((credential.kind, credential.usage), ("hmac", "both"))
        self.assertEqual(credential._get_secret(), "plant-b-mes-signing-key-3f9c2e7a51d84b06")
        self.assertEqual(
            sorted(backend.flow_ids.mapped("code")),
            sorted(
                self.env["integration.flow.template"]
                .search([("system_type", "=", "mes"), ("family", "=", "standard")])
                .mapped("code")
            ),
            "every MES contract, as a draft to review",
        )
        self.assertEqual(set(backend.flow_ids.mapped("state")), {"draft"})
