# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class ResPartner(models.Model):
    """A connector's only duty towards outbound messages: announce its event where it happens."""

    _inherit = "res.partner"

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        self.env["integration.event"]._publish("test.partner.created", partners)
        return partners

    def write(self, vals):
        result = super().write(vals)
        if "name" in vals:
            self.env["integration.event"]._publish("test.partner.renamed", self)
        return result
