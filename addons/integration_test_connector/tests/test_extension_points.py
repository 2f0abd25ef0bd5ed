# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The engine's extension points as a connector uses them: templates, triggers, routing, bindings."""

from datetime import timedelta
from unittest.mock import patch

from psycopg2.errors import SerializationFailure

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.exceptions import WaitingError, WebhookRefused
from odoo.addons.integration_base.models.integration_backend import ORIGIN_BACKEND_KEY

from .common import EngineCase

ENGINE_LOGGER = "odoo.addons.integration_base.models.integration_message"


@tagged("post_install", "-at_install")
class TestContractTemplates(EngineCase):
    def test_add_contracts_copies_the_templates_of_the_system_type_once(self):
        backend = self._create_backend("fresh-generic")
        action = backend.action_add_contracts()
        flow = backend.flow_ids.filtered(lambda f: f.code == "test.partner")
        self.assertEqual(sorted(backend.flow_ids.mapped("code")), ["test.contact", "test.partner"])
        self.assertEqual((flow.version, flow.state), (1, "draft"))
        self.assertEqual(flow.processor, "integration.processor.test.partner")
        self.assertEqual(flow.idempotency_key_pointer, "/ref")
        self.assertIn('"ref"', flow.schema, "the schema comes from the connector's data/contracts file")
        self.assertEqual(action["domain"], [("backend_id", "=", backend.id)])
        backend.action_add_contracts()
        self.assertEqual(len(backend.flow_ids), 2, "a version the backend has is not added again")
        mes = self._create_backend("fresh-mes", system_type="mes", plant=self.plant_b)
        mes.action_add_contracts()
        self.assertNotIn("test.partner", mes.flow_ids.mapped("code"), "templates serve their system type")

    def test_a_version_past_its_sunset_is_refused_with_its_date(self):
        yesterday = fields.Date.today() - timedelta(days=1)
        self.flow.write({"state": "deprecated", "sunset_date": yesterday})
        v2 = self._create_flow(self.backend, version=2)
        Webhook = self.env["integration.webhook"]
        self.assertEqual(Webhook._check_contract(self.backend, "test.partner", {}), v2)
        with self.assertRaises(WebhookRefused) as refused:
            Webhook._check_contract(self.backend, "test.partner", {"contract-version": "1"})
        self.assertEqual((refused.exception.status, refused.exception.code), (410, "contract_sunset"))
        self.assertIn(f"reached its sunset on {fields.Date.to_string(yesterday)}", refused.exception.message)
        with self.assertRaises(WebhookRefused) as unknown:
            Webhook._check_contract(self.backend, "test.partner", {"contract-version": "7"})
        self.assertEqual(unknown.exception.status, 404)
        with self.assertRaises(WebhookRefused) as malformed:
            Webhook._check_contract(self.backend, "test.partner", {"contract-version": "v1"})
        self.assertEqual(malformed.exception.status, 400)

    def test_each_version_counts_the_messages_that_used_it_in_30_days(self):
        self._ingest({"ref": "U1", "name": "One"})
        self._ingest({"ref": "U2", "name": "Two"})
        v2 = self._create_flow(self.backend, version=2)
        self._ingest({"ref": "U3", "name": "Three"}, version=2)
        self.assertEqual((self.flow.message_count_30d, v2.message_count_30d), (2, 1))
        old = self.Message.search([("flow_id", "=", self.flow.id)], limit=1)
        old_day = fields.Datetime.now() - timedelta(days=31)
        self.env.cr.execute(
            "UPDATE integration_message SET received_at = %s WHERE id = %s", (old_day, old.id)
        )
        self.flow.invalidate_recordset(["message_count_30d"])
        self.assertEqual(self.flow.message_count_30d, 1)
        self.assertEqual(
            self.Message.search(self.flow.action_open_messages_30d()["domain"]),
            self.Message.search([("flow_id", "=", self.flow.id), ("id", "!=", old.id)]),
        )


@tagged("post_install", "-at_install")
class TestDeclaredTriggersAndRouting(EngineCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.out_flow = cls._create_flow(cls.backend, direction="outbound")
        cls.acme = cls.env["res.partner"].create({"name": "ACME", "is_company": True})
        cls.partner_backend = cls._create_backend("acme-edi", partner_id=cls.acme.id)
        cls.partner_backend.action_activate()
        cls._create_flow(cls.partner_backend, direction="outbound")
        cls.created = cls.env.ref("integration_test_connector.integration_event_partner_created")
        cls.renamed = cls.env.ref("integration_test_connector.integration_event_partner_renamed")
        Subscription = cls.env["integration.subscription"]
        for event in (cls.created, cls.renamed):
            Subscription.create({"event_id": event.id, "flow_code": "test.partner"})

    def _sent(self, record, event):
        return self.Message.search(
            [
                ("event_code", "=", event.code),
                ("link_ids.res_model", "=", record._name),
                ("link_ids.res_id", "=", record.id),
            ]
        )

    def test_creation_and_real_changes_of_trigger_fields_raise_the_events(self):
        partner = self.env["res.partner"].create({"name": "Plain", "ref": "P-1"})
        self.assertEqual(self._sent(partner, self.created).backend_id, self.backend)
        partner.write({"name": "Plain"})
        self.assertFalse(self._sent(partner, self.renamed), "a value written unchanged raises nothing")
        partner.write({"phone": "+32 2 000 00 00"})
        self.assertFalse(self._sent(partner, self.renamed), "a field that is no trigger raises nothing")
        partner.write({"name": "Renamed"})
        self.assertEqual(len(self._sent(partner, self.renamed)), 1)

    def test_pre_and_post_domains_filter_as_declared(self):
        self.renamed.filter_pre_domain = "[('ref', '=', 'KNOWN')]"
        self.renamed.filter_domain = "[('name', 'not ilike', 'secret')]"
        known = self.env["res.partner"].create({"name": "Known", "ref": "KNOWN"})
        other = self.env["res.partner"].create({"name": "Other", "ref": "OTHER"})
        (known | other).write({"name": "Changed"})
        self.assertEqual((len(self._sent(known, self.renamed)), len(self._sent(other, self.renamed))), (1, 0))
        known.write({"name": "secret name"})
        self.assertEqual(len(self._sent(known, self.renamed)), 1, "the post-domain keeps it back")

    def test_a_watched_model_must_show_its_messages(self):
        with self.assertRaisesRegex(ValidationError, "integration.record.mixin"):
            self.env["integration.event"].create(
                {
                    "name": "Country changed",
                    "code": "test.country.changed",
                    "model_id": self.env.ref("base.model_res_country").id,
                    "trigger": "create",
                }
            )
        with self.assertRaisesRegex(ValidationError, "name its trigger fields"):
            self.renamed.trigger_fields = False

    def test_routing_by_partner_company_and_plant(self):
        contact = self.env["res.partner"].create({"name": "ACME buyer", "parent_id": self.acme.id})
        stranger = self.env["res.partner"].create({"name": "Someone else"})
        self.assertEqual(
            self._sent(contact, self.created).backend_id,
            self.backend | self.partner_backend,
            "a backend that stands for ACME hears of ACME's contacts; one that stands for no one hears all",
        )
        self.assertEqual(self._sent(stranger, self.created).backend_id, self.backend)
        subscription = self.created.subscription_ids
        subscription.partner_ids = self.acme
        other = self.env["res.partner"].create({"name": "Another stranger"})
        self.assertFalse(self._sent(other, self.created), "the subscription narrows to ACME's records")

    def test_what_a_backend_causes_is_not_sent_back_to_it(self):
        partner = (
            self.env["res.partner"]
            .with_context(**{ORIGIN_BACKEND_KEY: self.backend.id})
            .create({"name": "Echo", "parent_id": self.acme.id})
        )
        self.assertEqual(self._sent(partner, self.created).backend_id, self.partner_backend)
        partner.with_context(**{ORIGIN_BACKEND_KEY: self.partner_backend.id}).name = "Echo 2"
        self.assertEqual(self._sent(partner, self.renamed).backend_id, self.backend)


@tagged("post_install", "-at_install")
class TestBindingsAndWaiting(EngineCase):
    def test_bind_find_and_upsert_per_backend(self):
        Binding = self.env["integration.binding"]
        other = self._create_backend("other-system")
        first = Binding._upsert(self.backend, "res.partner", "EXT-1", {"name": "Bound"})
        again = Binding._upsert(self.backend, "res.partner", "EXT-1", {"name": "Bound, renamed"})
        self.assertEqual((again, again.name), (first, "Bound, renamed"))
        self.assertEqual(Binding._external_id(self.backend, first), "EXT-1")
        self.assertFalse(Binding._find_bound(other, "res.partner", "EXT-1"), "an id is its backend's")
        self.assertNotEqual(Binding._upsert(other, "res.partner", "EXT-1", {"name": "Theirs"}), first)
        with self.assertRaisesRegex(ValidationError, "known as 'EXT-1' already"):
            Binding._bind(self.backend, first, "EXT-2")
        someone = self.env["res.partner"].create({"name": "Someone"})
        with self.assertRaisesRegex(ValidationError, "that id is Bound, renamed already"):
            Binding._bind(self.backend, someone, "EXT-1")
        self.assertEqual(Binding._bind(self.backend, first, "EXT-1"), first, "binding again changes nothing")

    @mute_logger(ENGINE_LOGGER)
    def test_a_message_waiting_for_a_record_goes_on_when_it_is_bound(self):
        Binding = self.env["integration.binding"]
        message, _created = self._ingest({"ref": "W-1", "name": "Waits"})
        other, _created = self._ingest({"ref": "W-2", "name": "Waits too"})
        error = None
        try:
            Binding._bound_or_wait(self.backend, "res.partner", "EXT-9")
        except WaitingError as waiting:
            error = waiting
        self.assertIn("which Odoo does not have yet", str(error))
        message._mark_exception(error)
        other._mark_exception(WaitingError("waits for another", "res.partner", "EXT-10"))
        self.assertEqual(message.missing_kind, "record")
        self.assertFalse(message.can_retry)
        self.assertIn("retried by itself", message.retry_advice)
        Binding._bind(self.backend, self.env["res.partner"].create({"name": "Arrived"}), "EXT-9")
        self.assertEqual(
            (message.state, other.state), ("queued", "exception"), "only those that waited for it"
        )
        self.assertIn("Arrived now exists", message.transition_log)

    def _park(self, message, error):
        """Park ``message`` with ``error`` as a drain does: on a cursor of its own, committed."""
        self.env.flush_all()
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr, su=True)
            env["integration.dispatcher"]._settle_failure(message.with_env(env), error, fields.Datetime.now())
        self.env.invalidate_all()
        return message.state

    @mute_logger(ENGINE_LOGGER)
    def test_what_came_while_a_message_was_applied_is_not_missed(self):
        """The record is committed after the message's snapshot, before it parks: the engine looks again.

        The wake of the record's commit finds the message still being
        applied; the park then asks once more, and the message goes on.
        """
        Binding = self.env["integration.binding"]
        message, _created = self._ingest({"ref": "W-3", "name": "Overtaken"})
        Binding._bind(self.backend, self.env["res.partner"].create({"name": "Came"}), "EXT-11")
        self.assertEqual(message.state, "queued", "the wake saw nothing waiting")
        self.assertEqual(self._park(message, WaitingError("waits", "res.partner", "EXT-11")), "queued")
        self.assertIn("came while it was being applied", message.transition_log)

        for happened, state in ((False, "exception"), (True, "queued")):
            with self.subTest(happened=happened):
                waiting, _created = self._ingest({"ref": f"W-4-{happened}", "name": "Waits for a change"})
                change = WaitingError(
                    "waits for a release",
                    "res.partner",
                    "P-1",
                    wait_kind="change",
                    is_over=lambda env, h=happened: h,
                )
                self.assertEqual(self._park(waiting, change), state)

        nothing, _created = self._ingest({"ref": "W-5", "name": "Waits for nothing yet"})
        self.assertEqual(
            self._park(nothing, WaitingError("waits", "res.partner", "EXT-12")),
            "exception",
            "what never came is still waited for",
        )

    @mute_logger(ENGINE_LOGGER)
    def test_the_look_after_a_commit_is_tried_again_when_a_concurrent_update_collides(self):
        """The last look for a message that parked while the change committed survives a collision.

        Found by the plant simulator: a drain was scheduling the backend when
        the order the message waited for was confirmed, the look after the
        commit failed on a serialization error, and the message waited for
        ever.
        """
        message, _created = self._ingest({"ref": "W-6", "name": "Parked meanwhile"})
        message._mark_exception(WaitingError("waits", "res.partner", "EXT-13"))
        self.env.flush_all()
        domain = [("state", "=", "exception"), ("missing_code", "=", "EXT-13")]
        schedule = type(self.env["integration.dispatcher"])._schedule
        collisions = []

        def collide_once(dispatcher, *args, **kwargs):
            if not collisions:
                collisions.append(True)
                raise SerializationFailure("could not serialize access due to concurrent update")
            return schedule(dispatcher, *args, **kwargs)

        with patch.object(type(self.env["integration.dispatcher"]), "_schedule", collide_once):
            type(self.env["integration.message"])._wake_pending(
                self.env.registry, [(domain, "EXT-13 now exists")]
            )
        self.env.invalidate_all()
        self.assertEqual(collisions, [True])
        self.assertEqual(message.state, "queued")
        self.assertIn("EXT-13 now exists", message.transition_log)
