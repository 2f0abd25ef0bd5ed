# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

# What the CMMS says of equipment, and so of the work centres that need it.
CMMS_STATES = [("running", "Running"), ("down", "Down"), ("maintenance", "In Maintenance")]


class CmmsWorkcenterBlockMixin(models.AbstractModel):
    """A time during which the CMMS takes equipment, and so its work centres, away from production.

    Breakdowns and maintenance windows both become time off (``resource.calendar.leaves``)
    of each work centre the equipment serves: that is what Odoo's scheduler plans around
    and what the work centre's capacity is computed from. The leaves belong to the record
    that made them, follow its times and go with it.
    """

    _name = "cmms.workcenter.block.mixin"
    _description = "CMMS: work centres blocked for a time"
    _listing_action = None  # the xml id of the model's menu action

    backend_id = fields.Many2one(
        "integration.backend", required=True, readonly=True, index=True, help="The CMMS that reported it."
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, help="The CMMS backend's company."
    )
    warehouse_id = fields.Many2one(
        related="backend_id.warehouse_id", store=True, string="Plant", help="The CMMS backend's plant."
    )
    equipment_id = fields.Many2one(
        "maintenance.equipment", required=True, readonly=True, index=True, help="The equipment taken away."
    )
    workcenter_ids = fields.Many2many(
        "mrp.workcenter",
        string="Work Centres",
        readonly=True,
        help="The work centres the equipment serves, blocked for the time (set on the equipment).",
    )
    work_order_ref = fields.Char(
        string="CMMS Work Order",
        readonly=True,
        help="The CMMS work order of the repair or of the maintenance, as the CMMS calls it.",
    )
    request_id = fields.Many2one(
        "maintenance.request",
        string="Maintenance Request",
        readonly=True,
        index="btree_not_null",
        help="The maintenance request of that work order, once Odoo has it.",
    )
    leave_ids = fields.Many2many(
        "resource.calendar.leaves",
        string="Time Off",
        readonly=True,
        help="The time off made on the work centres' calendars: what planning sees.",
    )

    @api.model
    def _action_listing(self, domain):
        """This model's menu action, narrowed to ``domain``: where the smart buttons lead."""
        action = self.env["ir.actions.act_window"]._for_xml_id(self._listing_action)
        action["domain"] = domain
        return action

    def _one_per_workcenter(self, records, resource_of, values, new_values):
        """``records`` (leaves, productivity lines) made one per work centre the equipment serves.

        Each record belongs to the work centre whose resource ``resource_of(record)`` is: those
        of a work centre the equipment no longer serves go, the others take ``values``, and a
        work centre without one gets one of ``values`` and ``new_values(workcenter)``. Returns
        the records of the work centres served.
        """
        workcenters = self.equipment_id.workcenter_ids
        kept = records.filtered(lambda record: resource_of(record) in workcenters.resource_id)
        (records - kept).unlink()
        kept.write(values)
        covered = kept.mapped(resource_of)
        missing = workcenters.filtered(lambda workcenter: workcenter.resource_id not in covered)
        return kept | records.create([{**values, **new_values(workcenter)} for workcenter in missing])

    def _block_workcenters(self, date_from, date_to, name):
        """Make the work centres' time off span ``date_from`` to ``date_to``, one leave per work centre."""
        self.ensure_one()
        leaves = self._one_per_workcenter(
            self.leave_ids,
            lambda leave: leave.resource_id,
            {"name": name, "date_from": date_from, "date_to": date_to},
            lambda workcenter: {
                "calendar_id": workcenter.resource_calendar_id.id,
                "resource_id": workcenter.resource_id.id,
                "company_id": workcenter.company_id.id or self.company_id.id,
                "time_type": "leave",
            },
        )
        self.write(
            {
                "workcenter_ids": [fields.Command.set(self.equipment_id.workcenter_ids.ids)],
                "leave_ids": [fields.Command.set(leaves.ids)],
            }
        )

    def _unblock_workcenters(self):
        """Give the time back: the work centres are available again for planning."""
        self.leave_ids.unlink()

    def _capacity_hours(self, date_from, date_to):
        """The working hours of the work centres between the two times, as their calendars count them."""
        self.ensure_one()
        if not date_to or date_to <= date_from:
            return 0.0
        return sum(
            workcenter.resource_calendar_id.get_work_hours_count(date_from, date_to, compute_leaves=False)
            for workcenter in self.workcenter_ids
        )
