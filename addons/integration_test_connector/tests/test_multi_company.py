# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Two companies side by side: mappings, backends and subscriptions keep to their own."""

from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import EngineCase


@tagged("post_install", "-at_install")
class TestMultiCompany(EngineCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.plant_c = cls.env["stock.warehouse"].search([("company_id", "=", cls.company_b.id)], limit=1)
        cls.backend_c = cls._create_backend(
            "test-c", system_type="generic", plant=cls.plant_c, company_id=cls.company_b.id
        )
        cls.backend_c.action_activate()
        cls.flow_c = cls._create_flow(cls.backend_c)
        cls.Mapping = cls.env["integration.mapping"]
        cls.germany = cls.env.ref("base.de")

    def _waiting(self, backend, ref, code="ZZ-DE"):
        message, _created = self._ingest({"ref": ref, "name": ref, "country": code}, backend=backend)
        self._drain(backend)
        self.assertEqual((message.state, message.missing_code), ("exception", code))
        return message

    def _map(self, **values):
        return self.Mapping.create({"external_code": "ZZ-DE", "record_ref": self.germany, **values})

    def test_a_company_wide_mapping_retries_its_own_company_only(self):
        ours, theirs = self._waiting(self.backend, "MC-A"), self._waiting(self.backend_c, "MC-B")
        mapping_a = self._map()
        self.assertEqual(mapping_a.company_id, self.company)
        self.assertEqual((ours.state, theirs.state), ("queued", "exception"))
        mapping_b = self._map(company_id=self.company_b.id)
        self.assertEqual(theirs.state, "queued", "company B maps the same code its own way")
        self.assertEqual(self.Mapping._find(self.backend_c, "ZZ-DE", res_model="res.country"), mapping_b)
        self.assertEqual(self.Mapping._find(self.backend, "ZZ-DE", res_model="res.country"), mapping_a)

    def test_the_same_code_twice_in_one_company_is_refused(self):
        self._map(company_id=self.company_b.id)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self._map(company_id=self.company_b.id).flush_recordset()

    def test_a_mapping_takes_the_company_of_its_backend_or_plant(self):
        theirs = self._waiting(self.backend_c, "MC-C")
        by_backend = self._map(backend_id=self.backend_c.id)
        self.assertEqual(by_backend.company_id, self.company_b)
        self.assertEqual(theirs.state, "queued", "the waiting message of that backend is retried")
        by_plant = self.Mapping.create(
            {"warehouse_id": self.plant_c.id, "external_code": "ZZ-FR", "record_ref": self.env.ref("base.fr")}
        )
        self.assertEqual(by_plant.company_id, self.company_b)

    def test_a_mapping_refuses_another_company_s_backend_or_plant(self):
        with self.assertRaises(UserError):
            self._map(backend_id=self.backend_c.id, company_id=self.company.id)
        with self.assertRaises(UserError):
            self._map(warehouse_id=self.plant_c.id, company_id=self.company.id)
        mapping = self._map(backend_id=self.backend.id)
        with self.assertRaises(UserError):
            mapping.warehouse_id = self.plant_c

    def test_a_backend_refuses_another_company_s_plant(self):
        with self.assertRaises(UserError):
            self._create_backend("test-x", system_type="mes", plant=self.plant_c)
        with self.assertRaises(UserError):
            self.backend.warehouse_id = self.plant_c

    def test_a_subscription_refuses_another_company_s_backend(self):
        event = self.env.ref("integration_test_connector.integration_event_partner_created")
        with self.assertRaises(UserError):
            self.env["integration.subscription"].create(
                {
                    "event_id": event.id,
                    "flow_code": "test.partner",
                    "backend_ids": [(6, 0, self.backend_c.ids)],
                }
            )
