# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    integration_warehouse_ids = fields.Many2many(
        "stock.warehouse",
        "integration_user_warehouse_rel",
        "user_id",
        "warehouse_id",
        string="Integration Plants",
        help="Limit this user to the backends, contracts, messages and mappings of these plants. "
        "Leave empty for all plants.",
    )

    def write(self, vals):
        result = super().write(vals)
        if "integration_warehouse_ids" in vals:
            # Record rules read this field and are cached per user.
            self.env.registry.clear_cache()
        return result
