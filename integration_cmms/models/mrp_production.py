# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.tools.misc import format_datetime


class MrpProduction(models.Model):
    """What a manufacturing order hit by a breakdown does: tell its planner, or plan again."""

    _inherit = "mrp.production"

    def _cmms_tell_planner(self, breakdown, owner):
        """One activity for the order's planner: the order is planned on a work centre that is down."""
        self.ensure_one()
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=(self.user_id or owner).id,
            summary=self.env._("%s is broken down", breakdown.equipment_id.display_name),
            note=self.env._(
                "The CMMS reports %(equipment)s down from %(start)s to %(end)s (%(reason)s): this order is "
                "planned on %(workcenters)s within that time. Plan it again or move it.",
                equipment=breakdown.equipment_id.display_name,
                start=format_datetime(self.env, breakdown.started_at),
                end=format_datetime(self.env, breakdown.blocked_until),
                reason=breakdown.reason or breakdown.name,
                workcenters=", ".join(breakdown.workcenter_ids.mapped("display_name")),
            ),
        )

    def _cmms_reschedule_around(self, breakdown):
        """Plan the orders again: the scheduler places their work orders not started outside the time off."""
        for production in self.filtered(lambda p: p.state in ("confirmed", "progress") and p.is_planned):
            production._plan_workorders(replan=True)
            production.message_post(
                body=self.env._(
                    "Planned again around breakdown %(breakdown)s of %(equipment)s.",
                    breakdown=breakdown.name,
                    equipment=breakdown.equipment_id.display_name,
                )
            )
