# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from odoo.addons.integration_base.exceptions import IntegrationBusinessError


class CmmsSparePartUsageProcessor(models.AbstractModel):
    """Applies ``cmms.spare_part_usage`` v1: spare parts a CMMS work order used, issued from stock.

    Each part leaves the plant's stock for the backend's maintenance
    consumption location in a done stock move that names the maintenance
    request, at the part's cost then: stock goes down when maintenance uses
    the part, so reordering rules buy it again. A usage about a work order
    Odoo does not have yet waits for it; a part Odoo cannot find waits for
    its mapping; a part short in stock is refused, saying how many there are,
    and nothing of the usage is issued.
    """

    _name = "integration.processor.cmms.spare_part_usage"
    _inherit = "integration.processor.cmms"
    _description = "CMMS: spare parts used"

    def _process_inbound(self, message, payload):
        backend = message.backend_id
        Binding = self.env["integration.binding"]
        request = Binding._bound_or_wait(backend, "maintenance.request", payload["work_order_id"])
        source, destination = self._locations(backend)
        used_at = self._parse_datetime(payload.get("used_at"), "usage time")
        moves = self.env["stock.move"]
        with self._concerning(request):
            for line_no, line in enumerate(payload["parts"], start=1):
                line_id = f"{payload['usage_id']}/{line_no}"
                issued = Binding._find_bound(backend, "stock.move", line_id)
                if not issued:
                    issued = Binding._bind(
                        backend, self._issue(backend, request, source, destination, line), line_id
                    )
                moves |= issued
            if used_at:
                moves.move_line_ids.write({"date": used_at})
                moves.write({"date": used_at})
        return [request, *moves]

    def _locations(self, backend):
        if not backend.warehouse_id:
            raise IntegrationBusinessError(
                self.env._(
                    "%s has no plant: Odoo cannot tell whose stock the spare parts came from. Set the "
                    "backend's plant, then retry.",
                    backend.display_name,
                )
            )
        destination = backend.cmms_consumption_location_id
        if not destination:
            raise IntegrationBusinessError(
                self.env._(
                    "%s has no location for spare parts consumed: set it on the backend.",
                    backend.display_name,
                )
            )
        return backend.warehouse_id.lot_stock_id, destination

    def _issue(self, backend, request, source, destination, line):
        """One done move of the part from the plant's stock, or a refusal a storekeeper can act on."""
        product = self.env["integration.mapping"]._lookup(backend, "product.product", line["part"])
        quantity = self._quantity_in(backend, line["quantity"], line.get("unit"), product.uom_id)
        lot = self._lot(product, line.get("lot"))
        available = product.with_context(location=source.id, lot_id=lot.id or None).qty_available
        if product.is_storable and product.uom_id.compare(available, quantity) < 0:
            raise IntegrationBusinessError(
                self.env._(
                    "%(location)s holds %(available)s %(uom)s of %(part)s%(lot)s, but the CMMS reports "
                    "%(quantity)s used on %(request)s. Receive or count the part, then retry.",
                    location=source.display_name,
                    available=available,
                    uom=product.uom_id.name,
                    part=product.display_name,
                    lot=self.env._(" in lot %s", lot.name) if lot else "",
                    quantity=quantity,
                    request=request.display_name,
                )
            )
        move = self.env["stock.move"].create(
            {
                "product_id": product.id,
                "product_uom_qty": quantity,
                "product_uom": product.uom_id.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "origin": request.display_name,
                "company_id": backend.company_id.id,
                "cmms_request_id": request.id,
                "cmms_unit_cost": product.standard_price,
            }
        )
        move._action_confirm()
        move.move_line_ids.unlink()
        self.env["stock.move.line"].create(
            {
                "move_id": move.id,
                "product_id": product.id,
                "product_uom_id": product.uom_id.id,
                "quantity": quantity,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "lot_id": lot.id or False,
                "company_id": backend.company_id.id,
            }
        )
        move.picked = True
        move._action_done()
        return move

    def _lot(self, product, lot_name):
        Lot = self.env["stock.lot"]
        if product.tracking == "none":
            return Lot
        if not lot_name:
            raise IntegrationBusinessError(
                self.env._(
                    "%s is tracked by lot or serial number: the CMMS must say which one was used.",
                    product.display_name,
                )
            )
        lot = Lot.search([("product_id", "=", product.id), ("name", "=", lot_name)], limit=1)
        if not lot:
            raise IntegrationBusinessError(
                self.env._("Odoo has no lot %(lot)s of %(part)s.", lot=lot_name, part=product.display_name)
            )
        return lot
