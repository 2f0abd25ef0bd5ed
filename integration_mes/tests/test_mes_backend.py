# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from odoo.addons.integration_base.tests.common import IntegrationCase


@tagged("post_install", "-at_install")
class TestMesBackend(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mes_a = cls._create_backend("plant-a-mes", system_type="mes", plant=cls.plant_a)

    def test_mes_defaults_are_strict_on_quantities(self):
        self.assertFalse(self.mes_a.mes_allow_overproduction)
        self.assertTrue(self.mes_a.mes_create_backorder)
