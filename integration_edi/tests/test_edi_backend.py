# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.integration_base.tests.common import IntegrationCase


@tagged("post_install", "-at_install")
class TestEdiBackend(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.acme = Partner.create({"name": "ACME Retail", "is_company": True})
        cls.acme_store = Partner.create(
            {"name": "ACME Store 12", "parent_id": cls.acme.id, "type": "delivery"}
        )
        cls.other = Partner.create({"name": "Other Co", "is_company": True})

    def test_edi_backend_names_its_trading_partner(self):
        with self.assertRaisesRegex(ValidationError, "must name the trading partner"):
            self._create_backend("edi-nobody", system_type="edi")

    def test_partner_addresses_use_their_company_connection(self):
        edi = self._create_backend("edi-acme", system_type="edi", edi_partner_id=self.acme.id)
        self.assertFalse(self.acme._get_edi_backend(), "a draft connection sends nothing")
        edi.action_activate()
        self.assertEqual(self.acme_store._get_edi_backend(), edi)
        self.assertFalse(self.other._get_edi_backend())
