# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from odoo.addons.integration_base.exceptions import DefinitiveBusinessError, IntegrationBusinessError


class MesOperationEventProcessor(models.AbstractModel):
    """Applies ``mes.operation_event`` v1: a work order started, paused, resumed or finished at the plant.

    The event is kept on the work order (``mes.operation.event``) and the
    work order's time tracking and state follow from all of its events,
    sorted by the floor's timestamps (``mrp.workorder._mes_follow_floor``), so
    durations are the intervals the floor reported whatever order the events
    arrive in, and starting an operation never counts anything as produced.
    """

    _name = "integration.processor.mes.operation_event"
    _inherit = "integration.processor"
    _description = "MES: operation event"

    def _process_inbound(self, message, payload):
        production = self.env["mrp.production"]._mes_find(message.backend_id, payload["order_ref"])
        # A refusal from here on shows on the order (and on the work order it names).
        with self._concerning(production):
            return self._apply_event(message, payload, production)

    def _apply_event(self, message, payload, production):
        backend = message.backend_id
        workorder = self._workorder(backend, production, payload)
        at = self._parse_datetime(payload["at"], "event time")
        self._check_still_open(backend, workorder, at, payload["action"])
        self.env["mes.operation.event"].create(
            {
                "backend_id": backend.id,
                "workorder_id": workorder.id,
                "event_ref": payload["event_id"],
                "action": payload["action"],
                "at": at,
                "operator": payload.get("operator"),
            }
        )
        workorder._mes_follow_floor(backend)
        return workorder

    def _check_still_open(self, backend, workorder, at, action):
        """A closed operation takes only the late events of its own time.

        One the MES finished takes the events from before that finish; one
        that Odoo finished with its order (the MES's final confirmation came
        before the operation's own events) takes them all: they are the
        floor's account of it.
        """
        finished_at = workorder._mes_finished_at(backend)
        late_but_in_time = workorder.state == "done" and (not finished_at or at <= finished_at)
        if workorder.state in ("done", "cancel") and not late_but_in_time:
            raise DefinitiveBusinessError(
                self.env._(
                    "Work order %(wo)s is already %(state)s: it cannot %(action)s.",
                    wo=workorder.display_name,
                    state=self._selection_label(workorder).lower(),
                    action=action,
                ),
                records=workorder,
            )

    def _workorder(self, backend, production, payload):
        """The order's one work order on the reported work centre (and operation, when named)."""
        workcenter = self.env["integration.mapping"]._lookup(
            backend, "mrp.workcenter", payload["work_center"]
        )
        workorders = production.workorder_ids.filtered(
            lambda w: w.workcenter_id == workcenter
            and (not payload.get("operation") or w.name == payload["operation"])
        )
        if len(workorders) != 1:
            raise IntegrationBusinessError(
                self.env._(
                    "Order %(ref)s has %(count)s work orders on %(wc)s%(op)s: the event needs exactly one.",
                    ref=production.name,
                    count=len(workorders),
                    wc=workcenter.display_name,
                    op=f" named '{payload['operation']}'" if payload.get("operation") else "",
                )
            )
        return workorders
