# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the reliability scenarios (tests/reliability) found, kept from coming back."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import EngineCase


@tagged("post_install", "-at_install")
class TestReliabilityFindings(EngineCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Company B (findings)"})
        cls.plant_c = cls.env["stock.warehouse"].search([("company_id", "=", cls.company_b.id)], limit=1)
        cls.manager_ab = new_test_user(
            cls.env,
            login="int_manager_ab",
            groups="integration_base.group_integration_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, [cls.company.id, cls.company_b.id])],
        )

    def test_a_user_working_in_a_second_company_schedules_its_backends(self):
        """Access matrix: activating a company B backend failed with "unauthorized companies".

        The drain job took the caller's companies to the engine user, who
        belongs to the first company only.
        """
        for companies in ([self.company_b], [self.company, self.company_b]):
            env = self.env(user=self.manager_ab, context={"allowed_company_ids": [c.id for c in companies]})
            backend = env["integration.backend"].create(
                {
                    "name": "B",
                    "code": f"test-b-{len(companies)}",
                    "company_id": self.company_b.id,
                    "warehouse_id": self.plant_c.id,
                }
            )
            backend.action_activate()
            job = self.env["queue.job"].search([("identity_key", "=", f"integration-dispatch-{backend.id}")])
            self.assertEqual(len(job), 1)
            self.assertEqual(job.user_id, self.env.ref("integration_base.user_integration_engine"))

    def test_the_monitoring_buttons_answer_only_those_who_read_the_record(self):
        """Access matrix: portal and internal users got the buttons' actions of any backend or contract."""
        internal = new_test_user(self.env, login="int_nobody", groups="base.group_user")
        for record in (self.backend, self.flow):
            for method in ("action_open_health_exceptions", "action_open_health_waiting"):
                with self.assertRaises(AccessError):
                    getattr(record.with_user(internal), method)()
                self.assertTrue(getattr(record.with_user(self.integration_user), method)())
        with self.assertRaises(AccessError):
            self.backend.with_user(internal).action_open_messages()

    def test_a_user_reads_every_field_of_a_backend_but_its_credentials(self):
        """Access matrix: ``read()`` of a backend failed for users and operators, on its credentials."""
        [values] = self.backend.with_user(self.integration_user).read()
        self.assertNotIn("credential_ids", values)
        self.assertIn("credential_ids", self.backend.with_user(self.integration_manager).read()[0])
