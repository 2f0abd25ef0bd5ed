# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.integration_base.tests.common import IntegrationCase


@tagged("post_install", "-at_install")
class TestEdiBackend(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acme = cls.env["res.partner"].create({"name": "ACME Retail", "is_company": True})

    def test_edi_backend_names_its_trading_partner(self):
        with self.assertRaisesRegex(ValidationError, "must name the trading partner"):
            self._create_backend("edi-nobody", system_type="edi")
        edi = self._create_backend("edi-acme", system_type="edi", partner_id=self.acme.id)
        self.assertEqual(edi.partner_id, self.acme)
