# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools
from odoo.tools import SQL

from .integration_health_figures import ATTEMPTED_STATES, FAILED_STATES

LATENCY_HELP = (
    "Seconds from the message's arrival to done (its Duration), for done messages only: a message "
    "not done yet, or cancelled, has no latency and counts in no latency figure."
)
FAILURE_HELP = (
    "A message counts as failed when its last attempt ended in an error: in exception (waits for a "
    "person), failed (a technical error, retried by itself later) or dead (retries spent). A message "
    "that failed once and was then done counts as done."
)

# How each measure aggregates the rows of a group.
MEASURES = {
    "latency_avg": "AVG(%(latency)s)",
    "latency_p50": "percentile_cont(0.5) WITHIN GROUP (ORDER BY %(latency)s)",
    "latency_p95": "percentile_cont(0.95) WITHIN GROUP (ORDER BY %(latency)s)",
    "failure_count": "COUNT(*) FILTER (WHERE %(state)s IN %(failed)s)",
    "failure_rate": "100.0 * COUNT(*) FILTER (WHERE %(state)s IN %(failed)s)"
    " / NULLIF(COUNT(*) FILTER (WHERE %(state)s IN %(attempted)s), 0)",
}


class IntegrationMessageTrend(models.Model):
    """Messages as figures for graphs and pivots: one row per message, read-only.

    The message list answers "which messages?"; this view answers "how many,
    how fast, how often failing, per hour, plant, backend or contract?". Each
    row is one message (same id), with its latency in seconds; its measures
    are aggregated over the rows of each group the user picks, in SQL
    (``_read_group_select``), so that the p95 of a day or a plant is the p95
    of that day's or that plant's messages, never an average of hourly p95s,
    and a failure rate is a ratio over the group, never a sum of rates. The
    definitions of "attempted" and "failed" are the health figures' (see
    ``integration_health_figures``), so that the dashboards and these graphs
    agree.

    Every action on this model filters on ``received_at`` (indexed), so that
    a store of millions of messages is read one window at a time.
    """

    _name = "integration.message.trend"
    _description = "Integration Message Trend"
    _auto = False
    _order = "received_at desc, id desc"
    _rec_name = "message_id"
    # Reading the view flushes the messages' pending writes first.
    _depends = {
        "integration.message": [
            "received_at",
            "company_id",
            "warehouse_id",
            "backend_id",
            "flow_id",
            "flow_code",
            "direction",
            "state",
            "error_kind",
            "duration",
        ]
    }

    message_id = fields.Many2one(
        "integration.message", readonly=True, help="The message this row stands for."
    )
    received_at = fields.Datetime(string="Received", readonly=True, help="When the message arrived.")
    company_id = fields.Many2one("res.company", readonly=True, help="The company of the message's backend.")
    warehouse_id = fields.Many2one(
        "stock.warehouse", string="Plant", readonly=True, help="The plant of the message's backend."
    )
    backend_id = fields.Many2one("integration.backend", readonly=True, help="The backend of the message.")
    flow_id = fields.Many2one(
        "integration.flow", string="Contract", readonly=True, help="The contract version the message follows."
    )
    flow_code = fields.Char(
        string="Contract Code",
        readonly=True,
        help="The message type, every version of its contract together.",
    )
    direction = fields.Selection(
        selection="_selection_direction", readonly=True, help="Inbound: sent to Odoo. Outbound: sent by Odoo."
    )
    state = fields.Selection(
        selection="_selection_state", readonly=True, help="Where the message stands now."
    )
    error_kind = fields.Selection(
        selection="_selection_error_kind",
        readonly=True,
        help="What kind of error the last failure of the message was.",
    )
    latency = fields.Float(string="Latency (s)", readonly=True, aggregator=None, help=LATENCY_HELP)
    # The measures. Each row holds the message's own value (the p95 of one message is its
    # latency); grouped, each is computed over the group's rows by _read_group_select, whatever
    # aggregator is asked. The aggregators declared are the web client's standard ones (its
    # sample data knows no other); the failure rate's is even exact by itself (an average of
    # 100 or 0 over the messages whose attempts ended).
    latency_avg = fields.Float(
        string="Latency avg (s)", readonly=True, aggregator="avg", help="Average latency.\n" + LATENCY_HELP
    )
    latency_p50 = fields.Float(
        string="Latency p50 (s)",
        readonly=True,
        aggregator="avg",
        help="Median latency: half of the messages done took longer.\n" + LATENCY_HELP,
    )
    latency_p95 = fields.Float(
        string="Latency p95 (s)",
        readonly=True,
        aggregator="avg",
        help="95th percentile latency: one message done in twenty took longer.\n" + LATENCY_HELP,
    )
    failure_count = fields.Integer(
        string="Failures", readonly=True, aggregator="sum", help="How many messages failed.\n" + FAILURE_HELP
    )
    failure_rate = fields.Float(
        string="Failure rate (%)",
        readonly=True,
        aggregator="avg",
        help="Failed messages out of those whose attempts ended (done, exception, failed or dead), "
        "in percent; messages still waiting, being processed or cancelled count in neither.\n" + FAILURE_HELP,
    )

    def _message_selection(self, fname):
        """The choices of the message's own field ``fname``, in the user's language."""
        return self.env["integration.message"]._fields[fname]._description_selection(self.env)

    def _selection_direction(self):
        return self._message_selection("direction")

    def _selection_state(self):
        return self._message_selection("state")

    def _selection_error_kind(self):
        return self._message_selection("error_kind")

    def _measure_sql(self, fname, query):
        """The SQL aggregate of measure ``fname`` over a group's rows, or ``None`` if not a measure."""
        if fname not in MEASURES:
            return None
        return SQL(
            MEASURES[fname],
            latency=self._field_to_sql(self._table, "latency", query),
            state=self._field_to_sql(self._table, "state", query),
            failed=FAILED_STATES,
            attempted=ATTEMPTED_STATES,
        )

    def _read_group_select(self, aggregate_spec, query):
        # A measure says how it aggregates, whatever function is asked for ('latency_p95:avg'
        # or 'latency_p95' from a sorted group): a p95 is never averaged, a rate never summed.
        measure = self._measure_sql(aggregate_spec.split(":")[0], query)
        return measure if measure is not None else super()._read_group_select(aggregate_spec, query)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """CREATE VIEW %s AS (
                    SELECT m.id, m.id AS message_id, m.received_at, m.company_id, m.warehouse_id,
                           m.backend_id, m.flow_id, m.flow_code, m.direction, m.state, m.error_kind,
                           l.latency, l.latency AS latency_avg, l.latency AS latency_p50,
                           l.latency AS latency_p95,
                           (m.state IN %s)::int AS failure_count,
                           CASE WHEN m.state IN %s THEN 100.0
                                WHEN m.state IN %s THEN 0.0 END AS failure_rate
                      FROM integration_message m
                     CROSS JOIN LATERAL (SELECT CASE WHEN m.state = 'done' THEN m.duration END AS latency) l
                )""",
                SQL.identifier(self._table),
                FAILED_STATES,
                FAILED_STATES,
                ATTEMPTED_STATES,
            )
        )

    @api.model
    def _figures_by(self, fname, keys, since):
        """``{key: (messages, latency p95)}`` of the messages received since ``since``, by ``fname``."""
        if not keys:
            return {}
        rows = self._read_group(
            [(fname, "in", keys), ("received_at", ">=", since)], [fname], ["__count", "latency_p95:avg"]
        )
        return {key.id: (count, p95 or 0.0) for key, count, p95 in rows}

    def action_open_message(self):
        """The message behind this row."""
        self.ensure_one()
        self.check_access("read")  # a method is callable by anyone over RPC: no read, no action
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Message"),
            "res_model": "integration.message",
            "res_id": self.message_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
