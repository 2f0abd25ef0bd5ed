# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class CmmsMaintenanceWindow(models.Model):
    """A planned maintenance the CMMS approved: the equipment's work centres are off for that time.

    The window is time off on each work centre's calendar, so Odoo's
    scheduler places work orders outside it; moving it at the CMMS moves the
    time off, cancelling it gives the time back.
    """

    _name = "cmms.maintenance.window"
    _description = "CMMS Maintenance Window"
    _inherit = ["cmms.workcenter.block.mixin"]
    _order = "date_from desc, id desc"
    _listing_action = "integration_cmms.cmms_maintenance_window_action"

    name = fields.Char(string="Window", required=True, readonly=True, help="The window's id at the CMMS.")
    title = fields.Char(readonly=True, help="What the maintenance is, as the CMMS says.")
    state = fields.Selection(
        [("approved", "Approved"), ("cancelled", "Cancelled")],
        required=True,
        default="approved",
        readonly=True,
        help="Approved: the work centres are off for the window. Cancelled: the CMMS called it off and "
        "the time was given back.",
    )
    date_from = fields.Datetime(
        string="From", required=True, readonly=True, help="When the maintenance starts."
    )
    date_to = fields.Datetime(string="To", required=True, readonly=True, help="When the equipment is back.")
    capacity_hours = fields.Float(
        compute="_compute_capacity_hours",
        store=True,
        aggregator="sum",
        help="The working hours the window takes from the work centres, as their calendars count.",
    )

    _backend_name_unique = models.Constraint(
        "UNIQUE(backend_id, name)", "The CMMS already sent a maintenance window with this id."
    )
    _dates_in_order = models.Constraint(
        "CHECK(date_to > date_from)", "A maintenance window ends after it starts."
    )

    @api.depends("date_from", "date_to", "state", "workcenter_ids")
    def _compute_capacity_hours(self):
        for window in self:
            approved = window.state == "approved" and window.date_from
            window.capacity_hours = (
                window._capacity_hours(window.date_from, window.date_to) if approved else 0.0
            )

    @api.depends("name", "title")
    def _compute_display_name(self):
        for window in self:
            window.display_name = f"{window.name} ({window.title})" if window.title else window.name

    def _apply_to_planning(self):
        """The window's time off follows its dates and state."""
        for window in self:
            if window.state == "approved":
                window._block_workcenters(
                    window.date_from, window.date_to, self.env._("Maintenance %s", window.display_name)
                )
            else:
                window._unblock_workcenters()
