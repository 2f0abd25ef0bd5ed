# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import os

from odoo import api, models
from odoo.tools import SQL, config

from ..exceptions import WebhookRefused
from ..lib.prometheus import histogram_samples, render
from ..lib.webhook_signature import bearer_token_matches
from .integration_credential import integration_config

METRICS_TOKEN_VARIABLE = "INTEGRATION_METRICS_TOKEN"
# Seconds from arrival to done.
DURATION_BUCKETS = (0.5, 1, 5, 15, 60, 300, 900, 3600, 14400, 86400)


class IntegrationMetrics(models.AbstractModel):
    """Figures of the integration layer for Prometheus, per backend, flow and state.

    ``integration_messages`` counts every unsettled message and those done or
    cancelled in the last 24 hours (a gauge: states change);
    ``integration_message_duration_seconds`` is the histogram of arrival-to-done
    times of the messages done in the last 24 hours;
    ``integration_oldest_waiting_seconds`` is the age of each backend's oldest
    waiting message. Each query reads unsettled messages and the last day only,
    so a scrape stays fast with years of history kept.
    """

    _name = "integration.metrics"
    _description = "Integration Metrics"

    @api.model
    def _check_token(self, headers):
        expected = os.environ.get(METRICS_TOKEN_VARIABLE) or integration_config(config.get("config")).get(
            "metrics_token"
        )
        if not expected:
            raise WebhookRefused(
                403,
                "metrics_disabled",
                f"Metrics are disabled: set {METRICS_TOKEN_VARIABLE} "
                "or metrics_token in the [integration] section of odoo.conf.",
            )
        if not bearer_token_matches(headers.get("authorization", ""), [expected]):
            raise WebhookRefused(401, "unauthorized", "Send the metrics token as a bearer token.")

    @api.model
    def _render(self, headers):
        """The exposition text, once the caller's token is checked."""
        self._check_token(headers)
        cr = self.env.cr
        day_ago = SQL("(now() at time zone 'utc') - interval '1 day'")
        cr.execute(
            SQL(
                """SELECT b.code, m.flow_code, m.direction, m.state, count(*)
                     FROM integration_message m JOIN integration_backend b ON b.id = m.backend_id
                    WHERE m.state NOT IN ('done', 'cancelled') OR m.finished_at >= %s
                 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""",
                day_ago,
            )
        )
        counts = [
            ("", {"backend": code, "flow": flow, "direction": direction, "state": state}, count)
            for code, flow, direction, state, count in cr.fetchall()
        ]
        cr.execute(
            SQL(
                """SELECT b.code, m.flow_code, %s, coalesce(sum(m.duration), 0), count(*)
                     FROM integration_message m JOIN integration_backend b ON b.id = m.backend_id
                    WHERE m.state = 'done' AND m.finished_at >= %s
                 GROUP BY 1, 2 ORDER BY 1, 2""",
                SQL(", ").join(
                    SQL("count(*) FILTER (WHERE m.duration <= %s)", bound) for bound in DURATION_BUCKETS
                ),
                day_ago,
            )
        )
        durations = []
        for code, flow, *buckets, total, count in cr.fetchall():
            durations += histogram_samples(
                {"backend": code, "flow": flow}, DURATION_BUCKETS, buckets, total, count
            )
        # clock_timestamp(): the age at this instant, not at the start of the transaction.
        cr.execute(
            """SELECT b.code, extract(epoch FROM (clock_timestamp() at time zone 'utc') - min(m.received_at))
                 FROM integration_message m JOIN integration_backend b ON b.id = m.backend_id
                WHERE m.state IN ('received', 'queued', 'failed')
             GROUP BY 1 ORDER BY 1"""
        )
        oldest = [("", {"backend": code}, round(float(age), 3)) for code, age in cr.fetchall()]
        return render(
            [
                (
                    "integration_messages",
                    "gauge",
                    "Unsettled messages, and those settled in the last 24 hours, by backend, flow, "
                    "direction and state.",
                    counts,
                ),
                (
                    "integration_message_duration_seconds",
                    "histogram",
                    "Arrival to done, messages done in the last 24 hours.",
                    durations,
                ),
                (
                    "integration_oldest_waiting_seconds",
                    "gauge",
                    "Age of each backend's oldest waiting message.",
                    oldest,
                ),
            ]
        )
