# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CmmsCase

MESSAGE_LOGGER = "odoo.addons.integration_base.models.integration_message"


@tagged("post_install", "-at_install")
class TestCmmsSpareParts(CmmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.orderpoint = cls.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": cls.bearing.id,
                "warehouse_id": cls.plant_a.id,
                "location_id": cls.plant_a.lot_stock_id.id,
                "product_min_qty": 5,
                "product_max_qty": 10,
            }
        )

    def _usage(self, event_id, quantity, part="BRG-6204", usage_id="U-1", **line):
        return {
            "event_id": event_id,
            "usage_id": usage_id,
            "work_order_id": "WO-7001",
            "parts": [{"part": part, "quantity": quantity, **line}],
        }

    def _on_hand(self):
        return self.bearing.with_context(location=self.plant_a.lot_stock_id.id).qty_available

    def test_spare_parts_used_leave_stock_and_the_reordering_rule_asks_for_more(self):
        request = self._receive_work_order()
        self.assertEqual(self.orderpoint.qty_to_order, 0, "8 in stock, 5 at least: nothing to order")
        message = self._receive("cmms.spare_part_usage", self._usage("s1", 4))
        self.assertEqual(message.state, "done")
        self.assertEqual(self._on_hand(), 4)
        move = request.cmms_spare_part_move_ids
        self.assertEqual(
            (move.state, move.quantity, move.location_dest_id),
            ("done", 4, self.env.ref("integration_cmms.stock_location_maintenance")),
        )
        self.assertEqual(request.cmms_spare_part_cost, 50.0)
        self.orderpoint.invalidate_recordset()
        self.assertEqual(self.orderpoint.qty_to_order, 6, "4 left, 10 at most: order 6")

        self._receive("cmms.spare_part_usage", self._usage("s1-again", 4))
        self.assertEqual(self._on_hand(), 4, "the same usage line sent again is issued once")

    @mute_logger(MESSAGE_LOGGER)
    def test_a_part_short_in_stock_is_refused_in_words_and_nothing_is_issued(self):
        self._receive_work_order()
        message = self._receive(
            "cmms.spare_part_usage",
            {
                "event_id": "s1",
                "usage_id": "U-1",
                "work_order_id": "WO-7001",
                "parts": [{"part": "BRG-6204", "quantity": 3}, {"part": "BRG-6204", "quantity": 9}],
            },
        )
        self.assertEqual((message.state, message.error_kind), ("exception", "business"))
        self.assertIn("holds 5.0 Units of Bearing 6204", message.error_message)
        self.assertIn("Receive or count the part", message.error_message)
        self.assertEqual(self._on_hand(), 8, "not even the first line was issued")

    @mute_logger(MESSAGE_LOGGER)
    def test_a_usage_waits_for_its_work_order_and_an_unknown_part_for_its_mapping(self):
        early = self._receive("cmms.spare_part_usage", self._usage("s1", 1))
        self.assertEqual((early.state, early.missing_code), ("exception", "WO-7001"))
        unknown = self._receive("cmms.spare_part_usage", self._usage("s2", 1, part="SEAL-9", usage_id="U-2"))
        self._receive_work_order()
        self._dispatch(self.cmms)
        self.assertEqual(early.state, "done", "it went on by itself once the work order arrived")
        self.assertEqual((unknown.state, unknown.missing_code), ("exception", "SEAL-9"))
        self.assertEqual(self._on_hand(), 7)

    def test_parts_counted_in_another_unit_are_converted(self):
        self._receive_work_order()
        dozen = self.env.ref("uom.product_uom_dozen")
        self.bearing.uom_id = self.env.ref("uom.product_uom_unit")
        self.Mapping.create({"backend_id": self.cmms.id, "external_code": "DZ", "record_ref": dozen})
        self.env["stock.quant"]._update_available_quantity(self.bearing, self.plant_a.lot_stock_id, 16)
        self._receive("cmms.spare_part_usage", self._usage("s1", 2, unit="DZ"))
        self.assertEqual(self._on_hand(), 0)
