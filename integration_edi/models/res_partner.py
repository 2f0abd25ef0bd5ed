# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _get_edi_backend(self):
        """The active EDI backend of this partner's company, if any.

        Documents for a contact or a delivery address go through the
        connection of the company it belongs to.
        """
        self.ensure_one()
        return self.env["integration.backend"].search(
            [
                ("system_type", "=", "edi"),
                ("state", "=", "active"),
                ("edi_partner_id", "=", self.commercial_partner_id.id),
            ],
            limit=1,
        )
