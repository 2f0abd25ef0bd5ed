# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MrpWorkcenterProductivity(models.Model):
    _inherit = "mrp.workcenter.productivity"

    mes_backend_id = fields.Many2one(
        "integration.backend",
        string="Reported by MES",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The MES whose operation events this time line was computed from. Odoo computes such "
        "lines again whenever an event of that MES arrives, so edit the events, not the line.",
    )
