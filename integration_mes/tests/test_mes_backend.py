# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from odoo.addons.integration_base.tests.common import IntegrationCase


@tagged("post_install", "-at_install")
class TestMesBackend(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create({"name": "Gearbox", "is_storable": True})
        cls.mes_a = cls._create_backend("plant-a-mes", system_type="mes", plant=cls.plant_a)

    def _order_at(self, plant):
        return self.env["mrp.production"].create(
            {"product_id": self.product.id, "product_qty": 5, "picking_type_id": plant.manu_type_id.id}
        )

    def test_order_finds_the_mes_of_its_plant(self):
        order_a, order_b = self._order_at(self.plant_a), self._order_at(self.plant_b)
        self.assertFalse(order_a._get_mes_backend(), "a draft MES receives nothing")
        self.mes_a.action_activate()
        self.assertEqual(order_a._get_mes_backend(), self.mes_a)
        self.assertFalse(order_b._get_mes_backend(), "plant B has no MES")

    def test_mes_defaults_are_strict_on_quantities(self):
        self.assertFalse(self.mes_a.mes_allow_overproduction)
        self.assertTrue(self.mes_a.mes_create_backorder)
