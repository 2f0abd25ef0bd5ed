# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

ACTIONS = {
    "mrp.production.confirmed": "create",
    "mrp.production.updated": "update",
    "mrp.production.cancelled": "cancel",
}


class MesProductionOrderProcessor(models.AbstractModel):
    """Builds ``mes.production_order`` v1: what the MES must know to make an order.

    Products and work centres go out as the MES knows them (mappings); a
    missing code keeps the message in exception until the mapping exists.
    Units go out by their mapped code, or by their Odoo name when unmapped.
    """

    _name = "integration.processor.mes.production_order"
    _inherit = "integration.processor"
    _description = "MES: production order (outbound)"

    def _prepare_payload(self, flow, production, event_code):
        backend = flow.backend_id
        Mapping = self.env["integration.mapping"]
        return {
            "action": ACTIONS[event_code],
            "order_ref": production.name,
            "product": Mapping._external_code(backend, production.product_id),
            "quantity": production.product_qty,
            "unit": self._unit_code(backend, production.product_uom_id),
            "planned_start": self._format_datetime(production.date_start),
            "planned_end": self._format_datetime(production.date_finished),
            "tracking": production.product_id.tracking,
            "components": [
                {
                    "product": Mapping._external_code(backend, move.product_id),
                    "quantity": move.product_uom_qty,
                    "unit": self._unit_code(backend, move.product_uom),
                    "tracking": move.product_id.tracking,
                }
                for move in production.move_raw_ids.filtered(lambda m: m.state != "cancel")
            ],
            "operations": [
                {
                    "sequence": index,
                    "name": workorder.name,
                    "work_center": Mapping._external_code(backend, workorder.workcenter_id),
                    "expected_minutes": workorder.duration_expected,
                }
                for index, workorder in enumerate(production.workorder_ids, start=1)
            ],
        }

    def _unit_code(self, backend, uom):
        return self.env["integration.mapping"]._external_code(backend, uom, default=uom.name)
