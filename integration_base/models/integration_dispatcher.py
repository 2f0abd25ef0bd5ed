# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The dispatcher: what happens to a message after it is accepted.

One place schedules, claims, orders, applies, delivers, retries, buries and
recovers messages. Its rules:

- **One message is the failure domain.** A drain job takes messages one at a
  time, on a database cursor of its own, and commits each: claiming it
  (``processing``, one more attempt), then applying it (inbound) or recording
  the outcome of its delivery (outbound). A crash, a timeout or an error
  while handling one message never rolls back, repeats or blocks another.
- **No network I/O inside a transaction.** An outbound message is claimed and
  its request built and committed first; the request is sent with no
  transaction open; the outcome is recorded in a new transaction. A crash
  between sending and recording re-sends the message with the same
  ``webhook-id`` (at-least-once, with a stable id).
- **Order is real.** Only the oldest unsettled message of an ordering key
  can be claimed, and a claimed message is itself unsettled, so the messages
  of one key are applied one at a time and in arrival order, by any number of
  jobs in any number of processes; other keys run in parallel. Ingesting
  takes a transaction lock on the key, so ids (the order) follow commits.
- **A claim is held by a live connection.** The claimer holds a session
  advisory lock on the message while it works on it. When its process dies,
  PostgreSQL drops the lock, and any drain or the sweep cron sees a
  ``processing`` message nobody holds and sends it back to the queue (or to
  ``dead`` once its attempts are spent).
- **Nothing strands.** Every path that makes a message claimable schedules a
  drain: ingest, retry, cancel, backend activation, a new mapping, a failed
  attempt (at its retry time). Each drain is scheduled with a watchdog drain
  due a few seconds after it, and while a drain works a watchdog is always
  scheduled a few seconds ahead, so that a killed worker's messages move
  again within seconds; the sweep cron catches anything else every minute.
  A killed drain's job keeps its place in the job runner until queue_job
  finds it dead, which can take a minute: every drain gives such places
  back when it looks for orphans and when it ends.
  A drain found waiting when messages are stored may start before they are
  committed and miss them, so after the commit a drain still waiting is
  looked for again (and one enqueued when none is).
"""

import json
import logging
import random
import time
import traceback
from collections import Counter
from datetime import timedelta
from functools import partial

from psycopg2 import IntegrityError
from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, ConcurrencyError, MissingError, UserError
from odoo.orm.models import get_columns_from_sql_diagnostics
from odoo.tools import SQL, config, mute_logger

from odoo.addons.queue_job.job import ENQUEUED, PENDING, WAIT_DEPENDENCIES

from ..exceptions import IntegrationBusinessError, WaitingError
from ..lib import transports

_logger = logging.getLogger(__name__)

# Classes of PostgreSQL advisory locks (two int4 keys: class, id).
CLAIM_LOCK_CLASS = 1_229_870_167
ORDERING_KEY_LOCK_CLASS = 1_229_870_168

# Errors that say "try again now", not "this message is wrong".
CONCURRENCY_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
    ConcurrencyError,
)
CONCURRENCY_TRIES = 5
# queue_job's states of a job that has not started: one with the same identity key is reused.
WAITING_JOB_STATES = (WAIT_DEPENDENCIES, PENDING, ENQUEUED)
# A drain job stops taking new messages after this long (or a third of
# limit_time_real, if smaller) and hands over to a fresh job.
JOB_BUDGET_SECONDS = 60
# How far ahead of a working drain its watchdog job waits, to take over what a killed drain left.
WATCHDOG_SECONDS = 10
# How often a long drain looks for messages whose claimer died.
ORPHAN_CHECK_SECONDS = 5

# A started job older than this whose queue_job lock nobody holds ran in a process that died
# (queue_job takes the lock a few milliseconds after committing the start).
DEAD_JOB_GRACE_SECONDS = 2
# The engine's jobs that died in their process go back to pending: the runner hears of it
# (queue_job's trigger notifies it) and frees their places at once.
RELEASE_DEAD_JOBS_QUERY = """
    UPDATE queue_job
       SET state = 'pending', retry = COALESCE(retry, 0) + 1
     WHERE state = 'started'
       AND (channel = 'root.integration' OR channel LIKE 'root.integration.%%')
       AND date_started < %(started_before)s
       AND (id IN (SELECT l.queue_job_id FROM queue_job_lock l
                    WHERE l.queue_job_id = queue_job.id FOR NO KEY UPDATE SKIP LOCKED)
            OR NOT EXISTS (SELECT 1 FROM queue_job_lock l WHERE l.queue_job_id = queue_job.id))
 RETURNING id
"""

# Message ``m`` has no unsettled message of its ordering key before it: it may go.
HEAD_OF_ITS_KEY = """(m.ordering_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM integration_message e
         WHERE e.backend_id = m.backend_id AND e.direction = m.direction
           AND e.ordering_key = m.ordering_key AND e.id < m.id
           AND e.state NOT IN ('done', 'cancelled')))"""

CLAIM_QUERY = f"""
    SELECT m.id
      FROM integration_message m
     WHERE m.backend_id = %(backend)s
       AND (m.state = 'queued' OR (m.state = 'failed' AND m.next_retry_at <= %(now)s))
       AND m.id <> ALL(%(skip)s)
       AND EXISTS (SELECT 1 FROM integration_backend b WHERE b.id = m.backend_id AND b.state = 'active')
       AND {HEAD_OF_ITS_KEY}
  ORDER BY m.id
     LIMIT 1
       FOR NO KEY UPDATE OF m SKIP LOCKED
"""


def error_detail(error):
    return "".join(traceback.format_exception(error))


def drain_identity(backend_id):
    """The identity key of a backend's plain drain: what its watchdogs, helpers and slots add to."""
    return f"integration-dispatch-{backend_id}"


def commit(cr):
    """Commit the dispatcher's own cursor: the one door to a commit in this file.

    Each cursor committed here was opened by the dispatcher itself
    (``registry.cursor()`` in ``_drain`` and in the sweep), never a request's
    or a job's, which is the case OCA's rule against ``cr.commit()`` allows;
    pylint-odoo's invalid-commit cannot tell whose cursor it is.
    """
    cr.commit()  # pylint: disable=invalid-commit  # our own cursor (see the docstring)


class IntegrationDispatcher(models.AbstractModel):
    _name = "integration.dispatcher"
    _description = "Integration Dispatcher"

    # ------------------------------------------------------------------
    # Scheduling
    # ------------------------------------------------------------------

    @api.model
    def _schedule(self, backends, eta=None, watchdog=False, helper=0):
        """Make sure a drain job will run for each active backend (now, or at ``eta``).

        At most one drain waits to start per backend and moment (its identity
        key says so): a burst of messages is drained by one job instead of a
        job per message. ``helper`` numbers the extra drains a backlog gets
        (see :meth:`_call_helpers`). A drain that is neither a watchdog nor a
        helper is scheduled with its watchdog, due ``WATCHDOG_SECONDS`` after
        it: a drain killed before its first claim (which keeps a watchdog
        ahead from then on) leaves its backup. Jobs run as the integration
        engine's user, whoever scheduled them. Returns the drains asked for
        (``queue.job`` records), not their watchdogs.
        """
        jobs = self.env["queue.job"]
        for backend in backends.filtered(lambda b: b.state == "active"):
            drain = drain_identity(backend.id)
            if watchdog:
                identity = f"{drain}-watchdog"
            elif eta:
                identity = f"{drain}-at-{fields.Datetime.to_string(eta)}"
            elif helper:
                identity = f"{drain}-helper-{helper}"
            else:
                identity = drain
            jobs |= self._enqueue_drain(backend, identity, eta)
            if not (watchdog or helper or eta):
                self._check_drain_after_commit(backend)
            if not (watchdog or helper):
                # A drain killed before its first claim commits has scheduled no watchdog
                # yet: its backup is scheduled with it, due a little after it.
                backup_identity = f"{identity}-watchdog"
                backup_eta = (eta or fields.Datetime.now()) + timedelta(seconds=WATCHDOG_SECONDS)
                self._keep_backup(backend, backup_identity, backup_eta)
        return jobs

    def _check_drain_after_commit(self, backend):
        """Once this transaction commits, make sure a drain that starts after the commit is waiting.

        The drain found waiting above may be started by the job runner before
        this transaction commits: it then claims before these messages are
        visible, ends, and leaves them to the watchdog. Asked again after the
        commit, a drain still waiting is sure to see them; one that started
        is not counted, and a new drain is enqueued.
        """
        callbacks = self.env.cr.postcommit
        backend_ids = callbacks.data.setdefault("integration.dispatch.after_commit", set())
        if not backend_ids:
            callbacks.add(partial(self._ensure_drain_waiting, self.env.registry, backend_ids))
        backend_ids.add(backend.id)

    @staticmethod
    def _ensure_drain_waiting(registry, backend_ids):
        """A drain waits to start for each of these backends (after the commit that stored their messages)."""
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                dispatcher = env["integration.dispatcher"]
                for backend in env["integration.backend"].browse(sorted(backend_ids)).exists():
                    if backend.state == "active":
                        dispatcher._enqueue_drain(backend, drain_identity(backend.id), None)
        except Exception:
            # The request is answered already; the watchdog scheduled with the drain and the
            # sweep cron still move the messages.
            _logger.warning("drains of backends %s not checked after commit", backend_ids, exc_info=True)

    def _keep_backup(self, backend, identity, eta):
        """A watchdog drain of ``identity`` that waits until ``eta`` at least.

        One waiting to start already is put off to ``eta`` (never brought
        forward): due sooner, it could run and end before the drain it backs
        up has even started, and leave that drain without a backup.
        """
        waiting = self._waiting_job(identity)
        if not waiting:
            return self._new_drain(backend, identity, eta)
        self.env.cr.execute(
            SQL(
                "UPDATE queue_job SET eta = %s WHERE id = %s AND state = %s AND (eta IS NULL OR eta < %s)",
                eta,
                waiting.id,
                PENDING,
                eta,
            )
        )
        return waiting

    def _enqueue_drain(self, backend, identity, eta):
        """The drain job of ``identity``: the one waiting already, or a new one as the engine's user."""
        return self._waiting_job(identity) or self._new_drain(backend, identity, eta)

    def _new_drain(self, backend, identity, eta):
        """A new drain job of ``identity``, as the engine's user (queue_job still keeps it unique)."""
        # The job is the engine's: the caller's companies (which the engine user may
        # not belong to) stay behind; the drain works in the backend's company.
        engine = self.env.ref("integration_base.user_integration_engine")
        job = (
            self.with_user(engine)
            .with_context(allowed_company_ids=engine.company_id.ids)
            .with_delay(
                channel=backend._queue_channel(),
                eta=eta,
                identity_key=identity,
                description=f"Dispatch messages of {backend.code}",
            )
            ._drain(backend.id)
        )
        # queue_job answers with the waiting job's record when one has the identity key already
        return job.db_record() if hasattr(job, "db_record") else job

    def _waiting_job(self, identity):
        """The job with ``identity`` that waits to start, if any.

        queue_job finds it too, but only after building a whole new job; a
        burst of messages asks this once per message, so it is asked first,
        in one indexed query.
        """
        self.env.cr.execute(
            SQL(
                "SELECT id FROM queue_job WHERE identity_key = %s AND state IN %s LIMIT 1",
                identity,
                WAITING_JOB_STATES,
            )
        )
        row = self.env.cr.fetchone()
        return self.env["queue.job"].browse(row[0] if row else ())

    @api.model
    def _lock_ordering_key(self, backend_id, direction, ordering_key):
        """Serialise the storing of messages of one key, so that their ids follow their commits."""
        self.env.cr.execute(
            SQL(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                ORDERING_KEY_LOCK_CLASS,
                f"{backend_id}:{direction}:{ordering_key}",
            )
        )

    @api.model
    def _job_budget(self):
        limit = config.get("limit_time_real") or 0
        return min(JOB_BUDGET_SECONDS, limit / 3) if limit > 0 else JOB_BUDGET_SECONDS

    # ------------------------------------------------------------------
    # The drain job
    # ------------------------------------------------------------------

    @api.model
    def _drain(self, backend_id, budget_seconds=None):
        """Job: apply or deliver the backend's claimable messages, one transaction each.

        Returns a summary for the job's result.
        """
        deadline = time.monotonic() + (budget_seconds or self._job_budget())
        summary = Counter()
        self.env.flush_all()
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr, su=True)
            backend = env["integration.backend"].browse(backend_id)
            if not backend.exists() or backend.state != "active":
                return f"backend {backend_id} is not active: nothing dispatched"
            next_orphan_check = next_watchdog = 0.0
            skip = []
            while True:
                if time.monotonic() >= next_orphan_check:
                    summary["recovered"] += self._recover_orphans(env, backend)
                    next_orphan_check = time.monotonic() + ORPHAN_CHECK_SECONDS
                if time.monotonic() >= deadline:
                    self.with_env(env)._schedule(backend)
                    commit(cr)
                    summary["handed over"] += 1
                    break
                watchdog = time.monotonic() >= next_watchdog
                message = self._claim(env, backend, skip, watchdog=watchdog)
                if message is None:
                    self._release_dead_jobs(cr)
                    break
                if watchdog:
                    next_watchdog = time.monotonic() + WATCHDOG_SECONDS / 2
                summary["taken"] += 1
                try:
                    summary[self._handle(message)] += 1
                finally:
                    self._unlock(cr, message.id)
        self.env.invalidate_all()
        return (
            ", ".join(f"{count} {what}" for what, count in sorted(summary.items())) or "nothing to dispatch"
        )

    def _claim(self, env, backend, skip, watchdog=False):
        """Take the next claimable message of ``backend``: mark it processing, count the attempt, commit.

        With ``watchdog``, a drain job due in ``WATCHDOG_SECONDS`` is committed
        with the claim: while a drain works there is always one waiting, which
        takes over within seconds if this process is killed. Returns the
        message, held by this connection's advisory lock, or None.
        """
        cr = env.cr
        conflicts = 0
        while True:
            try:
                # A claim racing another drain's may fail to serialize: tried again below, not an error.
                with mute_logger("odoo.sql_db"):
                    cr.execute(
                        CLAIM_QUERY, {"backend": backend.id, "now": fields.Datetime.now(), "skip": skip}
                    )
                row = cr.fetchone()
                if not row:
                    commit(cr)
                    return None
                message_id = row[0]
                if not self._try_lock(cr, message_id):
                    # A sweeper is looking at it this very moment: take another one.
                    cr.rollback()
                    skip.append(message_id)
                    continue
                message = env["integration.message"].browse(message_id)
                message._transition(
                    "processing", attempts=message.attempts + 1, started_at=fields.Datetime.now()
                )
                if watchdog:
                    self.with_env(env)._schedule(
                        backend,
                        eta=fields.Datetime.now() + timedelta(seconds=WATCHDOG_SECONDS),
                        watchdog=True,
                    )
                    self._call_helpers(env, backend, message_id)
                commit(cr)
                return message
            except CONCURRENCY_ERRORS:
                cr.rollback()
                conflicts += 1
                if conflicts >= CONCURRENCY_TRIES:
                    raise
                time.sleep(random.uniform(0, 0.1 * conflicts))

    def _call_helpers(self, env, backend, claimed_id):
        """While a backlog waits, schedule the backend's other drains (``dispatch_jobs`` in all).

        Drains take messages of different keys side by side (the claim keeps
        each key in order), so a backlog uses the runner's capacity instead
        of one job. Asked with the watchdog, so at most every few seconds.
        """
        if backend.dispatch_jobs < 2:
            return
        env.cr.execute(
            SQL(
                "SELECT 1 FROM integration_message WHERE backend_id = %s AND state = 'queued' AND id <> %s "
                "LIMIT 1",
                backend.id,
                claimed_id,
            )
        )
        if env.cr.fetchone():
            for helper in range(1, backend.dispatch_jobs):
                self.with_env(env)._schedule(backend, helper=helper)

    def _handle(self, message):
        """Apply or deliver one claimed message; returns the state it ended in."""
        started_at = message.started_at
        worker = message.with_env(message.backend_id._engine_env(message.env.cr))
        if message.direction == "inbound":
            self._apply(worker, started_at)
        else:
            self._deliver(worker, started_at)
        return message.state

    # ------------------------------------------------------------------
    # Inbound: apply and commit
    # ------------------------------------------------------------------

    def _apply(self, message, started_at):
        """Apply an inbound message with its processor and commit it with its ``done`` state.

        The effect and the state commit together or not at all; a message
        that is not ``processing`` by this claim any more is left alone, so a
        message is never applied twice.
        """
        cr = message.env.cr
        for attempt in range(1, CONCURRENCY_TRIES + 1):
            try:
                if message.state != "processing":
                    return
                processor = message.flow_id._get_processor()
                records = processor._process_inbound(message, json.loads(message.payload))
                message._link_records(records)
                message._mark_done(started_at)
                commit(cr)
                return
            except CONCURRENCY_ERRORS as error:
                cr.rollback()
                if attempt == CONCURRENCY_TRIES:
                    self._settle_failure(message, error, started_at)
                    return
                time.sleep(random.uniform(0, 0.2 * 2**attempt))
            except Exception as error:
                cr.rollback()
                self._settle_failure(message, error, started_at)
                return

    # ------------------------------------------------------------------
    # Outbound: build and commit, send with no transaction, record
    # ------------------------------------------------------------------

    def _deliver(self, message, started_at):
        """Deliver an outbound message: no transaction is open while the request travels."""
        cr = message.env.cr
        try:
            payload = (
                message._build_pending_payload() if message.payload_pending else json.loads(message.payload)
            )
            outgoing = message._outgoing(payload)
            commit(cr)
        except Exception as error:
            cr.rollback()
            self._settle_failure(message, error, started_at)
            return
        result = transports.send(outgoing)
        self._record_delivery(message, outgoing, result, started_at)

    def _record_delivery(self, message, outgoing, result, started_at):
        """Log the attempt and move the message on, in a transaction of its own."""
        outcome = result.outcome
        self.env["integration.delivery.attempt"].with_env(message.env).create(
            {
                "message_id": message.id,
                "url": outgoing.target,
                "status_code": result.status_code or 0,
                "latency_ms": result.latency_ms,
                "outcome": outcome,
                "error": result.error,
                "response_excerpt": result.excerpt,
            }
        )
        backend = message.backend_id.code
        answer = result.error or result.excerpt[:200]
        if result.status_code and not result.error:
            answer = f"HTTP {result.status_code}: {answer}"
        if outcome == transports.DELIVERED:
            message._mark_done(started_at)
        elif outcome == transports.RETRY:
            reason = self.env._(
                "%(backend)s did not take the message: %(answer)s", backend=backend, answer=answer
            )
            self._retry_or_bury(message, reason, False, started_at, asked_delay=result.retry_after)
        else:
            reason = self.env._("%(backend)s refused the message: %(answer)s", backend=backend, answer=answer)
            message._mark_exception(IntegrationBusinessError(reason), started_at)
        self._commit_outcome(message)

    # ------------------------------------------------------------------
    # Failures: classify, retry with backoff, bury
    # ------------------------------------------------------------------

    def _settle_failure(self, message, error, started_at):
        """Record why a message failed, after its attempt was rolled back, and commit.

        The records a business error names (the order a refused confirmation
        was about) are linked to the message although the attempt was undone,
        so that they show the failure.
        """
        if getattr(error, "records", None):
            message._link_records(error.records)
        kind, reason = self._classify(message, error)
        if kind == "business":
            # Odoo's own refusal is told in words; what the database said stays for managers.
            detail = error_detail(error) if reason is not error else False
            message._mark_exception(reason, started_at, detail=detail)
            self._send_reply(message, error)
        else:
            self._retry_or_bury(message, error, error_detail(error), started_at)
        self._commit_outcome(message)
        if isinstance(error, WaitingError) and message.state == "exception":
            self._look_again_at_wait(message, error)

    def _send_reply(self, message, error):
        """Store the answer a refusal owes its sender (``IntegrationBusinessError.reply``), with the park.

        A reply that cannot be stored leaves the message parked all the same:
        the reason is logged and the refusal stays for a person to see.
        """
        reply = getattr(error, "reply", None)
        if not reply:
            return
        try:
            with message.env.cr.savepoint():
                reply(message)
        except Exception:
            _logger.exception("the reply to refused message %s could not be stored", message.id)

    def _look_again_at_wait(self, message, error):
        """Retry a message just parked to wait, when what it waits for came meanwhile.

        What it waits for may have been committed while it was being applied:
        its snapshot did not show it, and the wake of that commit found it
        still ``processing``, not waiting. Nothing would move it then. Asked
        after the park is committed, in a fresh snapshot, the question sees
        every such commit; any later one finds the message waiting.
        """
        message.env.invalidate_all()
        if message._wait_is_over(error):
            message._retry_by_itself(message.env._("what it waited for came while it was being applied"))
            commit(message.env.cr)

    def _commit_outcome(self, message):
        """Commit where a message ended; when it waits for a person, tell its contract's owner.

        The records it concerns get one note in their chatter the first time
        it waits for a person (not again when a retry fails the same way).
        The owner's activities and those notes are brought up to date in a
        transaction of their own: two drains parking messages of one contract
        at once may collide on its activity, and the loser leaves it to the
        other one and to the health cron.
        """
        cr = message.env.cr
        commit(cr)
        if message.state not in ("exception", "dead"):
            return
        try:
            message.env["integration.record.mixin"]._note_integration_failures(message)
            message.flow_id._alert_waiting_messages()
            commit(cr)
        except CONCURRENCY_ERRORS:
            cr.rollback()

    def _classify(self, message, error):
        """``("business", error)`` when a person must act, ``("technical", error)`` when time may help.

        Odoo's own refusals (``UserError`` and its kinds) and database
        constraints (a check, a required value, a unique code) do not get
        better by retrying: they are business errors, told in words about
        the record (the database's own text is kept for managers).
        """
        if isinstance(error, MissingError):
            return "business", IntegrationBusinessError(
                message.env._(
                    "A record this message refers to does not exist (any more): it was deleted, or the "
                    "message names the wrong one. Correct the payload, or cancel the message."
                )
            )
        if isinstance(error, AccessError):
            return "business", IntegrationBusinessError(
                message.env._(
                    "The backend's technical user %s may not do what this message asks: a manager must "
                    "give it the rights it needs, then retry.",
                    message.backend_id.technical_user_id.name or message.env.user.name,
                )
            )
        if isinstance(error, UserError):
            return "business", error
        if isinstance(error, IntegrityError):
            return "business", IntegrationBusinessError(self._integrity_reason(message.env, error))
        return "technical", error

    @api.model
    def _integrity_reason(self, env, error):
        """What a database constraint that refused the change means for the record, in plain words.

        The constraint's own message when the model declares one; otherwise a
        sentence naming the kind of record and the field, never the failing
        row or the SQL.
        """
        diag = error.diag
        tables = {model_class._table: name for name, model_class in env.registry.items()}
        model = env[tables[diag.table_name]] if diag.table_name in tables else None
        if model is None:
            return self.env._(
                "Odoo refused the change: it breaks a database rule (%s).", diag.constraint_name
            )
        declared = model._table_objects.get(diag.constraint_name or "")
        rule = declared.get_error_message(model, diag) if declared else ""
        if rule:
            return self.env._("Odoo refused the %(record)s: %(rule)s", record=model._description, rule=rule)
        columns = get_columns_from_sql_diagnostics(env.cr, diag, check_registry=True)
        labels = [model._fields[name].string if name in model._fields else name for name in columns]
        words = {"record": model._description, "field": ", ".join(labels) or diag.constraint_name}
        if isinstance(error, pg_errors.NotNullViolation):
            return self.env._("%(record)s: %(field)s is required, and the message did not give it.", **words)
        if isinstance(error, pg_errors.ForeignKeyViolation):
            return self.env._(
                "%(record)s: %(field)s refers to a record that does not exist any more, or the record "
                "is still used by others.",
                **words,
            )
        if isinstance(error, pg_errors.UniqueViolation):
            return self.env._(
                "%(record)s: another one already has the same %(field)s, which must be unique.", **words
            )
        return self.env._("%(record)s: the values given break one of its rules (%(field)s).", **words)

    def _retry_or_bury(self, message, error, detail, started_at, asked_delay=None):
        """Retry later with exponential backoff and jitter, or give up (``dead``) once attempts are spent."""
        if message.attempts >= message.flow_id.retry_max:
            message._mark_dead(error, detail, started_at)
            _logger.error("message %s is dead after %s attempts: %s", message.id, message.attempts, error)
            return
        delay = self._retry_delay(message.flow_id, message.attempts, asked_delay)
        next_retry_at = fields.Datetime.now() + timedelta(seconds=delay)
        message._mark_failed(error, detail, next_retry_at, started_at)
        self.with_env(message.env)._schedule(message.backend_id, eta=next_retry_at)
        _logger.info(
            "message %s failed (attempt %s), retry in %ss: %s", message.id, message.attempts, delay, error
        )

    @api.model
    def _retry_delay(self, flow, attempts, asked=None):
        """Seconds before the next try: exponential backoff with jitter, at least what the receiver asked.

        The jitter (the delay is drawn between half and all of the backoff)
        spreads the retries of many messages that failed together, so that a
        recovering partner is not hit by all of them at the same second.
        """
        backoff = flow.retry_backoff_seconds * 2 ** (attempts - 1)
        delay = round(backoff / 2 + random.uniform(0, backoff / 2))
        return max(delay, asked or 0)

    # ------------------------------------------------------------------
    # Claim locks and recovery
    # ------------------------------------------------------------------

    @staticmethod
    def _try_lock(cr, message_id):
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (CLAIM_LOCK_CLASS, message_id))
        return cr.fetchone()[0]

    @staticmethod
    def _unlock(cr, message_id):
        """Release a claim. Whatever was not committed by then is undone first, then the lock goes."""
        cr.rollback()
        cr.execute("SELECT pg_advisory_unlock(%s, %s)", (CLAIM_LOCK_CLASS, message_id))
        cr.rollback()

    @staticmethod
    def _release_dead_jobs(cr):
        """Give back the job runner's places that the engine's jobs killed with their process hold.

        queue_job counts a job as running until it finds it dead, which it
        looks for only when something wakes its runner and only for jobs
        enqueued more than ten seconds ago; a runner whose places are all
        held by dead jobs asks for no wake-up at all. Two crashes in a row
        then stopped every backend for up to a minute. A drain job is safe to
        run again (claims decide what it takes), so the engine puts its dead
        jobs back to pending as soon as it sees them, and commits.
        """
        started_before = fields.Datetime.now() - timedelta(seconds=DEAD_JOB_GRACE_SECONDS)
        cr.execute(RELEASE_DEAD_JOBS_QUERY, {"started_before": started_before})
        released = [job_id for (job_id,) in cr.fetchall()]
        commit(cr)
        if released:
            _logger.warning("jobs %s died with their process: pending again", released)
        return released

    def _recover_orphans(self, env, backends=None):
        """Send back to the queue the ``processing`` messages whose claimer is gone.

        A live claimer holds the message's advisory lock; when the lock can be
        taken, the process that held it died (a kill, a crash, a time limit).
        Its attempt counts: a message that kills its worker every time ends
        ``dead``. An outbound message may have been sent before the crash: it
        is sent again with the same ``webhook-id``. The dead process's job is
        given back to the runner too. Returns how many messages moved.
        """
        cr = env.cr
        self._release_dead_jobs(cr)
        domain = [("state", "=", "processing")]
        if backends is not None:
            domain.append(("backend_id", "in", backends.ids))
        candidates = env["integration.message"].search(domain, order="id").ids
        commit(cr)
        recovered = 0
        for message_id in candidates:
            if not self._try_lock(cr, message_id):
                continue
            try:
                commit(cr)  # a fresh snapshot: the claimer may have finished just before
                message = env["integration.message"].browse(message_id)
                if message.state != "processing":
                    continue
                if message.attempts >= message.flow_id.retry_max:
                    message._mark_dead(
                        self.env._("The process applying it stopped during each of its attempts."), False
                    )
                else:
                    message._transition(
                        "queued", note=self.env._("recovered: the process that held it stopped")
                    )
                self._commit_outcome(message)
                recovered += 1
                _logger.warning("message %s recovered from a stopped process", message_id)
            finally:
                self._unlock(cr, message_id)
        return recovered

    # ------------------------------------------------------------------
    # The sweep cron: it only searches, recovers and schedules
    # ------------------------------------------------------------------

    @api.model
    def _cron_sweep(self):
        """Release due batch contracts, recover orphans and schedule every backend that has work."""
        now = fields.Datetime.now()
        Message = self.env["integration.message"].sudo()
        due_flows = (
            self.env["integration.flow"]
            .sudo()
            .search(
                [
                    ("sync_policy", "=", "batch"),
                    "|",
                    ("next_batch_at", "=", False),
                    ("next_batch_at", "<=", now),
                ]
            )
        )
        for flow in due_flows:
            Message.search([("state", "=", "received"), ("flow_id", "=", flow.id)])._requeue(
                self.env._("batch run of %s", fields.Datetime.to_string(now))
            )
            flow.next_batch_at = now + timedelta(minutes=flow.batch_interval_minutes)
        self.env.flush_all()
        with self.env.registry.cursor() as cr:
            self._recover_orphans(self.env(cr=cr, su=True))
        self.env.invalidate_all()
        busy = Message._read_group(
            [
                "|",
                ("state", "=", "queued"),
                "&",
                ("state", "=", "failed"),
                ("next_retry_at", "<=", now),
            ],
            ["backend_id"],
        )
        self._schedule(self.env["integration.backend"].sudo().union(*(backend for (backend,) in busy)))
