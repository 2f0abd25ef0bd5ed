# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import models

# The contract of a stock snapshot flow: paste it (as JSON) in the flow's JSON Schema.
STOCK_SNAPSHOT_SCHEMA = {
    "type": "object",
    "required": ["snapshot_id", "taken_at", "lines"],
    "properties": {
        "snapshot_id": {"type": "string", "minLength": 1},
        "taken_at": {"type": "string", "format": "date-time"},
        "lines": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["product", "location", "quantity"],
                "properties": {
                    "product": {"type": "string", "minLength": 1},
                    "location": {"type": "string", "minLength": 1},
                    "quantity": {"type": "number"},
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}


class IntegrationProcessorStockSnapshot(models.AbstractModel):
    """Stock on hand counted by a WMS or MES, compared with Odoo's stock quants.

    Product and location codes are translated with the backend's mappings
    (models ``product.product`` and ``stock.location``). Odoo's figure for a
    snapshot location is the stock of that location and all its
    sub-locations, so a WMS that counts per zone can be compared with an Odoo
    that stores per bin; the snapshot's locations should therefore not
    contain one another.
    """

    _name = "integration.processor.stock.snapshot"
    _inherit = "integration.reconciliation.processor"
    _description = "Reconciliation: stock on hand (stock quants)"

    def _snapshot_lines(self, message, payload):
        backend = message.backend_id
        mapped = {}
        lines = {}
        for row in payload["lines"]:
            for res_model, code in (("product.product", row["product"]), ("stock.location", row["location"])):
                if (res_model, code) not in mapped:
                    mapped[res_model, code] = self._mapped_or_empty(backend, res_model, code)
            product = mapped["product.product", row["product"]]
            location = mapped["stock.location", row["location"]]
            # A WMS may count one product at one place several times (per lot, per pallet).
            key = (product, location) if product and location else (row["product"], row["location"])
            if key in lines:
                lines[key]["external_qty"] += row["quantity"]
                continue
            lines[key] = {
                "product_id": product.id,
                "location_id": location.id,
                "external_product_code": row["product"],
                "external_location_code": row["location"],
                "external_qty": row["quantity"],
            }
        return list(lines.values())

    def _odoo_quantities(self, reconciliation, products, locations):
        """Every product Odoo holds in each location, sub-locations included, whatever ``products``."""
        quantities = defaultdict(float)
        for location in locations:
            for product, quantity in self.env["stock.quant"]._read_group(
                [("location_id", "child_of", location.id)], ["product_id"], ["quantity:sum"]
            ):
                quantities[product, location] += quantity
        return quantities
