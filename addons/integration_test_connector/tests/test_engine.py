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
from odoo.addons.integration_base.models.integration_dispatcher import WATCHDOG_SECONDS
from odoo.addons.integration_base.models.integration_message import engine

from .common import EngineCase

MESSAGE_MODEL = "odoo.addons.integration_base.models.integration_message.IntegrationMessage"
DISPATCHER_LOGGER = "odoo.addons.integration_base.models.integration_dispatcher"


class SimulatedCrash(Exception):
    """The server dies after the effect was applied and before the commit."""


class SimulatedKill(BaseException):
    """The process is killed: nothing of the engine runs after it, not even an except clause."""


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

    def test_same_payload_is_one_message_only_where_the_contract_says_so(self):
        first, _created = self._ingest({"ref": "P2", "name": "Beta"})
        second, created = self._ingest({"name": "Beta", "ref": "P2"})
        self.assertTrue(created, "two equal readings are two events unless the contract says otherwise")
        self.assertNotEqual(first, second)
        self.flow.deduplicate_by_payload = True
        third, created = self._ingest({"ref": "P2b", "name": "Gamma"})
        fourth, created_again = self._ingest({"name": "Gamma", "ref": "P2b"})
        self.assertTrue(created)
        self.assertFalse(created_again)
        self.assertEqual(third, fourth)
        self.assertTrue(third.idempotency_key.startswith("sha256:"))

    def test_payload_is_stored_compactly(self):
        message, _created = self._ingest({"ref": "C1", "name": "Compact", "country": "NL"}, key="compact")
        self.assertEqual(message.payload, '{"country":"NL","name":"Compact","ref":"C1"}')
        self.assertIn('\n  "name": "Compact"', message.payload_text)

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
        with self._trap_jobs() as trap:
            for index in range(3):
                self._ingest({"ref": f"B{index}", "name": f"Burst {index}"})
            trap.assert_jobs_count(2)  # the drain, and its watchdog
            trap.assert_enqueued_job(
                self.env["integration.dispatcher"]._drain,
                args=(self.backend.id,),
                properties={"identity_key": f"integration-dispatch-{self.backend.id}-watchdog"},
            )
            trap.assert_enqueued_job(
                self.env["integration.dispatcher"]._drain,
                args=(self.backend.id,),
                properties={
                    "channel": "root.integration.test-a",
                    "identity_key": f"integration-dispatch-{self.backend.id}",
                },
            )
            engine = self.env.ref("integration_base.user_integration_engine")
            self.assertEqual({job.user_id for job in trap.enqueued_jobs}, {engine.id})
        self._drain()
        self.assertEqual(
            self.Message.search([("backend_id", "=", self.backend.id)]).mapped("state"), ["done"] * 3
        )

    def test_a_drain_is_scheduled_with_its_watchdog(self):
        """A drain killed before its first claim would leave no watchdog: one is scheduled with it."""
        self.env["queue.job"].search([]).unlink()  # those of the backend's activation
        before = fields.Datetime.now()
        self._ingest({"ref": "W1", "name": "Watched"})
        retry_at = before + timedelta(hours=1)
        self.env["integration.dispatcher"]._schedule(self.backend, eta=retry_at)
        jobs = self.env["queue.job"].search(
            [("identity_key", "like", f"integration-dispatch-{self.backend.id}%")]
        )
        etas = {job.identity_key: job.eta for job in jobs}
        drain = f"integration-dispatch-{self.backend.id}"
        at = f"{drain}-at-{fields.Datetime.to_string(retry_at)}"
        self.assertEqual(set(etas), {drain, f"{drain}-watchdog", at, f"{at}-watchdog"})
        self.assertGreaterEqual(etas[f"{drain}-watchdog"], before + timedelta(seconds=WATCHDOG_SECONDS))
        self.assertEqual(etas[f"{at}-watchdog"], retry_at + timedelta(seconds=WATCHDOG_SECONDS))
        # A watchdog due sooner is put off: it must not run out before the drain it backs up starts.
        self.env.cr.execute(
            "UPDATE queue_job SET eta = %s WHERE identity_key = %s", [before, f"{drain}-watchdog"]
        )
        self.env["queue.job"].invalidate_model(["eta"])
        later = before + timedelta(minutes=5)
        with freeze_time(later):
            self.env["integration.dispatcher"]._schedule(self.backend)
        self.env["queue.job"].invalidate_model(["eta"])
        watchdog = self.env["queue.job"].search([("identity_key", "=", f"{drain}-watchdog")])
        self.assertEqual(len(watchdog), 1)
        self.assertEqual(watchdog.eta, later + timedelta(seconds=WATCHDOG_SECONDS))

    def test_a_drain_that_started_before_the_commit_is_not_counted_on(self):
        """The drain found waiting may start before the ingest commits and miss its messages."""
        self.env["queue.job"].search([]).unlink()  # those of the backend's activation
        self._ingest({"ref": "AC1", "name": "After commit"})
        drain = f"integration-dispatch-{self.backend.id}"
        pending = self.env["queue.job"].search([("identity_key", "=", drain)])
        self.assertEqual(len(pending), 1)
        self.assertEqual(self.env.cr.postcommit.data["integration.dispatch.after_commit"], {self.backend.id})
        # The runner starts it before the ingest commits: it cannot see the new message.
        self.env.cr.execute("UPDATE queue_job SET state = 'started' WHERE id = %s", [pending.id])
        type(self.env["integration.dispatcher"])._ensure_drain_waiting(self.env.registry, {self.backend.id})
        self.env.invalidate_all()
        waiting = self.env["queue.job"].search([("identity_key", "=", drain), ("state", "=", "pending")])
        self.assertEqual(len(waiting), 1, "a drain that starts after the commit was enqueued")
        self.assertNotEqual(waiting, pending)
        # Still waiting after the commit, a drain is enough: no second one.
        type(self.env["integration.dispatcher"])._ensure_drain_waiting(self.env.registry, {self.backend.id})
        self.assertEqual(self.env["queue.job"].search_count([("identity_key", "=", drain)]), 2)

    def test_jobs_run_as_the_engine_and_records_name_the_technical_user(self):
        message, _created = self._ingest({"ref": "TU", "name": "Technical user"})
        job = self.env["queue.job"].search([("identity_key", "=", f"integration-dispatch-{self.backend.id}")])
        self.assertEqual(job.user_id, self.env.ref("integration_base.user_integration_engine"))
        self._drain()
        self.assertEqual(self._partners("TU").create_uid, self.backend.technical_user_id)
        self.assertEqual(message.state, "done")

    def test_a_drain_past_its_budget_takes_no_new_message_and_hands_over(self):
        for index in range(2):
            self._ingest({"ref": f"H{index}", "name": f"Handover {index}"})
        self.env["queue.job"].search([]).write({"state": "done"})  # the job that is now running
        with self._trap_jobs() as trap:
            result = self.env["integration.dispatcher"]._drain(self.backend.id, budget_seconds=1e-9)
            trap.assert_jobs_count(2)  # the next drain, and its watchdog
        self.env.invalidate_all()
        self.assertIn("1 handed over", result)
        self.assertEqual(
            self.Message.search([("backend_id", "=", self.backend.id)]).mapped("state"), ["queued"] * 2
        )

    def test_each_path_that_frees_work_schedules_a_drain(self):
        self.flow.ordering_key_pointer = "/name"
        first, _c = self._ingest({"ref": "S1", "name": "!Same"})
        second, _c = self._ingest({"ref": "S2", "name": "!Same"})
        self._drain()
        self.assertEqual((first.state, second.state), ("exception", "queued"))
        drain = self.env["integration.dispatcher"]._drain
        for action in (first.action_retry, second.action_cancel):
            with self.subTest(action=action.__name__), self._trap_jobs() as trap:
                action()
                trap.assert_enqueued_job(drain, args=(self.backend.id,))
        self.backend.action_suspend()
        with self._trap_jobs() as trap:
            self.backend.action_reset_to_draft()
            self.backend.action_activate()
            trap.assert_enqueued_job(drain, args=(self.backend.id,))

    def test_batch_flow_waits_for_the_scheduled_run(self):
        start = datetime(2030, 1, 1, 22, 0, 0)
        self.flow.write({"sync_policy": "batch", "batch_interval_minutes": 60, "next_batch_at": start})
        message, _created = self._ingest({"ref": "N1", "name": "Nightly"})
        self.assertEqual(message.state, "received")
        self._drain()
        self.assertEqual(message.state, "received")
        sweep = self.env["integration.dispatcher"]._cron_sweep
        with freeze_time(start - timedelta(minutes=1)):
            sweep()
        self.assertEqual(message.state, "received", "not time yet")
        with freeze_time(start):
            sweep()
        self.assertEqual(message.state, "queued")
        self.assertEqual(self.flow.next_batch_at, start + timedelta(hours=1))
        self._drain()
        self.assertEqual(message.state, "done")
        later, _created = self._ingest({"ref": "N2", "name": "Next batch"})
        with freeze_time(start + timedelta(minutes=30)):
            sweep()
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
        self.assertEqual(partner.function, "processing #1", "applied while visibly processing")
        self.assertEqual(message.link_ids.record_ref, partner)
        self.assertEqual(message.attempts, 1)
        self.assertRegex(
            message.transition_log, r"stored as queued\n.* queued -> processing\n.* processing -> done"
        )

    def _drain_until_killed(self):
        """Drain until the simulated kill (no savepoint of the test's own: a kill rolls back nothing more)."""
        try:
            self._drain()
        except SimulatedKill:
            return
        self.fail("the worker was not killed")

    def test_a_killed_worker_repeats_only_the_message_in_hand(self):
        before, _c = self._ingest({"ref": "K0", "name": "Before"})
        victim, _c = self._ingest({"ref": "K1", "name": "Killed"})
        after, _c = self._ingest({"ref": "K2", "name": "After"})
        original = type(self.Message)._mark_done

        def kill_on_victim(message, started_at):
            if message.idempotency_key == victim.idempotency_key:
                raise SimulatedKill
            return original(message, started_at)

        with patch(f"{MESSAGE_MODEL}._mark_done", kill_on_victim):
            self._drain_until_killed()
        self.env.invalidate_all()
        self.assertEqual((before.state, victim.state, after.state), ("done", "processing", "queued"))
        self.assertEqual(len(self._partners("K0")), 1, "committed before the kill: kept")
        self.assertFalse(self._partners("K1"), "the victim's effect died with its transaction")
        self.assertEqual(victim.attempts, 1, "the attempt was counted before applying")
        with mute_logger(DISPATCHER_LOGGER):
            self._drain()
        self.assertEqual((before.state, victim.state, after.state), ("done", "done", "done"))
        self.assertEqual([len(self._partners(ref)) for ref in ("K0", "K1", "K2")], [1, 1, 1])
        self.assertEqual(victim.attempts, 2)
        self.assertIn("recovered: the process that held it stopped", victim.transition_log)

    @mute_logger(DISPATCHER_LOGGER)
    def test_a_message_that_kills_its_worker_every_time_ends_dead(self):
        self.flow.retry_max = 2
        message, _c = self._ingest({"ref": "POISON", "name": "Poison"})
        with patch(f"{MESSAGE_MODEL}._mark_done", side_effect=SimulatedKill):
            for _attempt in range(2):
                self._drain_until_killed()
        self.env.invalidate_all()
        self.assertEqual((message.state, message.attempts), ("processing", 2))
        self._drain()
        self.assertEqual((message.state, message.error_kind), ("dead", "technical"))
        self.assertIn("stopped during each of its attempts", message.error_message)
        self.assertFalse(self._partners("POISON"))

    def test_a_database_constraint_is_a_business_exception_in_words(self):
        message, _c = self._ingest({"ref": "FK", "name": "Orphan", "simulate": "nameless_contact"})
        self._drain()
        self.assertEqual((message.state, message.error_kind, message.attempts), ("exception", "business", 1))
        self.assertEqual(message.error_message, "Odoo refused the Contact: Contacts require a name")
        self.assertNotIn("Failing row", message.error_message)

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

    def test_a_message_held_behind_a_retry_goes_on_by_itself(self):
        self.flow.ordering_key_pointer = "/country"
        self.env["integration.mapping"].create(
            {"external_code": "BE", "record_ref": f"res.country,{self.env.ref('base.be').id}"}
        )
        blocker, _c = self._ingest({"ref": "Q1", "name": "Flaky", "country": "BE", "simulate": "fail_first"})
        held, _c = self._ingest({"ref": "Q2", "name": "Held", "country": "BE"})
        with mute_logger(DISPATCHER_LOGGER):
            self._drain()
        self.assertEqual((blocker.state, held.state), ("failed", "queued"))
        self.assertEqual(held.blocked_by_id, blocker)
        self.assertIn(f"(#{blocker.id}): failed (will retry) since", held.waiting_reason)
        with freeze_time(blocker.next_retry_at):
            self._drain()
        self.assertEqual((blocker.state, held.state), ("done", "done"))
        self.assertFalse(held.blocked_by_id)
        self.assertLess(self._partners("Q1").id, self._partners("Q2").id)

    @mute_logger(DISPATCHER_LOGGER)
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
        [dead_alert] = self._alerts("integration_base.mail_activity_type_integration_dead")
        self.assertIn("1 message(s)", dead_alert.note)

    def _alerts(self, activity_type_xmlid):
        activity_type = self.env.ref(activity_type_xmlid)
        return self.flow.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)

    def test_business_errors_park_the_messages_with_one_to_do_for_the_owner(self):
        message, _created = self._ingest({"ref": "E1", "name": "!Bad"})
        other, _created = self._ingest({"ref": "E2", "name": "!Worse"})
        self._drain()
        self.assertEqual((message.state, message.error_kind, message.attempts), ("exception", "business", 1))
        self.assertEqual(message.error_message, "A partner name cannot start with '!': !Bad")
        self.assertEqual(other.state, "exception")
        self.assertFalse(self._partners("E1"))
        [activity] = self._alerts("integration_base.mail_activity_type_integration_exception")
        self.assertEqual(activity.user_id, self.flow_owner)
        self.assertIn("2 message(s)", activity.note)
        self.assertIn("!Bad", activity.note)
        (message | other).action_cancel()
        self.assertFalse(self._alerts("integration_base.mail_activity_type_integration_exception"))

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
        self.assertFalse(
            self._alerts("integration_base.mail_activity_type_integration_exception"),
            "the owner's to-do is closed",
        )
        self._drain()
        self.assertEqual(message.state, "done")
        self.assertEqual(self._partners("M1").country_id, netherlands)

    def _alerts(self, activity_type_xmlid):
        activity_type = self.env.ref(activity_type_xmlid)
        return self.flow.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)

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
        self.assertEqual(second.blocked_by_id, first)
        self.assertIn(f"(#{first.id}): exception since", second.waiting_reason)
        first.with_user(self.integration_manager).payload_text = json.dumps(
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

    def test_edit_and_retry_is_kept_in_the_audit_trail(self):
        message, _created = self._ingest({"ref": "R1", "name": "!Typo"})
        self._drain()
        operator = message.with_user(self.integration_manager)
        with self.assertRaisesRegex(ValidationError, "/name: 7 is not of type 'string'"):
            operator.payload_text = json.dumps({"ref": "R1", "name": 7})
        with self.assertRaisesRegex(ValidationError, "not valid JSON"):
            operator.payload_text = "{ref: R1"
        with self.assertRaisesRegex(ValidationError, "NaN is not a JSON number"):
            operator.payload_text = '{"ref": "R1", "name": NaN}'
        operator.payload_text = json.dumps({"ref": "R1", "name": "Typo fixed"})
        operator.action_retry()
        edit, retry = message.audit_ids.sorted("id")
        self.assertEqual((edit.action, edit.user_id), ("edit", self.integration_manager))
        self.assertEqual(json.loads(edit.previous_payload), {"ref": "R1", "name": "!Typo"})
        self.assertEqual((retry.action, retry.user_id), ("retry", self.integration_manager))
        self.assertFalse(message.message_ids if "message_ids" in message._fields else False, "no chatter")
        self._drain()
        self.assertEqual(message.state, "done")
        self.assertEqual(self._partners("R1").name, "Typo fixed")

    def test_done_messages_cannot_be_edited_or_retried(self):
        message, _created = self._ingest({"ref": "D1", "name": "Done"})
        self._drain()
        with self.assertRaisesRegex(UserError, "Only the payload of a message in exception"):
            message.payload_text = json.dumps({"ref": "D1", "name": "Changed"})
        with self.assertRaisesRegex(UserError, "can be retried"):
            message.action_retry()

    def test_retention_purges_terminal_messages_past_their_age(self):
        old, _c = self._ingest({"ref": "OLD", "name": "Old"})
        recent, _c = self._ingest({"ref": "NEW", "name": "New"})
        stuck, _c = self._ingest({"ref": "STK", "name": "!Stuck"})
        gone, _c = self._ingest({"ref": "CNL", "name": "!Cancelled"})
        self._drain()
        gone.action_cancel()
        now = fields.Datetime.now()
        engine(old).finished_at = now - timedelta(days=91)
        engine(gone).finished_at = now - timedelta(days=91)
        engine(stuck).received_at = now - timedelta(days=400)
        self.assertEqual(self.Message._cron_purge(batch_size=1), 2)
        self.assertFalse(old.exists() or gone.exists())
        self.assertTrue(recent.exists() and stuck.exists(), "an exception is never purged")

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
            message.payload_text = json.dumps({"ref": json.loads(message.payload)["ref"], "name": name})
        with self._trap_jobs() as trap:
            messages.action_retry()
            trap.assert_jobs_count(2)  # one job drains them both (and its watchdog stands by)
        self.assertEqual(messages.mapped("state"), ["queued", "queued"])
        self._drain()
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        self.assertEqual(self._partners("MA").name, "A")


@tagged("post_install", "-at_install")
class TestStateMachine(EngineCase):
    """Only the engine changes a message; people act through checked, logged methods."""

    def test_nobody_writes_the_state_or_keys_of_a_message(self):
        message, _created = self._ingest({"ref": "SM1", "name": "Done"})
        self._drain()
        manager = self.integration_manager
        for values in (
            {"state": "queued"},
            {"attempts": 0},
            {"idempotency_key": "other"},
            {"backend_id": self.backend.id},
            {"payload": "{}"},
        ):
            for who in (message.with_user(manager), message.sudo()):
                with self.subTest(values=values, su=who.env.su), self.assertRaises(AccessError):
                    who.write(values)
        with self.assertRaises(AccessError):
            self.Message.sudo().create({"backend_id": self.backend.id})
        self.assertEqual(message.state, "done")
        with self.assertRaisesRegex(UserError, "Only done, cancelled or dead"):
            self._ingest({"ref": "SM2", "name": "Waiting"})[0].with_user(manager).unlink()

    def test_an_operator_cannot_cancel_a_message_being_processed(self):
        message, _created = self._ingest({"ref": "SM3", "name": "Busy"})
        engine(message)._transition("processing")
        with self.assertRaisesRegex(UserError, "cannot be cancelled"):
            message.action_cancel()
