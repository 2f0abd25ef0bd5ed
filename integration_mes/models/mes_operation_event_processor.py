# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from odoo.addons.integration_base.exceptions import DefinitiveBusinessError, IntegrationBusinessError


class MesOperationEventProcessor(models.AbstractModel):
    """Applies ``mes.operation_event`` v1: a work order started, paused, resumed or finished at the plant.

    Odoo's own buttons change the work order's state and time tracking; the
    time lines then get the MES's timestamps, so durations (and the
    work centre's productivity figures) are those of the shop floor, not of
    the moment the message was processed.
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
        action = payload["action"]
        if workorder.state in ("done", "cancel"):
            raise DefinitiveBusinessError(
                self.env._(
                    "Work order %(wo)s is already %(state)s: it cannot %(action)s.",
                    wo=workorder.display_name,
                    state=self._selection_label(workorder).lower(),
                    action=action,
                ),
                records=workorder,
            )
        if action in ("start", "resume"):
            workorder.button_start()
            workorder.time_ids.filtered(lambda t: not t.date_end).write({"date_start": at})
        else:
            running = workorder.time_ids.filtered(lambda t: not t.date_end)
            if action == "pause":
                workorder.end_all()
            else:
                workorder.button_finish()
            running.filtered(lambda t: t.date_start <= at).write({"date_end": at})
        production.message_post(
            body=self.env._(
                "MES: %(action)s %(operation)s at %(at)s%(by)s",
                action=action,
                operation=workorder.name,
                at=payload["at"],
                by=f" by {payload['operator']}" if payload.get("operator") else "",
            )
        )
        return workorder

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
