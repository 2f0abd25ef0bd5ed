# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import float_compare

from odoo.addons.integration_base.exceptions import (
    DefinitiveBusinessError,
    IntegrationBusinessError,
    MissingMappingError,
)

# Unit codes that mean "each" in X12 (EA, UN, PC) and EDIFACT / UN/ECE rec. 20 (PCE, C62, EA).
EACH = {"EA", "UN", "PC", "PCE", "C62", "H87"}


class IntegrationProcessorEdiOrder(models.AbstractModel):
    """``edi.order``: a partner's purchase order (850 / ORDERS) becomes its sale order.

    Lines find their product by the partner's item code (a mapping), else by
    our own code (the vendor item is our internal reference), else by GTIN
    (the barcode). A line that finds none holds the whole order: the message
    waits for the mapping of the first such item and names every one. Prices
    are checked against the partner's pricelist: the order keeps ours, the
    line remembers the partner's, and the order response says so.
    """

    _name = "integration.processor.edi.order"
    _inherit = "integration.processor.edi"
    _description = "EDI: purchase order received"

    def _process_inbound(self, message, payload):
        backend = message.backend_id
        Binding = self.env["integration.binding"]
        number = payload["number"]
        known = Binding._find_bound(backend, "sale.order", number)
        if known:
            raise DefinitiveBusinessError(
                self.env._(
                    "%(partner)s sent purchase order %(number)s again: it is sale order %(order)s already. "
                    "Changes and cancellations of an order are agreed with the partner, not applied: cancel "
                    "this message once done.",
                    partner=backend.partner_id.display_name,
                    number=number,
                    order=known.name,
                ),
                records=known,
            )
        products = self._products(backend, payload["lines"])
        partner = backend.partner_id
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "partner_shipping_id": self._ship_to(backend, payload).id,
                "client_order_ref": number,
                "origin": self.env._("EDI %s", number),
                "edi_backend_id": backend.id,
                "warehouse_id": backend.warehouse_id.id
                or self.env["sale.order"].default_get(["warehouse_id"]).get("warehouse_id"),
                "commitment_date": self._parse_day(payload.get("requested_date")),
                "order_line": [
                    (0, 0, self._line_values(backend, line, product))
                    for line, product in zip(payload["lines"], products, strict=True)
                ],
            }
        )
        Binding._bind(backend, order, number)
        with self._concerning(order):
            self._check_prices(order)
            if backend.edi_confirm_orders:
                order.action_confirm()
        return order

    def _products(self, backend, lines):
        """The product of each line; the lines that find none, all named, hold the order."""
        found, missing = [], []
        for line in lines:
            product = self._product(backend, line)
            found.append(product)
            if not product:
                missing.append(line)
        if missing:
            first = missing[0]
            code = first.get("buyer_item") or first.get("vendor_item") or first.get("gtin") or "?"
            raise MissingMappingError(
                self.env._(
                    "%(partner)s ordered items Odoo cannot match with a product (by the partner's item code, "
                    "our reference or the GTIN):\n%(lines)s\nMap each of the partner's codes to its product "
                    "(Integration > Monitoring > Codes to Map); the order then goes on by itself.",
                    partner=backend.partner_id.display_name,
                    lines="\n".join(self._describe(line) for line in missing),
                ),
                "product.product",
                code,
            )
        return found

    def _describe(self, line):
        codes = ", ".join(
            f"{label} {line[key]}"
            for key, label in (
                ("buyer_item", self.env._("partner's item")),
                ("vendor_item", self.env._("our item")),
                ("gtin", "GTIN"),
            )
            if line.get(key)
        )
        text = self.env._(
            "line %(line)s: %(codes)s", line=line.get("line") or "?", codes=codes or self.env._("no code")
        )
        return f"{text} ({line['description']})" if line.get("description") else text

    def _product(self, backend, line):
        Product = self.env["product.product"]
        company = backend.company_id
        if line.get("buyer_item"):
            mapping = self.env["integration.mapping"]._find(
                backend, line["buyer_item"], res_model="product.product"
            )
            product = Product.browse(mapping.res_id).exists() if mapping else Product
            if product:
                return product
        domain = [("sale_ok", "=", True), ("company_id", "in", (False, company.id))]
        for field_name, key in (("default_code", "vendor_item"), ("barcode", "gtin")):
            if line.get(key):
                product = Product.search([*domain, (field_name, "=", line[key])], limit=1)
                if product:
                    return product
        return Product

    def _ship_to(self, backend, payload):
        """The delivery address: the ship-to party mapped to a contact of the partner, or the partner."""
        party = next(
            (p for p in payload.get("parties") or [] if p.get("role") == "ship_to" and p.get("id")), None
        )
        if party:
            mapping = self.env["integration.mapping"]._find(backend, party["id"], res_model="res.partner")
            address = self.env["res.partner"].browse(mapping.res_id).exists() if mapping else None
            if address:
                return address
        return backend.partner_id

    def _line_values(self, backend, line, product):
        uom = product.uom_id
        return {
            "product_id": product.id,
            "product_uom_qty": self._edi_quantity(backend, line.get("quantity") or 0, line.get("unit"), uom),
            "edi_line_number": line.get("line") or False,
            "edi_buyer_item": line.get("buyer_item") or False,
            "edi_partner_price": line.get("price") or 0.0,
        }

    def _edi_quantity(self, backend, quantity, unit, uom):
        """The quantity in the product's unit; the partner's unit by its mapping, "each" known as such."""
        try:
            return self._quantity_in(backend, quantity, unit, uom)
        except MissingMappingError:
            if unit in EACH and uom == self.env.ref("uom.product_uom_unit"):
                return quantity
            raise

    def _check_prices(self, order):
        """Lines priced by the partner at another price than ours: kept at ours, and said on the order."""
        differing = order.order_line.filtered(
            lambda line: line.edi_partner_price
            and float_compare(line.edi_partner_price, line.price_unit, precision_digits=2) != 0
        )
        if differing:
            order.message_post(
                body=self.env._(
                    "The partner's prices differ from the pricelist on %(count)s line(s): %(lines)s. The "
                    "order keeps the pricelist's; the order response tells the partner.",
                    count=len(differing),
                    lines=", ".join(
                        f"{line.product_id.display_name} {line.edi_partner_price} / {line.price_unit}"
                        for line in differing
                    ),
                )
            )

    @staticmethod
    def _parse_day(value):
        return fields.Datetime.to_datetime(value[:10]) if value else False


class IntegrationProcessorEdiOrderResponse(models.AbstractModel):
    """``edi.order_response``: the sale order confirmed, answered to the partner (855 / ORDRSP)."""

    _name = "integration.processor.edi.order_response"
    _inherit = "integration.processor.edi"
    _description = "EDI: order response (outbound)"

    def _prepare_payload(self, flow, order, event_code):
        if not order.client_order_ref:
            raise IntegrationBusinessError(
                self.env._(
                    "Sale order %s has no customer reference: the partner cannot tell which order it "
                    "answers.",
                    order.name,
                )
            )
        lines = [self._line(order, line) for line in order.order_line if not line.display_type]
        statuses = {line["status"] for line in lines}
        status = (
            "accepted"
            if statuses <= {"accepted"}
            else ("rejected" if statuses == {"rejected"} else "changed")
        )
        document = {
            "document": "order_response",
            "number": order.name,
            "status": status,
            "order_number": order.client_order_ref,
            "date": fields.Date.context_today(order).isoformat(),
            "currency": order.currency_id.name,
            "lines": lines,
        }
        return self._enveloped(flow.backend_id, document, order)

    def _line(self, order, line):
        backend = order.edi_backend_id
        ordered = line.product_uom_qty
        price_changed = line.edi_partner_price and float_compare(
            line.edi_partner_price, line.price_unit, precision_digits=2
        )
        status = "rejected" if not ordered else ("changed" if price_changed else "accepted")
        values = {
            "line": line.edi_line_number or str(line.sequence),
            "status": status,
            "quantity": ordered,
            "accepted_quantity": ordered,
            "unit": self._unit_code(backend, line.product_uom_id),
            "price": line.price_unit,
            "vendor_item": line.product_id.default_code or None,
            "gtin": line.product_id.barcode or None,
            "buyer_item": line.edi_buyer_item or None,
            "description": line.product_id.name,
        }
        return {key: value for key, value in values.items() if value is not None}
