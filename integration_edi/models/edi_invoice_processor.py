# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from odoo.addons.integration_base.exceptions import IntegrationBusinessError


class IntegrationProcessorEdiInvoice(models.AbstractModel):
    """``edi.invoice``: an invoice of the partner's order posted, sent (810 / INVOIC).

    Lines refer to the partner's order lines they invoice; the totals and the
    tax are the invoice's own, as posted.
    """

    _name = "integration.processor.edi.invoice"
    _inherit = "integration.processor.edi"
    _description = "EDI: invoice (outbound)"

    def _prepare_payload(self, flow, invoice, event_code):
        orders = invoice.invoice_line_ids.sale_line_ids.order_id
        references = orders.filtered("client_order_ref").mapped("client_order_ref")
        if len(references) != 1:
            raise IntegrationBusinessError(
                self.env._(
                    "Invoice %(invoice)s must invoice exactly one purchase order of the partner to be sent "
                    "by EDI; it invoices %(count)s.",
                    invoice=invoice.name,
                    count=len(references),
                )
            )
        backend = flow.backend_id
        rates = invoice.invoice_line_ids.tax_ids.filtered(lambda tax: tax.amount_type == "percent").mapped(
            "amount"
        )
        document = {
            "document": "invoice",
            "number": invoice.name,
            "date": invoice.invoice_date.isoformat(),
            "order_number": references[0],
            "currency": invoice.currency_id.name,
            "lines": [
                self._line(backend, line)
                for line in invoice.invoice_line_ids
                if line.display_type == "product"
            ],
            "total": invoice.amount_total,
            "untaxed_total": invoice.amount_untaxed,
            "tax_amount": invoice.amount_tax,
        }
        if len(set(rates)) == 1:
            document["tax_rate"] = rates[0]
        return self._enveloped(backend, document, invoice)

    def _line(self, backend, line):
        sale_line = line.sale_line_ids[:1]
        product = line.product_id
        values = {
            "line": sale_line.edi_line_number or None,
            "buyer_item": sale_line.edi_buyer_item or None,
            "vendor_item": product.default_code or None,
            "gtin": product.barcode or None,
            "quantity": line.quantity,
            "unit": self._unit_code(backend, line.product_uom_id),
            "price": line.price_unit,
            "description": product.name,
        }
        return {key: value for key, value in values.items() if value is not None}
