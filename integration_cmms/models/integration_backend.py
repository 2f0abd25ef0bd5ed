# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class IntegrationBackend(models.Model):
    """CMMS settings of a backend: what a breakdown does to planning, where spare parts go."""

    _inherit = "integration.backend"

    cmms_breakdown_planning = fields.Selection(
        [("flag", "Tell the Planner"), ("reschedule", "Reschedule the Orders")],
        string="Orders Hit by a Breakdown",
        required=True,
        default="flag",
        tracking=True,
        help="Tell the planner: each manufacturing order planned on a broken-down work centre gets one "
        "activity for its planner, and stays where it was planned. Reschedule: the orders are planned "
        "again around the breakdown by Odoo's scheduler, and the planner is told in their chatter.",
    )
    cmms_breakdown_hours = fields.Float(
        string="Breakdown Expected Hours",
        default=4.0,
        tracking=True,
        help="How long a breakdown blocks its work centres when the CMMS does not say when it expects "
        "the equipment back; the block then lasts until the CMMS reports the end.",
    )
    cmms_consumption_location_id = fields.Many2one(
        "stock.location",
        string="Spare Parts Consumed In",
        default=lambda self: self.env.ref(
            "integration_cmms.stock_location_maintenance", raise_if_not_found=False
        ),
        domain=[("usage", "in", ("inventory", "production"))],
        check_company=True,
        tracking=True,
        help="The virtual location spare parts used by maintenance go to. They leave the plant's stock "
        "location, so that reordering rules see the stock go down and buy again.",
    )
