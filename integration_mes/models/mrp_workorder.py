# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MrpWorkorder(models.Model):
    """Work orders keep the floor's operation events, and their time tracking follows them.

    Odoo's Start, Pause and Done buttons are made for a person at a tablet:
    they stamp the current time, keep one timer per user, and Start sets the
    order's producing quantity while Done picks components. None of that is
    what an MES reports, so the MES's events are kept as they came, and the
    work order's MES time lines and state are derived from them
    (:meth:`_mes_follow_floor`).
    """

    _name = "mrp.workorder"
    _inherit = ["mrp.workorder", "integration.record.mixin"]

    mes_event_ids = fields.One2many(
        "mes.operation.event",
        "workorder_id",
        string="Floor Events",
        help="Start, pause, resume and finish of this operation as the MES reported them.",
    )

    def _mes_finished_at(self, backend):
        """When the MES said this operation finished, or False."""
        finishes = self.mes_event_ids.filtered(lambda e: e.backend_id == backend and e.action == "finish")
        return max(finishes.mapped("at"), default=False)

    def _mes_follow_floor(self, backend):
        """Rebuild this work order's MES time lines and state from the events of ``backend``.

        Every interval the floor reported is one time line, whatever order its
        events came in; the work order is in progress from the first start and
        done at the finish. Quantities and components are left alone: they are
        the confirmations' business.
        """
        self.ensure_one()
        events = self.mes_event_ids.filtered(lambda e: e.backend_id == backend)
        Productivity = self.env["mrp.workcenter.productivity"]
        Productivity.search([("workorder_id", "=", self.id), ("mes_backend_id", "=", backend.id)]).unlink()
        tracked = self.duration
        for start, end, operator in events._intervals():
            line = self._prepare_timeline_vals(tracked, start, end)
            line["mes_backend_id"] = backend.id
            line["description"] = self.env._("MES: %s", operator or backend.display_name)
            Productivity.create(line)
            if end:
                tracked += (end - start).total_seconds() / 60
        started = min(events.filtered(lambda e: e.action in ("start", "resume")).mapped("at"), default=False)
        finished = self._mes_finished_at(backend)
        values = {}
        if started and (not self.date_start or self.state not in ("progress", "done")):
            values["date_start"] = started
        if finished and self.state != "done":
            values.update(
                state="done",
                date_finished=finished,
                qty_produced=self.qty_produced or self.qty_producing or self.qty_production,
                costs_hour=self.workcenter_id.costs_hour,
            )
        elif finished and self.date_finished != finished:
            # Closed with its order before the MES's finish came: the floor's time is the finish.
            values["date_finished"] = finished
        elif started and self.state not in ("progress", "done"):
            values["state"] = "progress"
        if values:
            self.with_context(bypass_duration_calculation=True).write(values)
