# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from odoo.addons.integration_base.tests.common import IntegrationCase


@tagged("post_install", "-at_install")
class TestCmmsEquipment(IntegrationCase):
    """The connector's equipment contract, event and routing are data: no Python decides where it goes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cmms_a = cls._create_backend("plant-a-cmms", system_type="cmms", plant=cls.plant_a)
        cls.cmms_a.action_activate()
        cls.cmms_a.action_add_contracts()
        cls.cmms_a.flow_ids.action_activate()
        cls.cmms_b = cls._create_backend("plant-b-cmms", system_type="cmms", plant=cls.plant_b)

    def _sent(self, equipment):
        return self.env["integration.message"].search(
            [("link_ids.res_model", "=", equipment._name), ("link_ids.res_id", "=", equipment.id)]
        )

    def test_equipment_goes_to_the_cmms_of_its_plant_only(self):
        Equipment = self.env["maintenance.equipment"]
        press_a = Equipment.create({"name": "Press A1", "warehouse_id": self.plant_a.id, "serial_no": "SN-1"})
        press_b = Equipment.create({"name": "Press B1", "warehouse_id": self.plant_b.id})
        spare = Equipment.create({"name": "Spare press"})
        sent = self._sent(press_a)
        self.assertEqual((sent.backend_id, sent.flow_code), (self.cmms_a, "cmms.equipment"))
        self.assertEqual(
            sent._indented(sent.payload).count('"Press A1"'), 1, "the payload carries the equipment's name"
        )
        self.assertFalse(self._sent(press_b), "plant B's CMMS is a draft: it hears nothing")
        self.assertFalse(self._sent(spare), "equipment without a plant goes to no CMMS")
        press_a.note = "<p>Oiled</p>"
        self.assertEqual(len(self._sent(press_a)), 1, "a field that is no trigger sends nothing")
        press_a.name = "Press A1 (rebuilt)"
        self.assertEqual(len(self._sent(press_a)), 2)
