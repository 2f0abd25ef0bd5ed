# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MesDowntimeProcessor(models.AbstractModel):
    """Applies ``mes.downtime`` v1: a work centre stopped, and later started again.

    The stop becomes a work centre productivity line with the mapped loss
    reason, which is what Odoo's availability and OEE figures are computed
    from; the message that reports its end closes the same line (bound to the
    MES's downtime id). When the stop
    hits orders running on that work centre, each order's planner gets one
    activity.
    """

    _name = "integration.processor.mes.downtime"
    _inherit = "integration.processor"
    _description = "MES: work centre downtime"

    def _process_inbound(self, message, payload):
        backend = message.backend_id
        Mapping = self.env["integration.mapping"]
        workcenter = Mapping._lookup(backend, "mrp.workcenter", payload["work_center"])
        loss = Mapping._lookup(backend, "mrp.workcenter.productivity.loss", payload["reason"])
        Binding = self.env["integration.binding"]
        model = "mrp.workcenter.productivity"
        known = Binding._find_bound(backend, model, payload["downtime_id"])
        # The stop and its end pair by the MES's id whatever order they come in: what one of
        # them said is never undone by the other, which may not know it.
        start = self._parse_datetime(payload.get("start"), "downtime start") or known.date_start
        end = self._parse_datetime(payload.get("end"), "downtime end") or known.date_end
        start = start or end
        self._check_time_order(start, end, self.env._("Downtime %s", payload["downtime_id"]))
        line = Binding._upsert(
            backend,
            model,
            payload["downtime_id"],
            {
                "workcenter_id": workcenter.id,
                "loss_id": loss.id,
                "date_start": start,
                "date_end": end,
                "description": payload.get("comment") or known.description or loss.name,
                "company_id": workcenter.company_id.id or backend.company_id.id,
            },
        )
        if not known and not end:
            self._warn_planners(message, workcenter, loss, payload)
        return line

    def _warn_planners(self, message, workcenter, loss, payload):
        """One activity per running order on the stopped work centre, for its planner."""
        running = (
            self.env["mrp.workorder"]
            .search([("workcenter_id", "=", workcenter.id), ("state", "=", "progress")])
            .production_id
        )
        for production in running:
            production.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=(production.user_id or message.flow_id.owner_id).id,
                summary=self.env._("%s is down", workcenter.display_name),
                note=self.env._(
                    "The MES reports %(wc)s stopped since %(start)s (%(reason)s): order %(ref)s is affected.",
                    wc=workcenter.display_name,
                    start=payload["start"],
                    reason=loss.name,
                    ref=production.name,
                ),
            )
