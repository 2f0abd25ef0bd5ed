# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Plant A with an active CMMS backend, a press serving a work centre, a product made on it, spare parts."""

from datetime import datetime, time, timedelta

from odoo.addons.integration_base.lib.webhook_signature import generate_secret
from odoo.addons.integration_base.tests.common import IntegrationCase


def next_monday_at(hour):
    """A Monday at least a week ahead, at ``hour`` UTC: always in the future, always a working day."""
    today = datetime.now().date()
    monday = today + timedelta(days=7 - today.weekday() + 7)
    return datetime.combine(monday, time(hour))


class CmmsCase(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Two shifts a day, Monday to Friday, in UTC: the tests' times are the calendar's.
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Two shifts",
                "tz": "UTC",
                "attendance_ids": [
                    (0, 0, {"name": f"Day {day}", "dayofweek": str(day), "hour_from": 6, "hour_to": 22})
                    for day in range(5)
                ],
            }
        )
        cls.press_line = cls.env["mrp.workcenter"].create(
            {"name": "Press Line", "resource_calendar_id": cls.calendar.id}
        )
        cls.press = cls.env["maintenance.equipment"].create(
            {
                "name": "Press P-100",
                "warehouse_id": cls.plant_a.id,
                "workcenter_ids": [(6, 0, cls.press_line.ids)],
            }
        )
        Product = cls.env["product.product"]
        cls.bracket = Product.create({"name": "Bracket", "is_storable": True})
        cls.bom = cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": cls.bracket.product_tmpl_id.id,
                "product_qty": 1,
                "operation_ids": [
                    (0, 0, {"name": "Press", "workcenter_id": cls.press_line.id, "time_cycle_manual": 60}),
                ],
            }
        )
        cls.bearing = Product.create({"name": "Bearing 6204", "is_storable": True, "standard_price": 12.5})
        cls.env["stock.quant"]._update_available_quantity(cls.bearing, cls.plant_a.lot_stock_id, 8)
        cls.cmms = cls._create_backend("plant-a-cmms", system_type="cmms", plant=cls.plant_a)
        cls.secret = generate_secret()
        cls.env["integration.credential"].create(
            {"backend_id": cls.cmms.id, "kind": "hmac", "secret": cls.secret}
        )
        cls.cmms.action_activate()
        cls.cmms.action_add_contracts()
        cls.cmms.flow_ids.write({"retry_backoff_seconds": 0})
        cls.cmms.flow_ids.action_activate()
        cls.Mapping = cls.env["integration.mapping"]
        for code, record in (("P-100", cls.press), ("BRG-6204", cls.bearing)):
            cls.Mapping.create({"backend_id": cls.cmms.id, "external_code": code, "record_ref": record})
        cls.Message = cls.env["integration.message"]

    def _receive(self, flow_code, payload):
        """Ingest a CMMS message and run the backend's job, as the webhook and the runner would."""
        message, _created = self.Message._ingest(self.cmms, flow_code, payload)
        self._dispatch(self.cmms)
        return message

    def _receive_work_order(self, work_order_id="WO-7001"):
        """The CMMS's report of a repair on the press under way; the maintenance request Odoo keeps of it."""
        self._receive(
            "cmms.work_order",
            {
                "event_id": f"{work_order_id}-in-progress",
                "work_order_id": work_order_id,
                "equipment": "P-100",
                "title": "Replace bearing",
                "type": "corrective",
                "status": "in_progress",
                "updated_at": "2026-12-01T08:00:00Z",
            },
        )
        return self.env["integration.binding"]._find_bound(self.cmms, "maintenance.request", work_order_id)

    def _planned_order(self, quantity=4, start=None):
        """A confirmed order of brackets planned on the press line from ``start`` (one hour a bracket)."""
        production = self.env["mrp.production"].create(
            {
                "product_id": self.bracket.id,
                "product_qty": quantity,
                "bom_id": self.bom.id,
                "picking_type_id": self.plant_a.manu_type_id.id,
                "date_start": start or next_monday_at(6),
            }
        )
        production.action_confirm()
        production.button_plan()
        return production

    @staticmethod
    def _iso(moment):
        return moment.isoformat() + "Z"
