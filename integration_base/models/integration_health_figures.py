# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields, models

# Messages on their way: not applied yet, and nobody has to act on them.
WAITING_STATES = ("received", "queued", "processing", "failed")
# Messages whose last attempt ended, one way or the other.
ATTEMPTED_STATES = ("done", "exception", "failed", "dead")
FAILED_STATES = ("exception", "failed", "dead")
# The window of the trend figures shown next to the health figures (messages, p95).
TREND_DAYS = 7

FIGURES_QUERY = """
    SELECT m.{column} AS key,
           count(*) FILTER (WHERE m.state IN %(waiting)s) AS waiting,
           min(m.received_at) FILTER (WHERE m.state IN %(waiting)s) AS oldest_waiting,
           count(*) FILTER (WHERE m.state IN ('exception', 'dead')) AS exceptions,
           min(coalesce(m.exception_since, m.started_at, m.received_at))
               FILTER (WHERE m.state IN ('exception', 'dead')) AS oldest_exception,
           count(*) FILTER (WHERE m.state = 'dead') AS dead,
           count(*) FILTER (WHERE m.started_at >= %(hour)s AND m.state IN %(attempted)s) AS tried_hour,
           count(*) FILTER (WHERE m.started_at >= %(hour)s AND m.state IN %(failed)s) AS failed_hour,
           count(*) FILTER (WHERE m.started_at >= %(day)s AND m.state IN %(attempted)s) AS tried_day,
           count(*) FILTER (WHERE m.started_at >= %(day)s AND m.state IN %(failed)s) AS failed_day,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY m.duration)
               FILTER (WHERE m.state = 'done' AND m.finished_at >= %(hour)s) AS p50_hour,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY m.duration)
               FILTER (WHERE m.state = 'done' AND m.finished_at >= %(hour)s) AS p95_hour,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY m.duration)
               FILTER (WHERE m.state = 'done' AND m.finished_at >= %(day)s) AS p50_day,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY m.duration)
               FILTER (WHERE m.state = 'done' AND m.finished_at >= %(day)s) AS p95_day,
           count(*) FILTER (
               WHERE f.sla_seconds > 0 AND (
                   (m.state = 'done' AND m.finished_at >= %(day)s AND m.duration > f.sla_seconds)
                   OR (m.state NOT IN ('done', 'cancelled')
                       AND m.received_at < %(now)s - f.sla_seconds * interval '1 second'))
           ) AS sla_breaches
      FROM integration_message m
      JOIN integration_flow f ON f.id = m.flow_id
     WHERE m.{column} IN %(keys)s
       -- every figure is about unsettled messages or the last day: years of history are not read
       AND (m.state NOT IN ('done', 'cancelled') OR m.started_at >= %(day)s OR m.finished_at >= %(day)s)
  GROUP BY m.{column}
"""


def sla_breach_domain(sla_seconds, now):
    """The messages of one contract that ``sla_breaches`` of FIGURES_QUERY counts, as a domain."""
    if sla_seconds <= 0:
        return [("id", "=", False)]
    return [
        "|",
        "&",
        "&",
        ("state", "=", "done"),
        ("finished_at", ">=", now - timedelta(days=1)),
        ("duration", ">", sla_seconds),
        "&",
        ("state", "not in", ("done", "cancelled")),
        ("received_at", "<", now - timedelta(seconds=sla_seconds)),
    ]


def _rate(failed, tried):
    return 100.0 * failed / tried if tried else 0.0


class IntegrationHealthFigures(models.AbstractModel):
    """Business health of a set of messages: what is late, failing, waiting for whom.

    Backends, plants and contracts inherit these figures; each says which
    message column groups its messages (``_health_message_field``) and which
    value of that column is its own (``_health_key``). All figures come from
    one grouped query per recordset.

    - *waiting*: received, queued, processing or failed (retrying), and the
      age of the oldest of them (the backlog age);
    - *exceptions*: messages waiting for a person, and since when;
    - *failure rate*: of the messages whose last attempt started in the
      window, the share that ended in exception, failure or dead;
    - *latency*: arrival to done, median and 95th percentile, of the
      messages done in the window;
    - *SLA breaches*: messages done in the last day later than their
      contract's SLA, plus unsettled messages already older than it;
    - *the last 7 days*: messages received and the p95 latency of those
      done, from the trends (``integration.message.trend``), which open
      behind them hour by hour.
    """

    _name = "integration.health.figures"
    _description = "Integration Health Figures"
    _health_message_field = None

    health_waiting_count = fields.Integer(
        string="In Progress",
        compute="_compute_health",
        help="Messages on their way, not applied or delivered yet: received, queued, processing, or "
        "failed and retrying by themselves. Messages waiting for a person are the exceptions.",
    )
    health_backlog_age_minutes = fields.Float(
        string="Oldest In Progress (min)",
        compute="_compute_health",
        help="Age, in minutes, of the oldest message in progress.",
    )
    health_exception_count = fields.Integer(
        string="Exceptions",
        compute="_compute_health",
        help="Messages waiting for a person to act: in exception, or dead after their retries.",
    )
    health_exception_age_hours = fields.Float(
        string="Oldest Exception (h)",
        compute="_compute_health",
        help="How long, in hours, the oldest exception has waited.",
    )
    health_dead_count = fields.Integer(
        string="Dead",
        compute="_compute_health",
        help="Of the exceptions, the messages whose technical retries were all spent.",
    )
    health_failure_rate_hour = fields.Float(
        string="Failure Rate 1h (%)",
        compute="_compute_health",
        help="Of the messages whose last attempt started in the last hour, the share that ended in "
        "exception, failed or dead.",
    )
    health_failure_rate_day = fields.Float(
        string="Failure Rate 24h (%)",
        compute="_compute_health",
        help="Of the messages whose last attempt started in the last 24 hours, the share that ended in "
        "exception, failed or dead.",
    )
    health_latency_p50_hour = fields.Float(
        string="p50 1h (s)",
        compute="_compute_health",
        help="Median seconds from arrival to done, of the messages done in the last hour.",
    )
    health_latency_p95_hour = fields.Float(
        string="p95 1h (s)",
        compute="_compute_health",
        help="Seconds from arrival to done within which 95% of the messages done in the last hour were "
        "applied.",
    )
    health_latency_p50_day = fields.Float(
        string="p50 24h (s)",
        compute="_compute_health",
        help="Median seconds from arrival to done, of the messages done in the last 24 hours.",
    )
    health_latency_p95_day = fields.Float(
        string="p95 24h (s)",
        compute="_compute_health",
        help="Seconds from arrival to done within which 95% of the messages done in the last 24 hours "
        "were applied.",
    )
    health_sla_breach_count = fields.Integer(
        string="SLA Breaches",
        compute="_compute_health",
        help="Messages done late in the last 24 hours, plus waiting ones already past their SLA.",
    )
    trend_message_count = fields.Integer(
        string="Messages (7 d)",
        compute="_compute_trend",
        help="Messages received in the last 7 days, whatever their state.",
    )
    trend_latency_p95 = fields.Float(
        string="p95 7 d (s)",
        compute="_compute_trend",
        help="95th percentile arrival-to-done latency, in seconds, of the messages received in the last "
        "7 days and done.",
    )
    health_status = fields.Selection(
        [("ok", "Healthy"), ("warning", "Late or failing"), ("critical", "Waiting for someone")],
        compute="_compute_health",
        help="Critical: messages wait for a person. Warning: late messages or failures in the last hour. "
        "OK: nothing to do.",
    )

    def _health_key(self):
        """The value of ``_health_message_field`` on this record's messages."""
        return self.id

    def _compute_health(self):
        now = fields.Datetime.now()
        figures = self._health_figures(now)
        for record in self:
            row = figures.get(record._health_key()) or {}
            oldest_waiting, oldest_exception = row.get("oldest_waiting"), row.get("oldest_exception")
            record.update(
                {
                    "health_waiting_count": row.get("waiting", 0),
                    "health_backlog_age_minutes": (now - oldest_waiting).total_seconds() / 60
                    if oldest_waiting
                    else 0.0,
                    "health_exception_count": row.get("exceptions", 0),
                    "health_exception_age_hours": (now - oldest_exception).total_seconds() / 3600
                    if oldest_exception
                    else 0.0,
                    "health_dead_count": row.get("dead", 0),
                    "health_failure_rate_hour": _rate(row.get("failed_hour", 0), row.get("tried_hour", 0)),
                    "health_failure_rate_day": _rate(row.get("failed_day", 0), row.get("tried_day", 0)),
                    "health_latency_p50_hour": row.get("p50_hour") or 0.0,
                    "health_latency_p95_hour": row.get("p95_hour") or 0.0,
                    "health_latency_p50_day": row.get("p50_day") or 0.0,
                    "health_latency_p95_day": row.get("p95_day") or 0.0,
                    "health_sla_breach_count": row.get("sla_breaches", 0),
                }
            )
            if record.health_exception_count or record.health_dead_count:
                record.health_status = "critical"
            elif record.health_sla_breach_count or record.health_failure_rate_hour:
                record.health_status = "warning"
            else:
                record.health_status = "ok"

    def _compute_trend(self):
        since = fields.Datetime.now() - timedelta(days=TREND_DAYS)
        keys = [key for key in (record._health_key() for record in self) if key]
        figures = self.env["integration.message.trend"]._figures_by(self._health_message_field, keys, since)
        for record in self:
            record.trend_message_count, record.trend_latency_p95 = figures.get(record._health_key(), (0, 0.0))

    def _health_figures(self, now):
        """``{key: {figure: value}}`` for these records at ``now``, from one grouped query."""
        keys = tuple(key for key in (record._health_key() for record in self) if key)
        if not keys:
            return {}
        self.env["integration.message"].flush_model()
        self.env["integration.flow"].flush_model(["sla_seconds"])
        self.env.cr.execute(
            FIGURES_QUERY.format(column=self._health_message_field),
            {
                "keys": keys,
                "now": now,
                "hour": now - timedelta(hours=1),
                "day": now - timedelta(days=1),
                "waiting": WAITING_STATES,
                "attempted": ATTEMPTED_STATES,
                "failed": FAILED_STATES,
            },
        )
        return {row["key"]: row for row in self.env.cr.dictfetchall()}

    def _health_action(self, xml_id, domain):
        """An action on the messages behind these figures."""
        self.ensure_one()
        self.check_access("read")  # a method is callable by anyone over RPC: no read, no action
        action = self.env["ir.actions.act_window"]._for_xml_id(xml_id)
        action["domain"] = [(self._health_message_field, "=", self._health_key()), *domain]
        return action

    def action_open_health_exceptions(self):
        """The exceptions and dead messages waiting for someone."""
        return self._health_action(
            "integration_base.integration_message_action", [("state", "in", ("exception", "dead"))]
        )

    def action_open_health_waiting(self):
        """The messages on their way, oldest first."""
        return self._health_action(
            "integration_base.integration_message_action", [("state", "in", WAITING_STATES)]
        )

    def action_open_recent_messages(self):
        """The messages received in the last 7 days (the trend figures' messages)."""
        since = fields.Datetime.now() - timedelta(days=TREND_DAYS)
        return self._health_action(
            "integration_base.integration_message_action", [("received_at", ">=", since)]
        )

    def action_open_trends(self):
        """Latency hour by hour over the last 7 days, for these figures' messages."""
        return self._health_action("integration_base.integration_message_trend_action_latency", [])
