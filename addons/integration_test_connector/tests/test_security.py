# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import EngineCase


@tagged("post_install", "-at_install")
class TestPlantRestriction(EngineCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend_b = cls._create_backend("test-b", system_type="generic", plant=cls.plant_b)
        cls.backend_b.action_activate()
        cls.flow_b = cls._create_flow(cls.backend_b)
        cls.operator_a = new_test_user(
            cls.env, login="operator_a", groups="integration_base.group_integration_operator"
        )
        cls.operator_a.integration_warehouse_ids = cls.plant_a

    def _exception_at(self, backend, ref):
        message, _created = self._ingest({"ref": ref, "name": "!Broken"}, backend=backend)
        self._drain(backend)
        self.assertEqual(message.state, "exception")
        return message

    def test_operator_of_plant_a_sees_and_resolves_only_plant_a(self):
        message_a = self._exception_at(self.backend, "SA")
        message_b = self._exception_at(self.backend_b, "SB")
        mapping_b = self.env["integration.mapping"].create(
            {
                "backend_id": self.backend_b.id,
                "external_code": "B-NL",
                "record_ref": f"res.country,{self.env.ref('base.nl').id}",
            }
        )
        as_operator = self.env(user=self.operator_a)
        Message = as_operator["integration.message"]
        self.assertEqual(Message.search([]), message_a)
        self.assertEqual(as_operator["integration.backend"].search([]), self.backend)
        self.assertFalse(as_operator["integration.mapping"].search([("id", "=", mapping_b.id)]))
        with self.assertRaises(AccessError):
            message_b.with_user(self.operator_a).action_retry()
        with self.assertRaises(AccessError):
            message_b.with_user(self.operator_a).action_cancel()
        self.assertEqual(message_b.state, "exception")
        message_a.with_user(self.operator_a).action_retry()
        self.assertEqual(message_a.state, "queued")

    def test_links_of_another_plant_stay_hidden(self):
        """Which records plant B's messages touched is plant B's business."""
        done = []
        for backend, ref in ((self.backend, "LA"), (self.backend_b, "LB")):
            message, _created = self._ingest({"ref": ref, "name": f"Linked {ref}"}, backend=backend)
            self._drain(backend)
            self.assertEqual(message.state, "done")
            done.append(message)
        Link = self.env["integration.message.link"]
        link_a, link_b = (Link.search([("message_id", "=", message.id)]) for message in done)
        self.assertTrue(link_a and link_b)
        seen = Link.with_user(self.operator_a).search([("id", "in", (link_a | link_b).ids)])
        self.assertEqual(seen, link_a)
        with self.assertRaises(AccessError):
            link_b.with_user(self.operator_a).read(["res_model"])

    def test_unrestricted_operator_sees_every_plant(self):
        self._exception_at(self.backend, "UA")
        self._exception_at(self.backend_b, "UB")
        operator = new_test_user(
            self.env, login="operator_all", groups="integration_base.group_integration_operator"
        )
        self.assertEqual(len(self.env(user=operator)["integration.message"].search([])), 2)

    def test_users_read_but_do_not_resolve(self):
        message = self._exception_at(self.backend, "RU")
        viewer = message.with_user(self.integration_user)
        self.assertEqual(viewer.state, "exception")
        with self.assertRaises(AccessError):
            viewer.action_retry()

    def test_external_api_ingest_checks_group_and_plant(self):
        payload = {"ref": "API1", "name": "Through the API"}
        with self.assertRaises(AccessError):
            self.backend.with_user(self.integration_user).ingest("test.partner", payload)
        with self.assertRaises(AccessError):
            self.backend_b.with_user(self.operator_a).ingest("test.partner", payload)
        result = self.backend.with_user(self.operator_a).ingest(
            "test.partner", payload, idempotency_key="api-1"
        )
        self.assertEqual(result["state"], "queued")
        self.assertFalse(result["duplicate"])
        again = self.backend.with_user(self.operator_a).ingest(
            "test.partner", payload, idempotency_key="api-1"
        )
        self.assertEqual(again, {**result, "duplicate": True})

    def test_subscriptions_of_another_plant_stay_hidden(self):
        """A subscription to plant B's backend tells of plant B's integration: plant B's business.

        Events, declarations shared by every plant, stay readable, and their
        subscriptions read through the same rule.
        """
        event = self.env.ref("integration_test_connector.integration_event_partner_created")
        Subscription = self.env["integration.subscription"]

        def subscribe(backends):
            return Subscription.create(
                {"event_id": event.id, "flow_code": "test.partner", "backend_ids": [(6, 0, backends.ids)]}
            )

        mine, theirs, shared, mixed = (
            subscribe(self.backend),
            subscribe(self.backend_b),
            subscribe(Subscription.backend_ids),
            subscribe(self.backend | self.backend_b),
        )
        as_operator = self.env(user=self.operator_a)
        everyone = (mine | theirs | shared | mixed).ids
        self.assertEqual(
            as_operator["integration.subscription"].search([("id", "in", everyone)]), mine | shared
        )
        with self.assertRaises(AccessError):
            theirs.with_user(self.operator_a).read(["flow_code"])
        with self.assertRaises(AccessError):
            mixed.with_user(self.operator_a).read(["backend_ids"])
        seen_event = event.with_user(self.operator_a)
        self.assertEqual(seen_event.code, "test.partner.created")
        self.assertEqual(seen_event.subscription_ids.ids, (mine | shared).ids)


@tagged("post_install", "-at_install")
class TestTechnicalDetail(EngineCase):
    """Tracebacks and partners' raw answers are for managers; every user reads the reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.operator = new_test_user(
            cls.env, login="operator_detail", groups="integration_base.group_integration_operator"
        )

    def _failed_with_answer(self):
        message, _created = self._ingest({"ref": "TD1", "name": "Timeout", "simulate": "timeout"})
        self._drain()
        self.assertEqual(message.state, "failed")
        self.assertIn("Traceback", message.error_detail)
        attempt = self.env["integration.delivery.attempt"].create(
            {
                "message_id": message.id,
                "outcome": "refused",
                "status_code": 500,
                "response_excerpt": "psycopg2.OperationalError at /srv/partner/app.py line 12",
            }
        )
        return message, attempt

    def test_users_read_the_reason_but_not_the_traceback_nor_the_raw_answer(self):
        message, attempt = self._failed_with_answer()
        as_user = message.with_user(self.integration_user)
        self.assertIn("did not answer in time", as_user.error_message)
        with self.assertRaises(AccessError):
            as_user.read(["error_detail"])
        with self.assertRaises(AccessError):
            attempt.with_user(self.integration_user).read(["response_excerpt"])
        self.assertEqual(attempt.with_user(self.integration_user).status_code, 500)
        as_operator = message.with_user(self.operator)
        self.assertIn("did not answer in time", as_operator.error_message)
        with self.assertRaises(AccessError):
            as_operator.read(["error_detail"])
        as_manager = message.with_user(self.integration_manager)
        self.assertIn("Traceback", as_manager.error_detail)
        self.assertIn("psycopg2", as_manager.delivery_attempt_ids.response_excerpt)

    def test_the_message_form_opens_for_users_without_the_detail(self):
        message, _attempt = self._failed_with_answer()
        users = ((self.integration_user, False), (self.operator, False), (self.integration_manager, True))
        for user, sees_detail in users:
            Message = self.env["integration.message"].with_user(user)
            views = Message.get_views([(False, "form")])
            arch = views["views"]["form"]["arch"]
            self.assertEqual("error_detail" in arch, sees_detail)
            self.assertEqual("response_excerpt" in arch, sees_detail)
            spec = {name: {} for name in views["models"]["integration.message"]["fields"]}
            spec["delivery_attempt_ids"] = {
                "fields": {name: {} for name in views["models"]["integration.delivery.attempt"]["fields"]}
            }
            [values] = Message.browse(message.id).web_read(spec)
            self.assertIn("did not answer in time", values["error_message"])
            self.assertEqual("error_detail" in values, sees_detail)
