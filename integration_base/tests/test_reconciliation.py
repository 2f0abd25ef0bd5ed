# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import datetime

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.integration_base.exceptions import PayloadValidationError
from odoo.addons.integration_base.models.integration_processor_stock_snapshot import STOCK_SNAPSHOT_SCHEMA

from .common import IntegrationCase

# Shelf A-01 holds, in Odoo: Widget 10, Gear 6 (+4 in its bin), Bolt 5.
SNAPSHOT = {
    "snapshot_id": "SNAP-1",
    "taken_at": "2025-03-01T06:00:00+01:00",
    "lines": [
        {"product": "W-1", "location": "A-01", "quantity": 10},
        # Gear counted on two pallets: 5 + 3 = 8, two less than Odoo's 10.
        {"product": "G-1", "location": "A-01", "quantity": 5},
        {"product": "G-1", "location": "A-01", "quantity": 3},
        {"product": "X-999", "location": "A-01", "quantity": 3},
        {"product": "W-1", "location": "Z-99", "quantity": 1},
    ],
}


@tagged("post_install", "-at_install")
class TestStockReconciliation(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.flow_owner = cls.integration_manager
        cls.backend = cls._create_backend("wms-a", system_type="wms", plant=cls.plant_a)
        cls.backend.action_activate()
        cls.flow = cls.env["integration.flow"].create(
            {
                "name": "Stock snapshot",
                "code": "stock.snapshot",
                "backend_id": cls.backend.id,
                "schema": json.dumps(STOCK_SNAPSHOT_SCHEMA),
                "processor": "integration.processor.stock.snapshot",
                "owner_id": cls.flow_owner.id,
                "idempotency_key_pointer": "/snapshot_id",
            }
        )
        cls.flow.action_activate()
        Location = cls.env["stock.location"]
        cls.stock = cls.plant_a.lot_stock_id
        cls.shelf = Location.create({"name": "Shelf 1", "location_id": cls.stock.id})
        cls.bin = Location.create({"name": "Bin 1", "location_id": cls.shelf.id})
        cls.widget, cls.gear, cls.bolt, cls.nut = cls.env["product.product"].create(
            [
                {"name": name, "default_code": code, "is_storable": True}
                for name, code in (("Widget", "W"), ("Gear", "G"), ("Bolt", "B"), ("Nut", "N"))
            ]
        )
        cls._set_stock(cls.widget, cls.shelf, 10)
        cls._set_stock(cls.widget, cls.stock, 100)  # outside the snapshot's location
        cls._set_stock(cls.gear, cls.shelf, 6)
        cls._set_stock(cls.gear, cls.bin, 4)
        cls._set_stock(cls.bolt, cls.shelf, 5)
        cls.env["integration.mapping"].create(
            [
                {
                    "backend_id": cls.backend.id,
                    "external_code": code,
                    "record_ref": f"{record._name},{record.id}",
                }
                for code, record in (
                    ("W-1", cls.widget),
                    ("G-1", cls.gear),
                    ("B-1", cls.bolt),
                    ("A-01", cls.shelf),
                )
            ]
        )
        cls.operator_a = new_test_user(
            cls.env, login="recon_operator_a", groups="integration_base.group_integration_operator"
        )
        cls.operator_a.integration_warehouse_ids = cls.plant_a

    @classmethod
    def _set_stock(cls, product, location, quantity):
        cls.env["stock.quant"]._update_available_quantity(product, location, quantity)

    def _receive(self, snapshot=None):
        message, created = self.env["integration.message"]._ingest(
            self.backend, "stock.snapshot", SNAPSHOT if snapshot is None else snapshot
        )
        self.assertTrue(created)
        self._dispatch(self.backend)
        reconciliation = self.env["integration.reconciliation"].search([("message_id", "=", message.id)])
        return message, reconciliation

    def _figures(self, reconciliation):
        self.env.invalidate_all()
        return [
            (
                line.product_id,
                line.location_id,
                line.external_product_code,
                line.external_qty,
                line.odoo_qty,
                line.difference,
                line.difference_percent,
                line.status,
            )
            for line in reconciliation.line_ids
        ]

    def _no_product(self):
        return self.env["product.product"]

    def test_snapshot_with_known_discrepancies(self):
        message, reconciliation = self._receive()
        self.assertEqual(message.state, "done")
        self.assertEqual(len(reconciliation), 1)
        self.assertEqual(
            [(link.res_model, link.res_id) for link in message.link_ids],
            [("integration.reconciliation", reconciliation.id)],
        )
        self.assertEqual(reconciliation.name, "wms-a/SNAP-1")
        self.assertEqual(reconciliation.warehouse_id, self.plant_a)
        self.assertEqual(reconciliation.taken_at, datetime(2025, 3, 1, 5, 0))
        self.assertTrue(reconciliation.compared_at)
        self.assertEqual(reconciliation.state, "to_review")
        no_location = self.env["stock.location"]
        self.assertCountEqual(
            self._figures(reconciliation),
            [
                (self.widget, self.shelf, "W-1", 10.0, 10.0, 0.0, 0.0, "match"),
                (self.gear, self.shelf, "G-1", 8.0, 10.0, -2.0, -20.0, "discrepancy"),
                (self._no_product(), self.shelf, "X-999", 3.0, 0.0, 0.0, 0.0, "unmapped"),
                (self.widget, no_location, "W-1", 1.0, 0.0, 0.0, 0.0, "unmapped"),
                # Odoo holds bolts on the shelf; the snapshot does not mention them.
                (self.bolt, self.shelf, False, 0.0, 5.0, -5.0, -100.0, "discrepancy"),
            ],
        )
        self.assertEqual(
            (reconciliation.line_count, reconciliation.discrepancy_count, reconciliation.unmapped_count),
            (5, 2, 2),
        )
        self.assertEqual(
            reconciliation.line_ids.filtered(
                lambda line: line.external_product_code == "X-999"
            ).external_location_code,
            "A-01",
        )

    def test_discrepancy_above_threshold_gives_one_activity_to_the_owner(self):
        _message, reconciliation = self._receive()
        activity = reconciliation.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.flow_owner)
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertEqual(activity.summary, "Reconciliation: 2 discrepancies above 0%")
        self.assertIn("Worst: [B] Bolt at PLA/Stock/Shelf 1, external 0, Odoo 5 (-100.0%)", activity.note)
        self.assertIn("Unmapped lines: 2.", activity.note)

    def test_no_activity_when_every_discrepancy_is_under_the_threshold(self):
        self.flow.reconciliation_threshold_percent = 100.0  # the bolts' -100% does not exceed it
        _message, reconciliation = self._receive()
        self.assertEqual(reconciliation.discrepancy_count, 2)
        self.assertFalse(reconciliation.activity_ids)

    def test_compare_again_after_stock_changed(self):
        _message, reconciliation = self._receive()
        as_operator = reconciliation.with_user(self.operator_a)
        as_operator.action_mark_reviewed()
        self.assertEqual(reconciliation.state, "reviewed")
        self.assertFalse(reconciliation.activity_ids, "reviewing closes the alert")

        self._set_stock(self.gear, self.bin, 2)  # 12 in Odoo now
        self._set_stock(self.bolt, self.shelf, -5)  # none left
        self._set_stock(self.nut, self.bin, 7)  # new on the shelf, in its bin
        as_operator.action_compare_again()
        self.assertEqual(reconciliation.state, "to_review")
        figures = self._figures(reconciliation)
        self.assertIn((self.gear, self.shelf, "G-1", 8.0, 12.0, -4.0, -33.33, "discrepancy"), figures)
        self.assertIn((self.bolt, self.shelf, False, 0.0, 0.0, 0.0, 0.0, "match"), figures)
        self.assertIn((self.nut, self.shelf, False, 0.0, 7.0, -7.0, -100.0, "discrepancy"), figures)
        self.assertEqual((reconciliation.line_count, reconciliation.discrepancy_count), (6, 2))
        self.assertEqual(len(reconciliation.activity_ids), 1)
        self.assertIn("[N] Nut", reconciliation.activity_ids.note)

        self._set_stock(self.gear, self.bin, -4)
        self._set_stock(self.nut, self.bin, -7)
        as_operator.action_compare_again()
        self.assertEqual(reconciliation.discrepancy_count, 0)
        self.assertFalse(reconciliation.activity_ids, "nothing above the threshold any more")

    def test_users_read_but_do_not_compare_or_review(self):
        _message, reconciliation = self._receive()
        as_user = reconciliation.with_user(self.integration_user)
        self.assertEqual(as_user.discrepancy_count, 2)
        with self.assertRaises(AccessError):
            as_user.action_compare_again()
        with self.assertRaises(AccessError):
            as_user.action_mark_reviewed()

    def test_snapshot_breaking_its_contract_is_refused(self):
        payload = {
            "snapshot_id": "SNAP-BAD",
            "lines": [{"product": "W-1", "location": "A-01", "quantity": "ten"}],
        }
        with self.assertRaises(PayloadValidationError) as caught:
            self.env["integration.message"]._ingest(self.backend, "stock.snapshot", payload)
        self.assertEqual(
            caught.exception.errors,
            [
                ("", "'taken_at' is a required property"),
                ("/lines/0/quantity", "'ten' is not of type 'number'"),
            ],
        )
        self.assertFalse(self.env["integration.message"].search([("idempotency_key", "=", "SNAP-BAD")]))

    def test_operator_of_another_plant_does_not_see_the_reconciliation(self):
        _message, reconciliation = self._receive()
        operator_b = new_test_user(
            self.env, login="recon_operator_b", groups="integration_base.group_integration_operator"
        )
        operator_b.integration_warehouse_ids = self.plant_b
        self.assertFalse(self.env(user=operator_b)["integration.reconciliation"].search([]))
        self.assertFalse(self.env(user=operator_b)["integration.reconciliation.line"].search([]))
        self.assertEqual(
            self.env(user=self.operator_a)["integration.reconciliation"].search([]), reconciliation
        )
