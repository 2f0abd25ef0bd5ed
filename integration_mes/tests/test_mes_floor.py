# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The shop floor as it is: events late, early, repeated and reversed, units of its own.

Each test plays a sequence of MES messages through the engine (stored, then
applied by the dispatcher's drain job body) and checks what a production
controller checks: quantities, stock, time tracked, scrap and states.
"""

import itertools
from datetime import datetime, timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import MesCase

ENGINE_LOGGER = "odoo.addons.integration_base.models.integration_message"
SHIFT = [
    ("start", "2030-01-01T08:00:00Z"),
    ("pause", "2030-01-01T08:20:00Z"),
    ("resume", "2030-01-01T08:25:00Z"),
    ("finish", "2030-01-01T08:30:00Z"),
]


@tagged("post_install", "-at_install")
class TestMesFloor(MesCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._event_ids = itertools.count(1)
        cls.gearbox.tracking = "none"
        cls.Mapping.create(
            {
                "backend_id": cls.mes.id,
                "external_code": "DZ",
                "record_ref": cls.env.ref("uom.product_uom_dozen"),
            }
        )
        cls.Mapping.create(
            {
                "backend_id": cls.mes.id,
                "external_code": "EA",
                "record_ref": cls.env.ref("uom.product_uom_unit"),
            }
        )

    def _next_id(self, prefix):
        return f"{prefix}-{next(self._event_ids)}"

    def _operation(self, production, action, at):
        return self._receive(
            "mes.operation_event",
            {
                "event_id": self._next_id("OP"),
                "order_ref": production.name,
                "work_center": "WC-ASM",
                "action": action,
                "at": at,
            },
        )

    def _confirm(self, production, produced, final=False, **extra):
        payload = {
            "event_id": extra.pop("event_id", None) or self._next_id("EV"),
            "order_ref": production.name,
            "produced_qty": produced,
            "final": final,
        }
        return self._receive("mes.production_confirmation", {**payload, **extra})

    def _on_hand(self, product):
        return product.with_context(warehouse_id=self.plant_a.id).qty_available

    def _time_lines(self, workorder):
        return [(t.date_start, t.date_end) for t in workorder.time_ids.sorted("date_start")]

    def test_starting_an_operation_counts_nothing_produced(self):
        production = self._order(quantity=10)
        self._operation(production, "start", "2030-01-01T08:00:00Z")
        self.assertEqual(production.workorder_ids.state, "progress")
        self.assertEqual(production.qty_producing, 0, "started is not produced")
        self.assertFalse(production.move_raw_ids.filtered("picked"), "nor consumed")
        partial = self._confirm(production, 4)
        self.assertEqual(partial.state, "done", partial.error_message)
        self.assertEqual(production.qty_producing, 4)

    def test_time_tracking_follows_the_floor_in_any_arrival_order(self):
        expected = [
            (datetime(2030, 1, 1, 8, 0), datetime(2030, 1, 1, 8, 20)),
            (datetime(2030, 1, 1, 8, 25), datetime(2030, 1, 1, 8, 30)),
        ]
        for arrival in ([3, 0, 2, 1], [1, 3, 2, 0], [2, 1, 0, 3]):
            with self.subTest(arrival=arrival):
                production = self._order(quantity=2)
                for index in arrival:
                    message = self._operation(production, *SHIFT[index])
                    self.assertEqual(message.state, "done", message.error_message)
                workorder = production.workorder_ids
                self.assertEqual(self._time_lines(workorder), expected)
                self.assertEqual(workorder.duration, 25)
                self.assertEqual(workorder.state, "done")
                self.assertEqual(production.qty_producing, 0, "finishing an operation produces nothing")

    def test_operation_events_after_the_final_confirmation_still_count(self):
        """The final confirmation overtook the operation's finish: Odoo closed it, the floor's time wins."""
        started = fields.Datetime.now().replace(microsecond=0) - timedelta(minutes=40)
        finished = started + timedelta(minutes=30)
        production = self._order(quantity=2)
        self._operation(production, "start", started.isoformat() + "Z")
        self.assertEqual(self._confirm(production, 2, final=True).state, "done")
        workorder = production.workorder_ids
        self.assertEqual(
            (production.state, workorder.state), ("done", "done"), "Odoo finished it with the order"
        )
        finish = self._operation(production, "finish", finished.isoformat() + "Z")
        self.assertEqual(finish.state, "done", finish.error_message)
        self.assertEqual(self._time_lines(workorder), [(started, finished)])
        self.assertEqual((workorder.duration, workorder.date_finished), (30, finished))

    def test_a_paused_operation_has_no_open_time_line(self):
        production = self._order(quantity=2)
        self._operation(production, "start", "2030-01-01T08:00:00Z")
        workorder = production.workorder_ids
        self.assertEqual(self._time_lines(workorder), [(datetime(2030, 1, 1, 8, 0), False)], "running")
        self._operation(production, "pause", "2030-01-01T08:25:00Z")
        self.assertEqual(
            self._time_lines(workorder), [(datetime(2030, 1, 1, 8, 0), datetime(2030, 1, 1, 8, 25))]
        )
        self.assertEqual((workorder.duration, workorder.state), (25, "progress"))

    def test_unreported_components_are_backflushed_for_the_good_quantity(self):
        production = self._order(quantity=10)
        shafts, housings = self._on_hand(self.shaft), self._on_hand(self.housing)
        self._confirm(production, 4, consumption=[{"product": "SH-1", "quantity": 9}])
        final = self._confirm(
            production,
            5,
            final=True,
            consumption=[{"product": "SH-1", "quantity": 10}],
            scrap=[{"quantity": 1, "reason": "SCR-2"}],
        )
        self.assertEqual(final.state, "done", final.error_message)
        self.assertEqual((production.state, production.qty_produced), ("done", 9))
        self.assertEqual(self._on_hand(self.shaft), shafts - 19, "the MES's figures")
        self.assertEqual(self._on_hand(self.housing), housings - 9, "the bill of materials for 9 good")
        self.assertEqual(
            self._on_hand(self.gearbox), 9, "stock holds the good quantity; the scrap never entered it"
        )
        self.assertEqual(production.scrap_ids.mapped("scrap_qty"), [1])
        self.assertEqual(production.scrap_ids.scrap_reason_tag_ids, self.damaged)

    def test_reported_only_consumes_what_the_mes_reported(self):
        self.mes.mes_component_consumption = "reported"
        production = self._order(quantity=10)
        shafts, housings = self._on_hand(self.shaft), self._on_hand(self.housing)
        final = self._confirm(production, 10, final=True, consumption=[{"product": "SH-1", "quantity": 21}])
        self.assertEqual(final.state, "done", final.error_message)
        self.assertEqual(production.state, "done")
        self.assertEqual(self._on_hand(self.shaft), shafts - 21)
        self.assertEqual(self._on_hand(self.housing), housings, "unreported: not consumed")

    def test_partials_in_any_order_end_as_in_the_right_order(self):
        def play(order):
            production = self._order(quantity=10)
            confirmations = {
                "first": {"produced": 4, "consumption": [{"product": "SH-1", "quantity": 8}]},
                "second": {"produced": 3},
                "final": {"produced": 3, "final": True, "cumulative_qty": 10},
            }
            for name in order:
                values = dict(confirmations[name])
                message = self._confirm(production, values.pop("produced"), **values)
                self.assertEqual(message.state, "done", message.error_message)
            return production

        right = play(["first", "second", "final"])
        for order in (
            ["second", "first", "final"],
            ["final", "first", "second"],
            ["first", "final", "second"],
        ):
            with self.subTest(order=order):
                production = play(order)
                self.assertEqual(
                    (production.state, production.qty_produced, production.move_raw_ids.mapped("quantity")),
                    (right.state, right.qty_produced, right.move_raw_ids.mapped("quantity")),
                )
                self.assertFalse(production.production_group_id.production_ids - production, "no backorder")

    def test_an_early_final_keeps_the_order_open_until_the_rest_arrives(self):
        production = self._order(quantity=10)
        self._confirm(production, 6, final=True, cumulative_qty=10)
        self.assertEqual(
            (production.state, production.qty_producing, production.mes_closing_qty), ("progress", 6, 10)
        )
        self._confirm(production, 4)
        self.assertEqual((production.state, production.qty_produced), ("done", 10))

    def test_a_resent_confirmation_changes_nothing(self):
        production = self._order(quantity=10)
        first = self._confirm(production, 4, event_id="EV-SAME", scrap=[{"quantity": 1, "reason": "SCR-2"}])
        again = self._confirm(production, 4, event_id="EV-SAME", scrap=[{"quantity": 1, "reason": "SCR-2"}])
        self.assertEqual(first, again)
        self.assertEqual((production.qty_producing, len(production.scrap_ids)), (4, 1))

    def test_closure_with_nothing_produced_cancels_the_order(self):
        production = self._order(quantity=5)
        shafts = self._on_hand(self.shaft)
        final = self._confirm(production, 0, final=True, consumption=[{"product": "SH-1", "quantity": 2}])
        self.assertEqual(final.state, "done", final.error_message)
        self.assertEqual(production.state, "cancel")
        self.assertEqual(self._on_hand(self.shaft), shafts - 2, "what the MES used is gone all the same")
        self.assertEqual(self._on_hand(self.gearbox), 0)

    @mute_logger(ENGINE_LOGGER)
    def test_closure_with_nothing_produced_may_ask_a_person(self):
        self.mes.mes_empty_closure = "exception"
        production = self._order(quantity=5)
        final = self._confirm(production, 0, final=True)
        self.assertEqual((final.state, final.error_kind), ("exception", "business"))
        self.assertIn("with nothing produced", final.error_message)
        self.assertEqual(production.state, "confirmed", "nothing of it applied")

    @mute_logger(ENGINE_LOGGER)
    def test_quantities_in_the_mes_unit_are_converted(self):
        production = self._order(quantity=24)
        partial = self._confirm(
            production,
            1,
            unit="DZ",
            consumption=[{"product": "SH-1", "quantity": 2, "unit": "DZ"}],
            scrap=[{"quantity": 2, "reason": "SCR-2", "unit": "EA"}],
        )
        self.assertEqual(partial.state, "done", partial.error_message)
        self.assertEqual(production.qty_producing, 12, "1 DZ = 12 Units")
        self.assertEqual(production.move_raw_ids.filtered(lambda m: m.product_id == self.shaft).quantity, 24)
        self.assertEqual(production.scrap_ids.scrap_qty, 2)
        unknown = self._confirm(production, 1, unit="BOX")
        self.assertEqual((unknown.state, unknown.missing_code), ("exception", "BOX"))
        self.assertIn("BOX", unknown.error_message)
        self.assertEqual(production.qty_producing, 12, "nothing of it applied")

    def test_an_event_for_a_draft_order_waits_for_its_confirmation(self):
        production = self._order(quantity=5, confirm=False)
        early = self._confirm(production, 2)
        self.assertEqual(
            (early.state, early.missing_kind, early.missing_code), ("exception", "change", production.name)
        )
        self.assertIn("still a draft", early.error_message)
        production.action_confirm()
        self.assertEqual(early.state, "queued", "the confirmation of the order woke it")
        self._drain()
        self.assertEqual((early.state, production.qty_producing), ("done", 2))

    def test_downtime_end_before_its_start_pairs_and_unblocks(self):
        stop = {"downtime_id": "D-9", "work_center": "WC-ASM", "reason": "BRK"}
        ended = self._receive("mes.downtime", {**stop, "event_id": "DT-E", "end": "2030-01-01T08:40:00Z"})
        self.assertEqual(ended.state, "done", ended.error_message)
        started = self._receive("mes.downtime", {**stop, "event_id": "DT-S", "start": "2030-01-01T08:10:00Z"})
        self.assertEqual(started.state, "done", started.error_message)
        line = self.env["integration.binding"]._find_bound(self.mes, "mrp.workcenter.productivity", "D-9")
        self.assertEqual(
            (line.date_start, line.date_end), (datetime(2030, 1, 1, 8, 10), datetime(2030, 1, 1, 8, 40))
        )
        self.assertEqual(line.duration, 30)
        self.assertEqual(self.assembly.working_state, "normal", "the work centre is not left blocked")

    @mute_logger(ENGINE_LOGGER)
    def test_a_message_held_behind_an_exception_says_which_and_flows_when_it_is_cancelled(self):
        production = self._order(quantity=10)
        bad = self._confirm(production, 1, consumption=[{"product": "XX-404", "quantity": 1}])
        held = self.Message._ingest(
            self.mes,
            "mes.production_confirmation",
            {"event_id": "EV-HELD", "order_ref": production.name, "produced_qty": 2, "final": False},
        )[0]
        self._drain()
        self.assertEqual((bad.state, held.state), ("exception", "queued"))
        self.assertEqual(held.blocked_by_id, bad)
        self.assertIn(bad.display_name, held.waiting_reason)
        bad.action_cancel()
        self._drain()
        self.assertEqual((held.state, production.qty_producing), ("done", 2))
