# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MrpWorkcenterProductivity(models.Model):
    _inherit = "mrp.workcenter.productivity"

    mes_backend_id = fields.Many2one(
        "integration.backend",
        string="Reported By",
        readonly=True,
        index="btree_not_null",
        help="The MES that reported this time or downtime.",
    )
    mes_downtime_ref = fields.Char(
        string="MES Downtime", readonly=True, index="btree_not_null", help="The stop's id at the MES."
    )
