# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import OperationalError

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.integration_base.exceptions import PayloadValidationError

from .common import EngineCase


class SimulatedCrash(Exception):
    """The server dies after the effect was applied and before the commit."""


@tagged("post_install", "-at_install")
class TestIngest(EngineCase):
    def test_ingest_is_idempotent(self):
        message, created = self._ingest({"ref": "P1", "name": "Alpha"}, key="evt-1")
        self.assertTrue(created)
        self.assertEqual(message.state, "queued")
        again, created_again = self._ingest({"ref": "P1", "name": "Alpha changed"}, key="evt-1")
        self.assertFalse(created_again)
        self.assertEqual(again, message)
        self.assertEqual(json.loads(message.payload)["name"], "Alpha", "a duplicate changes nothing")
        self.assertEqual(self.Message.search_count([("backend_id", "=", self.backend.id)]), 1)

    def test_same_payload_without_key_is_stored_once(self):
        first, _created = self._ingest({"ref": "P2", "name": "Beta"})
        second, created = self._ingest({"name": "Beta", "ref": "P2"})
        self.assertFalse(created)
        self.assertEqual(first, second)

    def test_schema_violations_are_listed_and_nothing_is_stored(self):
        with self.assertRaises(PayloadValidationError) as caught:
            self._ingest({"name": 5, "colour": "red"}, key="bad-1")
        self.assertEqual(
            caught.exception.errors,
            [
                ("", "'ref' is a required property"),
                ("", "Additional properties are not allowed ('colour' was unexpected)"),
                ("/name", "5 is not of type 'string'"),
            ],
        )
        self.assertIn("/name: 5 is not of type 'string'", str(caught.exception))
        self.assertFalse(self.Message.search([("idempotency_key", "=", "bad-1")]))

    def test_unknown_or_retired_contract_is_refused(self):
        with self.assertRaisesRegex(UserError, "no inbound contract 'test.unknown'"):
            self.Message._ingest(self.backend, "test.unknown", {})
        self.flow.action_retire()
        with self.assertRaisesRegex(UserError, "no inbound contract 'test.partner'"):
            self._ingest({"ref": "P3", "name": "Gamma"})

    def test_contract_figures_cannot_be_negative(self):
        fields_ = ("retry_max", "retry_backoff_seconds", "sla_seconds", "reconciliation_threshold_percent")
        for field in fields_:
            with self.subTest(field=field), self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.flow.write({field: -1})

    def test_deprecated_version_accepted_until_sunset(self):
        v2 = self._create_flow(self.backend, version=2)
        self.flow.write({"state": "deprecated", "sunset_date": "2030-06-30"})
        latest, _created = self._ingest({"ref": "V", "name": "Newest"})
        self.assertEqual(latest.flow_id, v2)
        with freeze_time("2030-06-30"):
            old, _created = self._ingest({"ref": "V1", "name": "Old sender"}, version=1)
            self.assertEqual(old.flow_id, self.flow)
        with freeze_time("2030-07-01"), self.assertRaisesRegex(UserError, "v1 in force"):
            self._ingest({"ref": "V2", "name": "Too late"}, version=1)

    def test_one_waiting_job_drains_a_burst(self):
        for index in range(3):
            self._ingest({"ref": f"B{index}", "name": f"Burst {index}"})
        jobs = self.env["queue.job"].search([("identity_key", "=", f"integration-backend-{self.backend.id}")])
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs.channel, "root.integration.test-a")
        self.assertEqual(jobs.state, "pending")
        self._drain()
        self.assertEqual(
            self.Message.search([("backend_id", "=", self.backend.id)]).mapped("state"), ["done"] * 3
        )

    def test_a_full_batch_hands_over_to_a_new_job(self):
        for index in range(3):
            self._ingest({"ref": f"H{index}", "name": f"Handover {index}"})
        self.env["queue.job"].search([]).write({"state": "done"})  # the job that is now running
        self.backend._process_pending_messages(batch_size=2)
        done = self.Message.search_count([("backend_id", "=", self.backend.id), ("state", "=", "done")])
        self.assertEqual(done, 2)
        self.assertEqual(
            self.env["queue.job"].search_count(
                [("identity_key", "=", f"integration-backend-{self.backend.id}"), ("state", "=", "pending")]
            ),
            1,
        )

    def test_batch_flow_waits_for_the_scheduled_run(self):
        start = datetime(2030, 1, 1, 22, 0, 0)
        self.flow.write({"sync_policy": "batch", "batch_interval_minutes": 60, "next_batch_at": start})
        message, _created = self._ingest({"ref": "N1", "name": "Nightly"})
        self.assertEqual(message.state, "received")
        self._drain()
        self.assertEqual(message.state, "received")
        with freeze_time(start - timedelta(minutes=1)):
            self.Message._cron_enqueue_due()
        self.assertEqual(message.state, "received", "not time yet")
        with freeze_time(start):
            self.Message._cron_enqueue_due()
        self.assertEqual(message.state, "queued")
        self.assertEqual(self.flow.next_batch_at, start + timedelta(hours=1))
        self._drain()
        self.assertEqual(message.state, "done")
        later, _created = self._ingest({"ref": "N2", "name": "Next batch"})
        with freeze_time(start + timedelta(minutes=30)):
            self.Message._cron_enqueue_due()
        self.assertEqual(later.state, "received", "waits for the next run")

    def test_outbound_message_is_part_of_the_business_transaction(self):
        outbound = self._create_flow(self.backend, direction="outbound", processor=False)
        with self.assertRaises(SimulatedCrash), self.env.cr.savepoint():
            self.Message._ingest(
                self.backend, "test.partner", {"ref": "O1", "name": "Out"}, direction="outbound"
            )
            raise SimulatedCrash
        self.assertFalse(self.Message.search([("flow_id", "=", outbound.id)]), "rolled back: nothing to send")
        message, _created = self.Message._ingest(
            self.backend, "test.partner", {"ref": "O1", "name": "Out"}, direction="outbound"
        )
        self.assertEqual(
            (message.direction, message.state, message.flow_id), ("outbound", "queued", outbound)
        )


@tagged("post_install", "-at_install")
class TestProcessing(EngineCase):
    def test_effect_applies_exactly_once_when_the_job_runs_twice(self):
        message, _created = self._ingest({"ref": "X1", "name": "Once"})
        self._drain()
        self._drain()
        self.assertEqual(message.state, "done")
        partner = self._partners("X1")
        self.assertEqual(len(partner), 1)
        self.assertEqual(message.link_ids.record_ref, partner)
        self.assertEqual(message.attempts, 1)

    def test_crash_after_the_effect_and_before_the_commit_applies_once(self):
        message, _created = self._ingest({"ref": "X2", "name": "Crash"})
        with self.assertRaises(SimulatedCrash), self.env.cr.savepoint():
            self.backend._process_pending_messages()
            self.assertEqual(len(self._partners("X2")), 1)
            raise SimulatedCrash  # the transaction never commits
        self.env.invalidate_all()
        self.assertFalse(self._partners("X2"))
        self.assertEqual(message.state, "queued", "the message is still to be processed")
        self._drain()
        self.assertEqual(len(self._partners("X2")), 1)
        self.assertEqual(message.state, "done")

    def test_failure_between_effect_and_done_state_undoes_the_effect(self):
        message, _created = self._ingest({"ref": "X3", "name": "Half"})
        lost_connection = OperationalError("server closed the connection unexpectedly")
        with patch.object(type(self.Message), "_link_records", side_effect=lost_connection):
            self._drain()
        self.assertFalse(self._partners("X3"), "the effect was rolled back with its savepoint")
        self.assertEqual((message.state, message.error_kind), ("failed", "technical"))
        with freeze_time(message.next_retry_at + timedelta(seconds=1)):
            self._drain()
        self.assertEqual(message.state, "done")
        self.assertEqual(len(self._partners("X3")), 1)

    @mute_logger("odoo.addons.integration_base.models.integration_message")
    def test_technical_errors_retry_with_backoff_then_die(self):
        message, _created = self._ingest({"ref": "T1", "name": "Timeout", "simulate": "timeout"})
        start = datetime(2030, 1, 1, 8, 0, 0)
        with freeze_time(start):
            self._drain()
        self.assertEqual((message.state, message.attempts), ("failed", 1))
        first_retry = message.next_retry_at
        self.assertTrue(
            start + timedelta(seconds=30) <= first_retry <= start + timedelta(seconds=60),
            f"half to all of the 60 s backoff, not {first_retry}",
        )
        self.assertIn("did not answer in time", message.error_message)
        with freeze_time(start + timedelta(seconds=29)):
            self._drain()
        self.assertEqual(message.attempts, 1, "not due yet")
        with freeze_time(first_retry):
            self._drain()
        self.assertEqual((message.state, message.attempts), ("failed", 2))
        second_retry = message.next_retry_at
        self.assertTrue(
            first_retry + timedelta(seconds=60) <= second_retry <= first_retry + timedelta(seconds=120),
            f"the backoff doubles: 60 to 120 s after {first_retry}, not {second_retry}",
        )
        with freeze_time(second_retry):
            self._drain()
        self.assertEqual((message.state, message.attempts, message.error_kind), ("dead", 3, "technical"))
        self.assertFalse(message.next_retry_at)
        self.assertIn("IntegrationTechnicalError", message.error_detail)

    def test_business_error_parks_the_message_for_the_owner(self):
        message, _created = self._ingest({"ref": "E1", "name": "!Bad"})
        self._drain()
        self.assertEqual((message.state, message.error_kind, message.attempts), ("exception", "business", 1))
        self.assertEqual(message.error_message, "A partner name cannot start with '!': !Bad")
        self.assertFalse(self._partners("E1"))
        activity = message.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.flow_owner)
        self.assertIn("!Bad", activity.note)

    def test_missing_mapping_is_named_and_retried_when_it_appears(self):
        message, _created = self._ingest({"ref": "M1", "name": "Mapped", "country": "ZZ-NL"})
        self._drain()
        self.assertEqual(message.state, "exception")
        self.assertEqual((message.missing_model, message.missing_code), ("res.country", "ZZ-NL"))
        self.assertIn("Country code 'ZZ-NL'", message.error_message)
        netherlands = self.env.ref("base.nl")
        self.env["integration.mapping"].create(
            {
                "warehouse_id": self.plant_a.id,
                "external_code": "ZZ-NL",
                "record_ref": f"res.country,{netherlands.id}",
            }
        )
        self.assertEqual(message.state, "queued", "retried by itself")
        self.assertFalse(message.activity_ids, "the owner's to-do is closed")
        self._drain()
        self.assertEqual(message.state, "done")
        self.assertEqual(self._partners("M1").country_id, netherlands)

    def test_mapping_of_another_plant_does_not_retry(self):
        message, _created = self._ingest({"ref": "M2", "name": "Other plant", "country": "ZZ-BE"})
        self._drain()
        self.env["integration.mapping"].create(
            {
                "warehouse_id": self.plant_b.id,
                "external_code": "ZZ-BE",
                "record_ref": f"res.country,{self.env.ref('base.be').id}",
            }
        )
        self.assertEqual(message.state, "exception")

    def test_messages_with_one_ordering_key_apply_in_order(self):
        self.flow.ordering_key_pointer = "/country"
        self.env["integration.mapping"].create(
            {"external_code": "NL", "record_ref": f"res.country,{self.env.ref('base.nl').id}"}
        )
        first, _c = self._ingest({"ref": "O1", "name": "!First", "country": "NL"})
        second, _c = self._ingest({"ref": "O2", "name": "Second", "country": "NL"})
        other, _c = self._ingest({"ref": "O3", "name": "Other key"})
        self._drain()
        self.assertEqual((first.state, second.state, other.state), ("exception", "queued", "done"))
        self.assertEqual(second.ordering_key, "NL")
        first.with_user(self.integration_manager).payload = json.dumps(
            {"ref": "O1", "name": "First", "country": "NL"}
        )
        first.action_retry()
        self._drain()
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertLess(self._partners("O1").id, self._partners("O2").id, "applied in the order received")

    def test_cancelling_releases_the_messages_behind(self):
        self.flow.ordering_key_pointer = "/name"
        blocked_by, _c = self._ingest({"ref": "C1", "name": "!Same"}, key="c1")
        waiting, _c = self._ingest({"ref": "C2", "name": "!Same"}, key="c2")
        self._drain()
        self.assertEqual((blocked_by.state, waiting.state), ("exception", "queued"))
        blocked_by.action_cancel()
        self.assertEqual(blocked_by.state, "cancelled")
        self._drain()
        self.assertEqual(waiting.state, "exception", "processed once the earlier one was cancelled")

    def test_edit_and_retry_is_kept_in_the_chatter(self):
        message, _created = self._ingest({"ref": "R1", "name": "!Typo"})
        self._drain()
        self._flush_tracking()
        with self.assertRaisesRegex(ValidationError, "/name: 7 is not of type 'string'"):
            message.payload = json.dumps({"ref": "R1", "name": 7})
        with self.assertRaisesRegex(ValidationError, "not valid JSON"):
            message.payload = "{ref: R1"
        message.payload = json.dumps({"ref": "R1", "name": "Typo fixed"})
        self._flush_tracking()
        message.invalidate_recordset(["message_ids"])
        self.assertIn("payload", message.message_ids.tracking_value_ids.mapped("field_id.name"))
        message.action_retry()
        self._drain()
        self.assertEqual(message.state, "done")
        self.assertEqual(self._partners("R1").name, "Typo fixed")

    def test_done_messages_cannot_be_edited_or_retried(self):
        message, _created = self._ingest({"ref": "D1", "name": "Done"})
        self._drain()
        with self.assertRaisesRegex(UserError, "Only a message in exception"):
            message.payload = json.dumps({"ref": "D1", "name": "Changed"})
        with self.assertRaisesRegex(UserError, "can be retried"):
            message.action_retry()

    def test_retention_purges_old_done_messages_only(self):
        old, _c = self._ingest({"ref": "OLD", "name": "Old"})
        recent, _c = self._ingest({"ref": "NEW", "name": "New"})
        stuck, _c = self._ingest({"ref": "STK", "name": "!Stuck"})
        self._drain()
        old.finished_at = fields.Datetime.now() - timedelta(days=91)
        stuck.received_at = fields.Datetime.now() - timedelta(days=200)
        self.assertEqual(self.Message._cron_purge_done(), 1)
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists() and stuck.exists())

    def test_only_managers_activate_contracts(self):
        operator = self.env["res.users"].create(
            {
                "name": "Operator",
                "login": "contract_operator",
                "group_ids": [(6, 0, [self.env.ref("integration_base.group_integration_operator").id])],
            }
        )
        draft = self.env["integration.flow"].create(
            {
                "name": "Draft",
                "code": "test.draft",
                "backend_id": self.backend.id,
                "processor": "integration.processor.test.partner",
            }
        )
        with self.assertRaises(AccessError):
            draft.with_user(operator).action_activate()
        draft.with_user(self.integration_manager).action_activate()
        self.assertEqual(draft.state, "active")

    def test_many_messages_are_retried_at_once(self):
        first, _c = self._ingest({"ref": "MA", "name": "!A"})
        second, _c = self._ingest({"ref": "MB", "name": "!B"})
        self._drain()
        messages = first | second
        self.assertEqual(messages.mapped("state"), ["exception", "exception"])
        for message, name in ((first, "A"), (second, "B")):
            message.payload = json.dumps({"ref": json.loads(message.payload)["ref"], "name": name})
        messages.action_retry()
        self.assertEqual(messages.mapped("state"), ["queued", "queued"])
        self.assertEqual(len(messages.job_id), 1, "one job drains them both")
        self._drain()
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        self.assertEqual(self._partners("MA").name, "A")
