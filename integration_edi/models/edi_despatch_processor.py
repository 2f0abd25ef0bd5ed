# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo import models

from odoo.addons.integration_base.exceptions import IntegrationBusinessError

SSCC = re.compile(r"^[0-9]{18}$")


class IntegrationProcessorEdiDespatchAdvice(models.AbstractModel):
    """``edi.despatch_advice``: a delivery of the partner's order validated, announced (856 / DESADV).

    One package per Odoo package the goods left in (its SSCC when its name is
    one), the goods outside any package in one more; each line says which
    line of the partner's order it delivers, the lot and the quantity.
    """

    _name = "integration.processor.edi.despatch_advice"
    _inherit = "integration.processor.edi"
    _description = "EDI: despatch advice (outbound)"

    def _prepare_payload(self, flow, picking, event_code):
        order = picking.sale_id
        if not order.client_order_ref:
            raise IntegrationBusinessError(
                self.env._(
                    "Delivery %s is not for a partner's purchase order (its sale order has no customer "
                    "reference): the partner cannot tell what it delivers.",
                    picking.name,
                )
            )
        backend = flow.backend_id
        packages = {}
        for move_line in picking.move_line_ids.filtered("quantity"):
            packages.setdefault(move_line.result_package_id, []).append(self._line(backend, move_line))
        document = {
            "document": "despatch_advice",
            "number": picking.name,
            "date": (picking.date_done or picking.scheduled_date).date().isoformat(),
            "shipped_date": (picking.date_done or picking.scheduled_date).date().isoformat(),
            "order_number": order.client_order_ref,
            "packages": [
                self._package(package, lines)
                for package, lines in sorted(
                    packages.items(), key=lambda item: (not item[0], item[0].name or "")
                )
            ],
        }
        return self._enveloped(backend, document, picking)

    @staticmethod
    def _package(package, lines):
        values = {"lines": lines}
        if package and SSCC.match(package.name or ""):
            values["sscc"] = package.name
        return values

    def _line(self, backend, move_line):
        product = move_line.product_id
        sale_line = move_line.move_id.sale_line_id
        values = {
            "line": sale_line.edi_line_number or None,
            "buyer_item": sale_line.edi_buyer_item or None,
            "vendor_item": product.default_code or None,
            "gtin": product.barcode or None,
            "lot": move_line.lot_id.name or None,
            "quantity": move_line.quantity,
            "unit": self._unit_code(backend, move_line.product_uom_id),
            "description": product.name,
        }
        return {key: value for key, value in values.items() if value is not None}
