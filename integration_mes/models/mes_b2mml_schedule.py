# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo import models

from odoo.addons.integration_base.exceptions import DefinitiveBusinessError, WaitingError

from ..lib import b2mml

PROCESS_SCHEDULE = "isa95.process_production_schedule"


class MesB2mmlScheduleProcessor(models.AbstractModel):
    """Builds ``isa95.process_production_schedule`` v1: a manufacturing order as ISA-95 sees it.

    The order's content is that of the simple ``mes.production_order``
    contract (the same mappings of products, units and work centres, the
    same refusal when a code is missing), rearranged as a B2MML
    ProductionSchedule by ``lib/b2mml.py``. Each document has a BODID of
    its own, the message's idempotency key, by which the MES's acknowledge
    finds it again.
    """

    _name = "integration.processor.mes.b2mml.production_schedule"
    _inherit = "integration.processor.mes.b2mml"
    _description = "MES: ISA-95 production schedule (outbound)"

    def _prepare_payload(self, flow, production, event_code):
        order = self.env["integration.processor.mes.production_order"]._prepare_payload(
            flow, production, event_code
        )
        return b2mml.production_schedule(
            order,
            sender=self._b2mml_sender(),
            receiver=flow.backend_id.code,
            bodid=self._b2mml_bodid(),
            created_at=self._b2mml_now(),
        )


class MesB2mmlScheduleAcknowledgeProcessor(models.AbstractModel):
    """Applies ``isa95.acknowledge_production_schedule`` v1: the MES's answer to one of Odoo's schedules.

    Accepted (or accepted with changes, Modified) is noted on the order. A
    rejection becomes this message's exception, linked to the order, so that
    the order shows that the plant refused its schedule and why, until a
    person has acted on it (corrected the order, which sends it again) and
    cancelled the message.
    """

    _name = "integration.processor.mes.b2mml.schedule_acknowledge"
    _inherit = "integration.processor.mes.b2mml"
    _description = "MES: ISA-95 production schedule acknowledge"

    def _process_inbound(self, message, payload):
        answer = self._translated(b2mml.schedule_acknowledgement, payload)
        backend = message.backend_id
        schedule = self._schedule_message(backend, answer["original_bodid"])
        productions = self._productions(backend, answer, schedule)
        if answer["outcome"] == "Rejected":
            raise DefinitiveBusinessError(
                self.env._(
                    "The MES rejected the schedule %(bodid)s of %(orders)s: %(reason)s. Correct the order "
                    "(a change sends it again) or settle it with the plant, then cancel this message.",
                    bodid=answer["original_bodid"],
                    orders=", ".join(productions.mapped("name")),
                    reason=answer["reason"] or self.env._("no reason given"),
                ),
                records=productions,
            )
        for production in productions:
            production.message_post(
                body=self.env._(
                    "The MES %(outcome)s schedule %(bodid)s%(reason)s.",
                    outcome=self.env._("accepted, with changes,")
                    if answer["outcome"] == "Modified"
                    else self.env._("accepted"),
                    bodid=answer["original_bodid"],
                    reason=f" ({answer['reason']})" if answer["reason"] else "",
                )
            )
        return productions

    def _schedule_message(self, backend, bodid):
        """The schedule Odoo sent under ``bodid`` (its idempotency key), if any."""
        Message = self.env["integration.message"]
        found = Message._find_by_key(backend, PROCESS_SCHEDULE, "outbound", bodid)
        if found:
            return found
        # A schedule first kept waiting for a mapping got its BODID when it was built at last.
        return Message.search(
            [
                ("backend_id", "=", backend.id),
                ("flow_code", "=", PROCESS_SCHEDULE),
                ("direction", "=", "outbound"),
                ("payload", "like", json.dumps(bodid)),
            ],
            limit=1,
        )

    def _productions(self, backend, answer, schedule):
        """The orders the answer is about: those it names, else the one of the schedule it answers."""
        Production = self.env["mrp.production"]
        productions = Production
        for reference in answer["order_refs"]:
            try:
                productions |= Production._mes_find(backend, reference)
            except WaitingError as error:
                # Odoo sent the schedule: an order it does not know is not one to wait for.
                raise DefinitiveBusinessError(
                    self.env._(
                        "The MES answered about order %(ref)s, which Odoo does not know at plant %(plant)s.",
                        ref=reference,
                        plant=backend.warehouse_id.display_name,
                    )
                ) from error
        if not productions and schedule:
            productions = Production.browse(
                schedule.link_ids.filtered(lambda link: link.res_model == Production._name).mapped("res_id")
            ).exists()
        if not productions:
            raise DefinitiveBusinessError(
                self.env._(
                    "The MES answered a schedule %(bodid)s that Odoo did not send, about no order it names.",
                    bodid=answer["original_bodid"],
                )
            )
        return productions
