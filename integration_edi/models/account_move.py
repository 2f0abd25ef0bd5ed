# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class AccountMove(models.Model):
    """Invoices show the EDI messages about them (invoices sent to the trading partner)."""

    _name = "account.move"
    _inherit = ["account.move", "integration.record.mixin"]
