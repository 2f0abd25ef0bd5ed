# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.queue_job import jobrunner

# A job due for longer than this, and still pending, means no runner takes jobs.
RUNNER_STALE_SECONDS = 300
WAITING_STATES = ("received", "queued", "failed")


class IntegrationHealth(models.AbstractModel):
    """Whether the integration layer can do its work, for load balancers and probes.

    Healthy means: the database answers, and jobs are being run. In the
    threaded server the runner is a thread of this process and is asked
    directly; in the prefork server it is another process, so the runner is
    judged by what it does: a job still pending long after it was due means
    nobody runs jobs. The backlog (waiting messages and the age of the oldest)
    is reported, not judged: a large backlog is a business matter.
    """

    _name = "integration.health"
    _description = "Integration Health"

    @api.model
    def _check(self):
        """Returns ``(healthy, report dict)``."""
        now = fields.Datetime.now()
        self.env.cr.execute("SELECT 1")
        due_before = now - timedelta(seconds=RUNNER_STALE_SECONDS)
        overdue = (
            self.env["queue.job"]
            .sudo()
            .search(
                [
                    ("state", "=", "pending"),
                    "|",
                    ("eta", "<=", due_before),
                    "&",
                    ("eta", "=", False),
                    ("date_created", "<=", due_before),
                ],
                order="date_created",
                limit=1,
            )
        )
        thread = jobrunner.runner_thread
        runner_alive = thread.is_alive() if thread is not None else not overdue
        oldest = (
            self.env["integration.message"]
            .sudo()
            .search([("state", "in", WAITING_STATES)], order="received_at", limit=1)
        )
        report = {
            "status": "ok" if runner_alive else "degraded",
            "database": "ok",
            "job_runner": {
                "alive": runner_alive,
                "mode": "thread" if thread is not None else "external",
                "oldest_overdue_job_seconds": int(
                    (now - (overdue.eta or overdue.date_created)).total_seconds()
                )
                if overdue
                else 0,
            },
            "backlog": {
                "messages": self.env["integration.message"]
                .sudo()
                .search_count([("state", "in", WAITING_STATES)]),
                "oldest_seconds": int((now - oldest.received_at).total_seconds()) if oldest else 0,
            },
        }
        return runner_alive, report
