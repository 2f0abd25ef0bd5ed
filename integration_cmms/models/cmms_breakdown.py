# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models


class CmmsBreakdown(models.Model):
    """Equipment down, as the CMMS reported it, and what it cost production: one auditable chain.

    The breakdown blocks the work centres the equipment serves (time off on
    their calendars, so that planning sees the capacity loss, and an open
    productivity line, so that the work centre shows blocked and its
    availability counts the stop), records the orders and work orders it hits
    with the hours and quantity they lose, and carries the maintenance
    request and spare parts that repaired it, with their cost. Its failure
    codes are the CMMS's, mapped to ISO 14224 so that breakdowns of every
    plant are reported on one list.
    """

    _name = "cmms.breakdown"
    _description = "CMMS Breakdown"
    _inherit = ["cmms.workcenter.block.mixin", "mail.thread"]
    _order = "started_at desc, id desc"
    _listing_action = "integration_cmms.cmms_breakdown_action"

    name = fields.Char(
        string="Breakdown", required=True, readonly=True, help="The breakdown's id at the CMMS."
    )
    state = fields.Selection(
        [("down", "Down"), ("up", "Back Up")],
        required=True,
        default="down",
        readonly=True,
        help="Down: the equipment is out of order and its work centres are blocked. Back up: the CMMS "
        "reported the end; the work centres were released then.",
    )
    started_at = fields.Datetime(required=True, readonly=True, help="When the equipment went down.")
    expected_end_at = fields.Datetime(
        readonly=True, help="When the CMMS expects the equipment back (its estimate)."
    )
    ended_at = fields.Datetime(readonly=True, help="When the equipment ran again.")
    blocked_until = fields.Datetime(
        compute="_compute_blocked_until",
        store=True,
        help="The end of the work centres' time off: the reported end, else the CMMS's estimate, else "
        "the backend's expected hours after the start.",
    )
    reason = fields.Char(readonly=True, help="What the CMMS said happened, in its words.")
    failure_class = fields.Char(readonly=True, help="The CMMS's failure class (its code list's top level).")
    problem_code = fields.Char(readonly=True, help="The CMMS's problem code, mapped to a failure mode.")
    cause_code = fields.Char(readonly=True, help="The CMMS's cause code, mapped to a failure cause.")
    remedy_code = fields.Char(readonly=True, help="What the CMMS says was done to repair it.")
    failure_mode_id = fields.Many2one(
        "cmms.failure.code",
        readonly=True,
        index=True,
        domain=[("kind", "=", "mode")],
        help="The ISO 14224 failure mode the CMMS's problem code is mapped to.",
    )
    failure_mechanism_id = fields.Many2one(
        "cmms.failure.code",
        readonly=True,
        domain=[("kind", "=", "mechanism")],
        help="The ISO 14224 failure mechanism, when the CMMS reports one.",
    )
    failure_cause_id = fields.Many2one(
        "cmms.failure.code",
        readonly=True,
        domain=[("kind", "=", "cause")],
        help="The ISO 14224 failure cause the CMMS's cause code is mapped to.",
    )
    productivity_ids = fields.Many2many(
        "mrp.workcenter.productivity",
        string="Productivity Losses",
        readonly=True,
        help="The work centres' productivity lines of the stop: their availability counts it.",
    )
    impact_ids = fields.One2many(
        "cmms.breakdown.impact",
        "breakdown_id",
        string="Orders Hit",
        readonly=True,
        help="The work orders planned in the breakdown's time on its work centres, with what they lost.",
    )
    duration_hours = fields.Float(
        string="Down Hours",
        compute="_compute_figures",
        store=True,
        aggregator="sum",
        help="From the start to the reported end (or to now while it is down, as last computed).",
    )
    capacity_hours_lost = fields.Float(
        compute="_compute_figures",
        store=True,
        aggregator="sum",
        help="The working hours of the blocked work centres within the breakdown, as their calendars count.",
    )
    quantity_not_produced = fields.Float(
        compute="_compute_figures",
        store=True,
        aggregator="sum",
        help="What the orders hit would have made in the hours they lost, at their planned pace.",
    )
    production_count = fields.Integer(
        string="Orders",
        compute="_compute_figures",
        store=True,
        aggregator="sum",
        help="How many manufacturing orders the breakdown hit.",
    )
    spare_part_cost = fields.Monetary(
        related="request_id.cmms_spare_part_cost",
        store=True,
        aggregator="sum",
        help="The cost of the spare parts the maintenance request took.",
    )
    currency_id = fields.Many2one(
        related="company_id.currency_id", help="The currency of the spare parts cost."
    )

    _backend_name_unique = models.Constraint(
        "UNIQUE(backend_id, name)", "The CMMS already sent a breakdown with this id."
    )

    @api.depends("started_at", "expected_end_at", "ended_at", "backend_id.cmms_breakdown_hours")
    def _compute_blocked_until(self):
        for breakdown in self:
            default_end = breakdown.started_at and breakdown.started_at + timedelta(
                hours=breakdown.backend_id.cmms_breakdown_hours or 0
            )
            breakdown.blocked_until = breakdown.ended_at or breakdown.expected_end_at or default_end

    @api.depends(
        "started_at",
        "ended_at",
        "blocked_until",
        "workcenter_ids",
        "impact_ids.hours_lost",
        "impact_ids.quantity_lost",
    )
    def _compute_figures(self):
        for breakdown in self:
            end = breakdown.ended_at or breakdown.blocked_until
            seconds = (end - breakdown.started_at).total_seconds() if end and breakdown.started_at else 0
            breakdown.duration_hours = max(seconds, 0) / 3600
            breakdown.capacity_hours_lost = (
                breakdown._capacity_hours(breakdown.started_at, end) if breakdown.started_at else 0.0
            )
            breakdown.quantity_not_produced = sum(breakdown.impact_ids.mapped("quantity_lost"))
            breakdown.production_count = len(breakdown.impact_ids.production_id)

    @api.depends("name", "equipment_id")
    def _compute_display_name(self):
        for breakdown in self:
            breakdown.display_name = f"{breakdown.name} ({breakdown.equipment_id.display_name})"

    def _apply_to_production(self, owner):
        """Block the work centres for the breakdown's time and record (and tell) the orders it hits.

        Called after every report of the breakdown, in any order: the time
        off and the productivity lines follow the latest times, an order hit
        is told once, and orders are never un-hit.
        """
        self.ensure_one()
        if not self.started_at:
            return
        self._block_workcenters(
            self.started_at, self.blocked_until, self.env._("Breakdown %s", self.display_name)
        )
        self._record_productivity_loss()
        newly_hit = self.env["cmms.breakdown.impact"]._record_hits(self)
        if self.backend_id.cmms_breakdown_planning == "reschedule":
            newly_hit.production_id._cmms_reschedule_around(self)
        else:
            for production in newly_hit.production_id:
                production._cmms_tell_planner(self, owner)

    def _record_productivity_loss(self):
        """One productivity line per blocked work centre, open while the equipment is down."""
        loss = self.env.ref("mrp.block_reason1", raise_if_not_found=False) or self.env[
            "mrp.workcenter.productivity.loss"
        ].search([("loss_type", "=", "availability")], limit=1)
        description = self.env._(
            "Breakdown %(id)s: %(reason)s", id=self.name, reason=self.reason or loss.name
        )
        lines = self._one_per_workcenter(
            self.productivity_ids,
            lambda line: line.workcenter_id.resource_id,
            {"date_start": self.started_at, "date_end": self.ended_at or False},
            lambda workcenter: {
                "workcenter_id": workcenter.id,
                "loss_id": loss.id,
                "description": description,
                "company_id": workcenter.company_id.id or self.company_id.id,
            },
        )
        self.productivity_ids = [fields.Command.set(lines.ids)]

    def action_open_productions(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Orders Hit by %s", self.display_name),
            "res_model": "mrp.production",
            "view_mode": "list,form",
            "domain": [("id", "in", self.impact_ids.production_id.ids)],
        }

    def action_open_request(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "maintenance.request",
            "res_id": self.request_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
