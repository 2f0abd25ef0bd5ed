# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class IntegrationBackend(models.Model):
    """An EDI backend is one trading partner's connection."""

    _inherit = "integration.backend"

    edi_partner_id = fields.Many2one(
        "res.partner",
        string="Trading Partner",
        tracking=True,
        domain="[('is_company', '=', True)]",
        help="The company this EDI connection exchanges documents with.",
    )

    @api.constrains("system_type", "edi_partner_id")
    def _check_edi_partner(self):
        for backend in self:
            if backend.system_type == "edi" and not backend.edi_partner_id:
                raise ValidationError(
                    self.env._(
                        "EDI backend '%s' must name the trading partner it exchanges with.", backend.name
                    )
                )
