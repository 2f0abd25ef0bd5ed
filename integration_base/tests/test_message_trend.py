# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The trends' figures on a known set of messages, grouped as the graph and the pivot group them."""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from ..models.integration_message import engine
from .common import IntegrationCase

# Latencies in seconds of the done messages, by plant and hour (H1, then H2 an hour later).
DONE = {
    ("A", 1): (1, 2, 3, 4, 100),
    ("A", 2): (10, 20),
    ("B", 1): (5, 6),
    ("B", 2): (7,),
}
# The other messages, by plant and hour: failures (exception, failed, dead) and messages whose
# attempts have not ended (queued, cancelled), which count in no rate.
OTHERS = {
    ("A", 1): ("exception",),
    ("A", 2): ("dead", "failed", "queued", "cancelled"),
    ("B", 2): ("dead",),
}


@tagged("post_install", "-at_install")
class TestMessageTrend(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Trend = cls.env["integration.message.trend"].with_context(tz="UTC")
        cls.backend_a = cls._create_backend("trend-a", plant=cls.plant_a)
        cls.backend_b = cls._create_backend("trend-b", plant=cls.plant_b)
        cls.flow_a = cls._create_contract(cls.backend_a)
        cls.flow_b = cls._create_contract(cls.backend_b)
        # H1 and H2: two whole hours in UTC, a few hours ago, each message 10 minutes into its hour.
        cls.h1 = fields.Datetime.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
        cls.h2 = cls.h1 + timedelta(hours=1)
        cls.serial = 0
        plants = {"A": (cls.backend_a, cls.flow_a), "B": (cls.backend_b, cls.flow_b)}
        for (plant, hour), latencies in DONE.items():
            for latency in latencies:
                cls._message(*plants[plant], "done", cls._hour(hour), latency)
        for (plant, hour), states in OTHERS.items():
            for state in states:
                cls._message(*plants[plant], state, cls._hour(hour))
        # Eight days ago: in no window of the last 7 days.
        cls._message(cls.backend_a, cls.flow_a, "done", cls.h1 - timedelta(days=8), 1000)
        cls.domain = [("backend_id", "in", (cls.backend_a | cls.backend_b).ids)]
        cls.week = [*cls.domain, ("received_at", ">=", fields.Datetime.now() - timedelta(days=7))]

    @classmethod
    def _create_contract(cls, backend):
        return cls.env["integration.flow"].create(
            {"name": "Trend", "code": "trend.flow", "backend_id": backend.id, "sla_seconds": 50}
        )

    @classmethod
    def _hour(cls, hour):
        return (cls.h1 if hour == 1 else cls.h2) + timedelta(minutes=10)

    @classmethod
    def _message(cls, backend, flow, state, received_at, latency=None):
        cls.serial += 1
        values = {
            "backend_id": backend.id,
            "flow_id": flow.id,
            "flow_code": flow.code,
            "direction": "inbound",
            "payload": "{}",
            "idempotency_key": f"trend-{cls.serial}",
            "state": state,
            "received_at": received_at,
        }
        if latency is not None:
            values["finished_at"] = received_at + timedelta(seconds=latency)
        return engine(cls.env["integration.message"]).create(values)

    def _graph(self, groupby, model=None):
        """What the graph and the list ask for: ``formatted_read_group`` with the fields' aggregators.

        Returns ``[(group label, (count, p95, failure rate, failures))]`` over the last 7 days.
        """
        groups = (self.Trend if model is None else model).formatted_read_group(
            self.week, [groupby], ["__count", "latency_p95:avg", "failure_rate:avg", "failure_count:sum"]
        )
        return [
            (
                group[groupby][0] if groupby.endswith(":hour") else group[groupby][1],
                (
                    group["__count"],
                    group["latency_p95:avg"],
                    group["failure_rate:avg"],
                    group["failure_count:sum"],
                ),
            )
            for group in groups
        ]

    def assertFigures(self, actual, expected):
        self.assertEqual([label for label, _figures in actual], [label for label, _figures in expected])
        for (label, (count, p95, rate, failures)), (_label, figures) in zip(expected, actual, strict=True):
            with self.subTest(group=label):
                self.assertEqual((figures[0], figures[3]), (count, failures))
                self.assertAlmostEqual(figures[1], p95)
                self.assertAlmostEqual(figures[2], rate)

    def test_by_plant_each_figure_is_the_plants_own(self):
        # Plant A done: 1 2 3 4 10 20 100, p95 at rank 0.95 * 6 = 5.7: 20 + 0.7 * 80 = 76 (the hours'
        # p95 are 80.8 and 19.5). Attempts ended: 7 done, exception, dead, failed: 3 of 10 failed
        # (the hours' rates are 1/6 and 2/4); queued and cancelled count in neither.
        # Plant B done: 5 6 7, p95 at 1.9: 6.9; 1 of 4 failed. The old message is in no window.
        self.assertFigures(
            self._graph("warehouse_id"), [("Plant A", (12, 76.0, 30.0, 3)), ("Plant B", (4, 6.9, 25.0, 1))]
        )

    def test_by_hour_each_figure_is_the_hours_own(self):
        # H1 done: 1 2 3 4 5 6 100, p95 at 5.7: 6 + 0.7 * 94 = 71.8; 1 of 8 failed.
        # H2 done: 7 10 20, p95 at 1.9: 10 + 0.9 * 10 = 19; dead, failed, dead: 3 of 6 failed.
        (h1, h1_figures), (h2, h2_figures) = self._graph("received_at:hour")
        self.assertFigures(
            [("H1", h1_figures), ("H2", h2_figures)], [("H1", (8, 71.8, 12.5, 1)), ("H2", (8, 19.0, 50.0, 3))]
        )
        self.assertEqual((h1, h2), (str(self.h1), str(self.h2)), "hours in UTC")

    def test_pivot_total_is_the_p95_of_all_messages(self):
        # What the pivot asks: its rows and the total in one query (GROUPING SETS). All done:
        # 1 2 3 4 5 6 7 10 20 100 (and 1000 eight days ago), p95 at 0.95 * 10 = 9.5: 100 + 0.5 * 900.
        by_plant, total = self.Trend.formatted_read_grouping_sets(
            self.domain, [["warehouse_id"], []], ["__count", "latency_p95:avg", "failure_rate:avg"]
        )
        self.assertEqual(len(by_plant), 2)
        [total] = total
        self.assertEqual(total["__count"], 17)
        self.assertAlmostEqual(total["latency_p95:avg"], 550.0)
        self.assertAlmostEqual(total["failure_rate:avg"], 100 * 4 / 15)

    def test_groups_sorted_by_a_measure(self):
        # A column header clicked in a grouped list sorts the groups by the measure itself.
        groups = self.Trend.formatted_read_group(
            self.week, ["warehouse_id"], ["latency_avg:avg", "latency_p95:avg"], order="latency_p95 desc"
        )
        self.assertEqual([group["warehouse_id"][0] for group in groups], [self.plant_a.id, self.plant_b.id])
        self.assertAlmostEqual(groups[0]["latency_avg:avg"], 140 / 7)
        self.assertAlmostEqual(groups[0]["latency_p95:avg"], 76.0)

    def test_one_row_per_message(self):
        row = self.Trend.search([*self.domain, ("state", "=", "done")], order="latency desc", limit=1)
        self.assertEqual((row.message_id.id, row.latency, row.latency_p95), (row.id, 1000.0, 1000.0))
        failed = self.Trend.search([*self.domain, ("failure_count", "=", 1)])
        self.assertEqual(sorted(failed.mapped("state")), ["dead", "dead", "exception", "failed"])
        self.assertEqual(set(failed.mapped("failure_rate")), {100.0})
        action = row.action_open_message()
        self.assertEqual((action["res_model"], action["res_id"]), ("integration.message", row.message_id.id))

    def test_users_see_their_plants_and_companies_only(self):
        self.integration_user.integration_warehouse_ids = self.plant_b
        trend = self.Trend.with_user(self.integration_user)
        self.assertEqual(trend.search(self.domain).warehouse_id, self.plant_b)
        self.assertEqual([label for label, _figures in self._graph("warehouse_id", trend)], ["Plant B"])
        plant_c = self._create_plant("Plant C", "PLC")
        self.integration_user.integration_warehouse_ids = plant_c
        self.assertFalse(trend.search_count(self.domain))
        self.assertFalse(self._graph("warehouse_id", trend))
        other_company = self.env["res.company"].create({"name": "Other Company"})
        stranger = new_test_user(
            self.env,
            login="trend_other_company",
            groups="integration_base.group_integration_user",
            company_id=other_company.id,
            company_ids=[other_company.id],
        )
        self.assertFalse(self.Trend.with_user(stranger).search_count(self.domain))

    def test_contract_and_backend_figures_of_the_week(self):
        # Contract A, last 7 days: 12 messages, p95 76 s (the message of 8 days ago is out).
        self.assertEqual((self.flow_a.trend_message_count, self.flow_b.trend_message_count), (12, 4))
        self.assertAlmostEqual(self.flow_a.trend_latency_p95, 76.0)
        self.assertAlmostEqual(self.backend_b.trend_latency_p95, 6.9)
        plant_b = self.env["integration.plant.health"].search([("warehouse_id", "=", self.plant_b.id)])
        self.assertAlmostEqual(plant_b.trend_latency_p95, 6.9)
        Message = self.env["integration.message"]
        self.assertEqual(Message.search_count(self.flow_a.action_open_recent_messages()["domain"]), 12)
        action = self.flow_a.action_open_trends()
        self.assertEqual(action["res_model"], "integration.message.trend")
        self.assertEqual(
            self.Trend.search_count(action["domain"]), 13, "the contract's messages (7 d by filter)"
        )
        # SLA 50 s: the 100 s message, done in the last day, and the exception, dead, failed and
        # queued ones, waiting for 2 to 3 hours; not the cancelled one, nor the 1000 s one of 8 days ago.
        self.assertEqual(self.flow_a.health_sla_breach_count, 5)
        breaches = Message.search(self.flow_a.action_open_sla_breaches()["domain"])
        self.assertEqual(len(breaches), self.flow_a.health_sla_breach_count)


@tagged("post_install", "-at_install")
class TestMessageTrendViews(HttpCase):
    def test_trend_views_load(self):
        Trend = self.env["integration.message.trend"]
        views = Trend.get_views([(False, "graph"), (False, "pivot"), (False, "list"), (False, "search")])
        self.assertEqual(set(views["views"]), {"graph", "pivot", "list", "search"})
        measures = {
            name
            for name, field in views["models"]["integration.message.trend"]["fields"].items()
            if field.get("aggregator")
        }
        self.assertEqual(
            measures, {"latency_avg", "latency_p50", "latency_p95", "failure_count", "failure_rate"}
        )
        for model in ("integration.flow", "integration.backend", "integration.plant.health"):
            arch = self.env[model].get_views([(False, "form")])["views"]["form"]["arch"]
            self.assertIn('name="action_open_trends"', arch, model)
        for action in (
            "integration_message_trend_action",
            "integration_message_trend_action_latency",
            "integration_message_trend_action_failure",
        ):
            self.browser_js(
                f"/odoo/action-integration_base.{action}",
                "console.log('test successful')",
                "odoo.isReady === true && !!document.querySelector('.o_action_manager .o_graph_renderer')",
                login="admin",
                timeout=120,
            )
