# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import IntegrationCase


@tagged("post_install", "-at_install")
class TestIntegrationBackend(IntegrationCase):
    def test_code_must_be_url_safe(self):
        for bad_code in ("Plant A", "a", "-mes", "mes/1", "MES"):
            with self.subTest(code=bad_code), self.assertRaisesRegex(ValidationError, "not valid"):
                self._create_backend(bad_code)
        self.assertEqual(self._create_backend("plant-a_mes2").code, "plant-a_mes2")

    def test_code_is_unique(self):
        self._create_backend("erp-bridge")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self._create_backend("erp-bridge")
            self.env.flush_all()

    def test_timeouts_and_rate_limit_are_checked(self):
        with self.assertRaisesRegex(ValidationError, "must be positive"):
            self._create_backend("slow", read_timeout=0)
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self._create_backend("limited", rate_limit_per_minute=-1)

    def test_plant_bound_systems_need_a_plant(self):
        with self.assertRaisesRegex(ValidationError, "runs at one plant: choose its plant"):
            self._create_backend("mes-without-plant", system_type="mes")
        backend = self._create_backend("mes-a", system_type="mes", plant=self.plant_a)
        self.assertEqual(backend.warehouse_id, self.plant_a)
        # A generic system is not tied to a plant.
        self.assertFalse(self._create_backend("erp-bridge", system_type="generic").warehouse_id)

    def test_suspended_backend_is_out_of_service(self):
        backend = self._create_backend("mes-a", system_type="mes", plant=self.plant_a)
        backend.action_activate()
        backend.action_suspend()
        self.assertEqual(backend.state, "suspended")

    def test_configuration_changes_are_tracked(self):
        backend = self._create_backend("tracked", system_type="generic")
        self._flush_tracking()
        backend.write({"owner_id": self.integration_manager.id, "environment": "prod"})
        self._flush_tracking()
        backend.invalidate_recordset(["message_ids"])
        tracked = backend.message_ids.tracking_value_ids.mapped("field_id.name")
        self.assertIn("owner_id", tracked)
        self.assertIn("environment", tracked)

    def test_only_managers_configure_backends(self):
        backend = self._create_backend("acl-check")
        self.assertEqual(backend.with_user(self.integration_user).read(["code"])[0]["code"], "acl-check")
        with self.assertRaises(AccessError):
            backend.with_user(self.integration_user).write({"name": "renamed"})
        backend.with_user(self.integration_manager).write({"name": "renamed"})
        self.assertEqual(backend.name, "renamed")
        self.assertTrue(self.integration_manager.has_group("integration_base.group_integration_user"))
