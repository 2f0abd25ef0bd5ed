# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Plant A with an active MES backend, its contracts in force, mappings and a bill of materials."""

from odoo.addons.integration_base.lib.webhook_signature import generate_secret
from odoo.addons.integration_base.tests.common import IntegrationCase, LocalPartnerMixin


class MesCase(LocalPartnerMixin, IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Product = cls.env["product.product"]
        cls.gearbox = Product.create({"name": "Gearbox", "is_storable": True, "tracking": "lot"})
        cls.shaft = Product.create({"name": "Shaft", "is_storable": True})
        cls.housing = Product.create({"name": "Housing", "is_storable": True})
        cls.assembly = cls.env["mrp.workcenter"].create({"name": "Assembly"})
        cls.bom = cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": cls.gearbox.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [
                    (0, 0, {"product_id": cls.shaft.id, "product_qty": 2}),
                    (0, 0, {"product_id": cls.housing.id, "product_qty": 1}),
                ],
                "operation_ids": [
                    (0, 0, {"name": "Assemble", "workcenter_id": cls.assembly.id, "time_cycle_manual": 30}),
                ],
            }
        )
        for product in (cls.shaft, cls.housing):
            cls.env["stock.quant"]._update_available_quantity(product, cls.plant_a.lot_stock_id, 100)
        cls.mes = cls._create_backend("plant-a-mes", system_type="mes", plant=cls.plant_a)
        cls.secret = generate_secret()
        cls.env["integration.credential"].create(
            {"backend_id": cls.mes.id, "kind": "hmac", "secret": cls.secret}
        )
        cls.mes.action_activate()
        cls.mes.action_add_contracts()
        cls.mes.flow_ids.write({"retry_backoff_seconds": 0})
        cls.mes.flow_ids.action_activate()
        cls.damaged = cls.env["stock.scrap.reason.tag"].create({"name": "Damaged"})
        cls.breakdown = cls.env["mrp.workcenter.productivity.loss"].search(
            [("loss_type", "=", "availability")], limit=1
        )
        cls.Mapping = cls.env["integration.mapping"]
        for code, record in (
            ("GBX-100", cls.gearbox),
            ("SH-1", cls.shaft),
            ("HS-1", cls.housing),
            ("WC-ASM", cls.assembly),
            ("SCR-2", cls.damaged),
            ("BRK", cls.breakdown),
        ):
            cls.Mapping.create({"backend_id": cls.mes.id, "external_code": code, "record_ref": record})
        cls.Message = cls.env["integration.message"]

    def _order(self, quantity=10, plant=None, confirm=True):
        production = self.env["mrp.production"].create(
            {
                "product_id": self.gearbox.id,
                "product_qty": quantity,
                "bom_id": self.bom.id,
                "picking_type_id": (plant or self.plant_a).manu_type_id.id,
            }
        )
        if confirm:
            production.action_confirm()
        return production

    def _receive(self, flow_code, payload):
        """Ingest an MES message and run the backend's job, as the webhook and the runner would."""
        message, _created = self.Message._ingest(self.mes, flow_code, payload)
        self._drain()
        return message

    def _drain(self):
        self._dispatch(self.mes)

    def _outbound(self, production):
        return self.Message.search(
            [
                ("direction", "=", "outbound"),
                ("link_ids.res_model", "=", "mrp.production"),
                ("link_ids.res_id", "=", production.id),
            ],
            order="id",
        )
