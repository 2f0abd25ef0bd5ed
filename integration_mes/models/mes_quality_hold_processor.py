# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from odoo.addons.integration_base.exceptions import IntegrationBusinessError


class MesQualityHoldProcessor(models.AbstractModel):
    """Applies ``mes.quality_hold`` v1: the plant holds or releases an order or a lot."""

    _name = "integration.processor.mes.quality_hold"
    _inherit = "integration.processor"
    _description = "MES: quality hold"

    def _process_inbound(self, message, payload):
        backend = message.backend_id
        Hold = self.env["mes.quality.hold"]
        hold = Hold.search([("backend_id", "=", backend.id), ("name", "=", payload["hold_id"])], limit=1)
        if payload["action"] == "release":
            if not hold:
                raise IntegrationBusinessError(
                    self.env._(
                        "%(backend)s released hold %(hold)s, which it never sent.",
                        backend=backend.display_name,
                        hold=payload["hold_id"],
                    )
                )
            if hold.state == "held":
                hold._release()
            return [hold, *hold.production_id]
        if hold:
            return [hold, *hold.production_id]
        production = self.env["mrp.production"]
        if payload.get("order_ref"):
            production = production._mes_find(backend, payload["order_ref"])
        with self._concerning(production):
            lot = self._lot(backend, payload.get("lot"))
        hold = Hold.create(
            {
                "name": payload["hold_id"],
                "backend_id": backend.id,
                "production_id": production.id,
                "lot_id": lot.id,
                "reason": payload.get("reason"),
            }
        )
        for held in production | hold._held_orders_of_lots():
            held.message_post(
                body=self.env._("Put on quality hold by the plant: %s", payload.get("reason") or hold.name)
            )
        return [hold, *production]

    def _lot(self, backend, name):
        if not name:
            return self.env["stock.lot"]
        lot = self.env["stock.lot"].search(
            [("name", "=", name), ("company_id", "in", (backend.company_id.id, False))], limit=1
        )
        if not lot:
            raise IntegrationBusinessError(self.env._("Lot %s is unknown in Odoo.", name))
        return lot
