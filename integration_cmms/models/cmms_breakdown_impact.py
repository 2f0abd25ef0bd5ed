# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class CmmsBreakdownImpact(models.Model):
    """One work order a breakdown hit: the hours it lost and what it did not make in them.

    A line is made the first time a report of the breakdown finds the work
    order planned in its time, and its figures follow the later reports while
    the work order still overlaps it; a line never goes away, so the chain from
    breakdown to production loss stays readable after the planner moved the
    order (or the backend rescheduled it).
    """

    _name = "cmms.breakdown.impact"
    _description = "CMMS Breakdown: Order Hit"
    _order = "breakdown_id, planned_start, id"

    breakdown_id = fields.Many2one(
        "cmms.breakdown",
        required=True,
        ondelete="cascade",
        index=True,
        help="The breakdown that hit the work order.",
    )
    company_id = fields.Many2one(related="breakdown_id.company_id", store=True)
    equipment_id = fields.Many2one(related="breakdown_id.equipment_id", store=True)
    workorder_id = fields.Many2one(
        "mrp.workorder",
        string="Work Order",
        required=True,
        ondelete="cascade",
        help="The work order planned on a blocked work centre within the breakdown's time.",
    )
    production_id = fields.Many2one(
        related="workorder_id.production_id",
        store=True,
        index=True,
        string="Manufacturing Order",
        help="The order of the work order hit.",
    )
    workcenter_id = fields.Many2one(
        related="workorder_id.workcenter_id",
        store=True,
        help="The blocked work centre the work order is planned on.",
    )
    planned_start = fields.Datetime(help="The work order's planned start when the breakdown hit it.")
    planned_end = fields.Datetime(help="The work order's planned end when the breakdown hit it.")
    hours_lost = fields.Float(
        aggregator="sum", help="The part of the work order's planned time that falls within the breakdown."
    )
    quantity_lost = fields.Float(
        string="Quantity Not Produced",
        aggregator="sum",
        help="What the work order would have made in the hours lost, at its planned pace.",
    )
    product_uom_id = fields.Many2one(
        related="production_id.product_uom_id", help="The unit of the quantity not produced."
    )

    _breakdown_workorder_unique = models.Constraint(
        "UNIQUE(breakdown_id, workorder_id)", "A breakdown hits a work order once."
    )

    @api.model
    def _record_hits(self, breakdown):
        """Record the work orders planned on the blocked work centres within the breakdown's time.

        Returns the lines made now (the orders hit for the first time), so that
        their planners are told once whatever the number of reports.
        """
        start, end = breakdown.started_at, breakdown.blocked_until
        workorders = self.env["mrp.workorder"].search(
            [
                ("workcenter_id", "in", breakdown.workcenter_ids.ids),
                ("state", "not in", ("done", "cancel")),
                ("date_start", "<", end),
                ("date_finished", ">", start),
            ]
        )
        known = {impact.workorder_id: impact for impact in breakdown.impact_ids}
        made = self
        for workorder in workorders:
            values = self._figures(workorder, start, end)
            if workorder in known:
                known[workorder].write(values)
            else:
                made |= self.create({**values, "breakdown_id": breakdown.id, "workorder_id": workorder.id})
        return made

    @staticmethod
    def _figures(workorder, start, end):
        overlap_seconds = (
            min(end, workorder.date_finished) - max(start, workorder.date_start)
        ).total_seconds()
        planned_seconds = (workorder.date_finished - workorder.date_start).total_seconds()
        share = overlap_seconds / planned_seconds if planned_seconds > 0 else 1.0
        remaining = max(workorder.qty_production - workorder.qty_produced, 0.0)
        return {
            "planned_start": workorder.date_start,
            "planned_end": workorder.date_finished,
            "hours_lost": max(overlap_seconds, 0) / 3600,
            "quantity_lost": workorder.production_id.product_uom_id.round(remaining * min(share, 1.0)),
        }
