# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ResPartner(models.Model):
    """Partners (customers, suppliers, trading partners) show the messages about them."""

    _name = "res.partner"
    _inherit = ["res.partner", "integration.record.mixin"]
