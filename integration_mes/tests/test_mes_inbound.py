# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Confirmations, operation events, downtime and quality holds from the MES change Odoo."""

from datetime import datetime

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import MesCase

ENGINE_LOGGER = "odoo.addons.integration_base.models.integration_message"


@tagged("post_install", "-at_install")
class TestProductionConfirmation(MesCase):
    def _confirm(self, production, event_id, produced, final=False, **extra):
        payload = {
            "event_id": event_id,
            "order_ref": production.name,
            "produced_qty": produced,
            "final": final,
        }
        return self._receive("mes.production_confirmation", {**payload, **extra})

    def _backorders(self, production):
        return production.production_group_id.production_ids - production

    def _move(self, production, product):
        return production.move_raw_ids.filtered(lambda m: m.product_id == product)

    def test_partial_then_final_confirmation(self):
        production = self._order(quantity=10)
        first = self._confirm(
            production,
            "EV-1",
            4,
            consumption=[{"product": "SH-1", "quantity": 9}],
            lots=["LOT-1"],
            scrap=[{"quantity": 1, "reason": "SCR-2"}],
            operator="Ana",
        )
        self.assertEqual(first.state, "done", first.error_message)
        self.assertEqual(production.qty_producing, 4)
        self.assertEqual(self._move(production, self.shaft).quantity, 9, "the MES's figure, not the BoM's 8")
        self.assertEqual(
            self._move(production, self.housing).quantity, 4, "unreported: the bill of materials"
        )
        self.assertEqual(production.lot_producing_ids.mapped("name"), ["LOT-1"])
        scrap = production.scrap_ids
        self.assertEqual(
            (scrap.scrap_qty, scrap.state, scrap.scrap_reason_tag_ids), (1, "done", self.damaged)
        )
        self.assertTrue(
            production.message_ids.filtered(lambda m: "Ana" in str(m.body)), "the operator is in the chatter"
        )
        self.assertEqual(set(first.link_ids.mapped("res_model")), {"mrp.production", "stock.scrap"})

        final = self._confirm(
            production, "EV-2", 6, final=True, consumption=[{"product": "SH-1", "quantity": 12}]
        )
        self.assertEqual(final.state, "done", final.error_message)
        self.assertEqual(production.state, "done")
        self.assertEqual(production.qty_produced, 10)
        self.assertEqual(self._move(production, self.shaft).quantity, 21)
        self.assertFalse(self._backorders(production), "no backorder")

    def test_same_event_twice_is_applied_once(self):
        production = self._order(quantity=10)
        first = self._confirm(production, "EV-1", 3)
        again = self._confirm(production, "EV-1", 3)
        self.assertEqual(first, again)
        self.assertEqual(production.qty_producing, 3)

    def test_short_final_confirmation_backorder_per_backend_setting(self):
        production = self._order(quantity=10)
        self._confirm(production, "EV-1", 6, final=True, lots=["LOT-6"])
        self.assertEqual((production.state, production.qty_produced), ("done", 6))
        self.assertEqual(self._backorders(production).product_qty, 4)

        self.mes.mes_create_backorder = False
        other = self._order(quantity=10)
        self._confirm(other, "EV-2", 6, final=True, lots=["LOT-7"])
        self.assertEqual(other.state, "done")
        self.assertFalse(self._backorders(other))

    @mute_logger(ENGINE_LOGGER)
    def test_overproduction_is_refused_unless_allowed(self):
        production = self._order(quantity=10)
        message = self._confirm(production, "EV-1", 11)
        self.assertEqual((message.state, message.error_kind), ("exception", "business"))
        self.assertIn("does not allow overproduction", message.error_message)
        self.assertEqual(production.qty_producing, 0, "nothing of it was applied")
        self.mes.mes_allow_overproduction = True
        message.action_retry()
        self._drain()
        self.assertEqual((message.state, production.qty_producing), ("done", 11))

    @mute_logger(ENGINE_LOGGER)
    def test_unknown_order_and_unmapped_component_wait_for_a_person(self):
        ghost = self._receive(
            "mes.production_confirmation",
            {"event_id": "EV-9", "order_ref": "WH/MO/99999", "produced_qty": 1, "final": False},
        )
        self.assertEqual(ghost.state, "exception")
        self.assertIn("WH/MO/99999", ghost.error_message)
        production = self._order(quantity=10)
        message = self._confirm(production, "EV-1", 1, consumption=[{"product": "XX-404", "quantity": 1}])
        self.assertEqual((message.state, message.missing_code), ("exception", "XX-404"))

    def test_a_confirmation_for_an_order_odoo_does_not_know_yet_waits_for_it(self):
        early = self._receive(
            "mes.production_confirmation",
            {"event_id": "EV-E", "order_ref": "PLA/MO/EARLY", "produced_qty": 2, "final": False},
        )
        self.assertEqual(
            (early.state, early.missing_kind, early.missing_code), ("exception", "record", "PLA/MO/EARLY")
        )
        self.assertIn("which Odoo does not have yet", early.missing_label)
        self.assertFalse(early.can_retry, "nothing to retry until the order exists")
        other = self._order(quantity=3)
        self.assertEqual(early.state, "exception", "another order does not wake it")
        production = self.env["mrp.production"].create(
            {
                "name": "PLA/MO/EARLY",
                "product_id": self.gearbox.id,
                "product_qty": 10,
                "bom_id": self.bom.id,
                "picking_type_id": self.plant_a.manu_type_id.id,
            }
        )
        production.action_confirm()
        self.assertEqual(early.state, "queued", "the order's creation woke the message")
        self._drain()
        self.assertEqual((early.state, production.qty_producing, other.qty_producing), ("done", 2, 0))


@tagged("post_install", "-at_install")
class TestQualityHold(MesCase):
    def _hold(self, event_id, action, **target):
        return self._receive(
            "mes.quality_hold",
            {"event_id": event_id, "hold_id": "QH-1", "action": action, "reason": "Leak", **target},
        )

    @mute_logger(ENGINE_LOGGER)
    def test_held_order_cannot_be_done_until_released(self):
        production = self._order(quantity=2)
        self.assertEqual(self._hold("H-1", "hold", order_ref=production.name).state, "done")
        self.assertTrue(production.mes_on_hold)
        self.assertEqual(production.mes_hold_ids.reason, "Leak")
        production.qty_producing = 2
        with self.assertRaisesRegex(UserError, "quality hold"):
            production.button_mark_done()
        final = self._receive(
            "mes.production_confirmation",
            {
                "event_id": "EV-1",
                "order_ref": production.name,
                "produced_qty": 0,
                "final": True,
                "lots": ["L2"],
            },
        )
        self.assertEqual(final.state, "exception")
        self.assertIn("quality hold", final.error_message)
        self._hold("H-2", "release")
        self.assertFalse(production.mes_on_hold)
        self.assertEqual(
            (final.state, production.state),
            ("done", "done"),
            "the release retried the waiting confirmation, and the same drain applied it",
        )
        self.assertIn("released", final.transition_log)

    def test_held_lot_holds_the_orders_producing_it(self):
        production = self._order(quantity=2)
        self._receive(
            "mes.production_confirmation",
            {
                "event_id": "EV-1",
                "order_ref": production.name,
                "produced_qty": 1,
                "final": False,
                "lots": ["L9"],
            },
        )
        self._hold("H-1", "hold", lot="L9")
        self.assertTrue(production.mes_on_hold)

    @mute_logger(ENGINE_LOGGER)
    def test_release_of_an_unknown_hold_is_an_exception(self):
        message = self._hold("H-1", "release", order_ref="WH/MO/1")
        self.assertEqual(message.state, "exception")
        self.assertIn("never sent", message.error_message)


@tagged("post_install", "-at_install")
class TestOperationAndDowntime(MesCase):
    def _event(self, production, event_id, action, at):
        return self._receive(
            "mes.operation_event",
            {
                "event_id": event_id,
                "order_ref": production.name,
                "work_center": "WC-ASM",
                "action": action,
                "at": at,
            },
        )

    def test_operation_lifecycle_uses_the_plant_timestamps(self):
        production = self._order(quantity=2)
        workorder = production.workorder_ids
        self._event(production, "OP-1", "start", "2030-01-01T08:00:00Z")
        self.assertEqual(workorder.state, "progress")
        self._event(production, "OP-2", "pause", "2030-01-01T08:20:00Z")
        self._event(production, "OP-3", "resume", "2030-01-01T09:25:00+01:00")
        finish = self._event(production, "OP-4", "finish", "2030-01-01T08:30:00Z")
        self.assertEqual(finish.state, "done", finish.error_message)
        self.assertEqual(workorder.state, "done")
        times = workorder.time_ids.sorted("date_start")
        self.assertEqual(
            [(t.date_start, t.date_end) for t in times],
            [
                (datetime(2030, 1, 1, 8, 0), datetime(2030, 1, 1, 8, 20)),
                (datetime(2030, 1, 1, 8, 25), datetime(2030, 1, 1, 8, 30)),
            ],
        )
        self.assertEqual(workorder.duration, 25)
        self.assertEqual(
            len(self._outbound(production)), 1, "only the order itself was sent: no echo to the MES"
        )

    @mute_logger(ENGINE_LOGGER)
    def test_event_on_a_finished_operation_is_an_exception(self):
        production = self._order(quantity=2)
        self._event(production, "OP-1", "finish", "2030-01-01T08:00:00Z")
        late = self._event(production, "OP-2", "start", "2030-01-01T09:00:00Z")
        self.assertEqual(late.state, "exception")
        self.assertIn("is already finished: it cannot", late.error_message)
        self.assertEqual((late.error_definitive, late.can_retry), (True, False), "retrying cannot help")

    def test_downtime_is_a_productivity_loss_and_warns_the_planner_once(self):
        production = self._order(quantity=2)
        self._event(production, "OP-1", "start", "2030-01-01T08:00:00Z")
        stop = {
            "event_id": "DT-1",
            "downtime_id": "D-1",
            "work_center": "WC-ASM",
            "reason": "BRK",
            "start": "2030-01-01T08:10:00Z",
            "comment": "Hydraulic leak",
        }
        self.assertEqual(self._receive("mes.downtime", stop).state, "done")
        Binding = self.env["integration.binding"]
        loss = Binding._find_bound(self.mes, "mrp.workcenter.productivity", "D-1")
        self.assertEqual(
            (loss.loss_id, loss.date_start, loss.date_end),
            (self.breakdown, datetime(2030, 1, 1, 8, 10), False),
        )
        self.assertEqual(loss.description, "Hydraulic leak")
        self.assertEqual(self.assembly.working_state, "blocked")
        activities = production.activity_ids.filtered(lambda a: "Assembly is down" in (a.summary or ""))
        self.assertEqual(len(activities), 1)
        ended = self._receive("mes.downtime", {**stop, "event_id": "DT-2", "end": "2030-01-01T08:40:00Z"})
        self.assertEqual(ended.state, "done")
        self.assertEqual(loss.date_end, datetime(2030, 1, 1, 8, 40))
        self.assertEqual(loss.duration, 30)
        self.assertEqual(
            Binding.search_count([("backend_id", "=", self.mes.id), ("external_id", "=", "D-1")]),
            1,
            "the end closed the line its start opened",
        )
        self.assertEqual(
            len(production.activity_ids.filtered(lambda a: "Assembly is down" in (a.summary or ""))), 1
        )
