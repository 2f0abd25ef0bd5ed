# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from odoo.addons.integration_base.tests.common import IntegrationCase


@tagged("post_install", "-at_install")
class TestCmmsEquipment(IntegrationCase):
    def test_equipment_finds_the_cmms_of_its_plant(self):
        Equipment = self.env["maintenance.equipment"]
        press_a = Equipment.create({"name": "Press A1", "warehouse_id": self.plant_a.id})
        press_b = Equipment.create({"name": "Press B1", "warehouse_id": self.plant_b.id})
        nowhere = Equipment.create({"name": "Spare press"})
        cmms_a = self._create_backend("plant-a-cmms", system_type="cmms", plant=self.plant_a)
        cmms_a.action_activate()
        self.assertEqual(press_a._get_cmms_backend(), cmms_a)
        self.assertFalse(press_b._get_cmms_backend())
        self.assertFalse(nowhere._get_cmms_backend(), "equipment without a plant has no CMMS")
