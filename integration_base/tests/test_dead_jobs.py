# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The dispatcher gives back the job runner's places that dead processes hold.

A job's lock only tells a live job from a dead one between two transactions,
so these tests commit their jobs on connections of their own (and delete
them after) instead of working inside the test's transaction.
"""

from contextlib import closing
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.job import Job

from ..models.integration_dispatcher import DEAD_JOB_GRACE_SECONDS, IntegrationDispatcher

DISPATCHER_LOGGER = "odoo.addons.integration_base.models.integration_dispatcher"


@tagged("post_install", "-at_install")
class TestDeadJobs(TransactionCase):
    def setUp(self):
        super().setUp()
        self.job_ids = []
        self.addCleanup(self._delete_jobs)

    def _cursor(self):
        """A cursor on a connection of its own, closed at the end of the test."""
        cr = db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(cr.close)
        return cr

    def _started_job(self, started_seconds_ago, channel="root.integration"):
        """A committed drain job that a worker started ``started_seconds_ago`` seconds ago."""
        with closing(db_connect(self.env.cr.dbname).cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            job = Job(env["integration.dispatcher"]._drain, args=(0,), channel=channel)
            job.store()
            job.add_lock_record()
            started_at = fields.Datetime.now() - timedelta(seconds=started_seconds_ago)
            cr.execute(
                "UPDATE queue_job SET state = 'started', date_enqueued = %s, date_started = %s"
                " WHERE uuid = %s RETURNING id",
                (started_at, started_at, job.uuid),
            )
            job_id = cr.fetchone()[0]
            cr.commit()  # pylint: disable=invalid-commit  # a connection of the test's own
        self.job_ids.append(job_id)
        return job_id

    def _delete_jobs(self):
        with closing(db_connect(self.env.cr.dbname).cursor()) as cr:
            cr.execute("DELETE FROM queue_job WHERE id = ANY(%s)", (self.job_ids,))
            cr.commit()  # pylint: disable=invalid-commit  # a connection of the test's own

    def _states(self, *job_ids):
        with closing(db_connect(self.env.cr.dbname).cursor()) as cr:
            cr.execute("SELECT id, state, retry FROM queue_job WHERE id = ANY(%s)", (list(job_ids),))
            return {job_id: (state, retry) for job_id, state, retry in cr.fetchall()}

    def _hold_lock(self, job_id):
        """Lock the job's row as its live worker does, for the rest of the test."""
        worker = self._cursor()
        worker.execute("SELECT 1 FROM queue_job_lock WHERE queue_job_id = %s FOR NO KEY UPDATE", (job_id,))
        return worker

    @mute_logger(DISPATCHER_LOGGER)
    def test_only_the_engines_jobs_whose_worker_died_go_back_to_pending(self):
        dead = self._started_job(started_seconds_ago=30)
        live = self._started_job(started_seconds_ago=30)
        just_started = self._started_job(started_seconds_ago=0)
        someone_elses = self._started_job(started_seconds_ago=30, channel="root")
        worker = self._hold_lock(live)

        released = IntegrationDispatcher._release_dead_jobs(self._cursor())

        self.assertIn(dead, released)
        self.assertFalse({live, just_started, someone_elses} & set(released))
        worker.rollback()
        self.assertEqual(
            self._states(dead, live, just_started, someone_elses),
            {
                dead: ("pending", 1),
                live: ("started", 0),
                just_started: ("started", 0),
                someone_elses: ("started", 0),
            },
        )

    @mute_logger(DISPATCHER_LOGGER)
    def test_a_job_is_dead_once_its_worker_lets_go_of_its_lock(self):
        job = self._started_job(started_seconds_ago=DEAD_JOB_GRACE_SECONDS + 5)
        worker = self._hold_lock(job)
        self.assertNotIn(job, IntegrationDispatcher._release_dead_jobs(self._cursor()))
        worker.rollback()  # its transaction ends, as it does when its process dies
        self.assertIn(job, IntegrationDispatcher._release_dead_jobs(self._cursor()))
        self.assertEqual(self._states(job), {job: ("pending", 1)})
