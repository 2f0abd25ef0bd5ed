# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from .cmms_workcenter_block_mixin import CMMS_STATES


class CmmsStateMixin(models.AbstractModel):
    """What the CMMS says of something production needs (equipment, a work centre), and its smart buttons."""

    _name = "cmms.state.mixin"
    _description = "CMMS: state of equipment or a work centre"
    _cmms_field = None  # the field of breakdowns and windows that names these records

    cmms_breakdown_count = fields.Integer(
        string="Breakdown Count", compute="_compute_cmms_state", help="How many breakdowns the CMMS reported."
    )
    cmms_window_count = fields.Integer(
        string="Window Count",
        compute="_compute_cmms_state",
        help="How many maintenance windows the CMMS sent, called off ones included.",
    )
    cmms_state = fields.Selection(
        CMMS_STATES,
        string="CMMS State",
        compute="_compute_cmms_state",
        help="Down: a breakdown the CMMS reported is not over. In maintenance: an approved maintenance "
        "window is on now. Running: neither.",
    )

    def _cmms_domain(self):
        return [(self._cmms_field, "in", self.ids)]

    def _compute_cmms_state(self):
        now = fields.Datetime.now()
        for record in self:
            breakdowns = self.env["cmms.breakdown"].search(record._cmms_domain())
            windows = self.env["cmms.maintenance.window"].search(record._cmms_domain())
            record.cmms_breakdown_count = len(breakdowns)
            record.cmms_window_count = len(windows)
            if "down" in breakdowns.mapped("state"):
                record.cmms_state = "down"
            elif windows.filtered(lambda w: w.state == "approved" and w.date_from <= now < w.date_to):
                record.cmms_state = "maintenance"
            else:
                record.cmms_state = "running"

    def action_open_cmms_breakdowns(self):
        self.ensure_one()
        return self.env["cmms.breakdown"]._action_listing(self._cmms_domain())

    def action_open_cmms_windows(self):
        self.ensure_one()
        return self.env["cmms.maintenance.window"]._action_listing(self._cmms_domain())
