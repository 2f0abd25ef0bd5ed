# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.exceptions import ValidationError


class IntegrationBackend(models.Model):
    """An EDI backend is one trading partner's connection: it stands for that partner."""

    _inherit = "integration.backend"

    @api.constrains("system_type", "partner_id")
    def _check_edi_partner(self):
        for backend in self:
            if backend.system_type == "edi" and not backend.partner_id:
                raise ValidationError(
                    self.env._(
                        "EDI backend '%s' must name the trading partner it exchanges with.", backend.name
                    )
                )
