# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MrpWorkorder(models.Model):
    """Work orders show the MES operation events about them."""

    _name = "mrp.workorder"
    _inherit = ["mrp.workorder", "integration.record.mixin"]
