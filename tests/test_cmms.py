"""End to end: a plant's CMMS reports through the signed webhooks, the job runner applies, planning follows.

A press serves a work centre on a two-shift calendar. The CMMS reports a
breakdown during an order planned on it, a maintenance window, a work order
and the spare parts it used; each is a real signed call, applied by the live
server's job runner, and checked over JSON-RPC as a planner and a storekeeper
would: one activity for the order hit, the work centre's time off exactly the
breakdown's, a new order planned outside the window, stock issued and the
reordering rule asking for more.
"""

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from backends import connect_backend
from signed import signed_post
from standardwebhooks.webhooks import Webhook
from test_engine import wait_for_state

SECRET = "whsec_" + "Y21tcy1zZWNyZXQtb2YtdGhlLWVuZC10by1lbmQtdGVzdHM"
SETTLED = {"done", "exception", "dead", "cancelled"}
ODOO_FORMAT = "%Y-%m-%d %H:%M:%S"


def monday_at(hour):
    """A Monday two weeks ahead at ``hour`` UTC."""
    today = datetime.now(tz=UTC).date()
    return datetime.combine(today + timedelta(days=14 - today.weekday()), time(hour))


def iso(moment):
    return moment.isoformat() + "Z"


class MaintainedPlant:
    """A plant with its CMMS backend, a press serving a work centre, a product made on it and a spare part."""

    def __init__(self, odoo, server_url):
        self.odoo = odoo
        self.server_url = server_url
        self.code = f"e2e-cmms-{uuid.uuid4().hex[:6]}"
        [warehouse] = odoo.execute(
            "stock.warehouse", "search_read", [], fields=["id", "manu_type_id", "lot_stock_id"], limit=1
        )
        self.warehouse_id = warehouse["id"]
        self.stock_id = warehouse["lot_stock_id"][0]
        self.picking_type_id = warehouse["manu_type_id"][0]
        attendances = [
            (0, 0, {"name": f"Day {d}", "dayofweek": str(d), "hour_from": 6, "hour_to": 22}) for d in range(5)
        ]
        calendar = self.create(
            "resource.calendar", name=f"Two shifts {self.code}", tz="UTC", attendance_ids=attendances
        )
        self.workcenter = self.create(
            "mrp.workcenter", name=f"Press line {self.code}", resource_calendar_id=calendar
        )
        self.resource_id = self.read("mrp.workcenter", self.workcenter, "resource_id")["resource_id"][0]
        self.press = self.create(
            "maintenance.equipment",
            name=f"Press {self.code}",
            warehouse_id=self.warehouse_id,
            workcenter_ids=[(6, 0, [self.workcenter])],
        )
        self.bracket = self.create("product.product", name=f"Bracket {self.code}", is_storable=True)
        template = self.read("product.product", self.bracket, "product_tmpl_id")["product_tmpl_id"][0]
        self.bom = self.create(
            "mrp.bom",
            product_tmpl_id=template,
            product_qty=1,
            operation_ids=[
                (0, 0, {"name": "Press", "workcenter_id": self.workcenter, "time_cycle_manual": 60})
            ],
        )
        self.bearing = self.create(
            "product.product", name=f"Bearing {self.code}", is_storable=True, standard_price=12.5
        )
        quant = self.create(
            "stock.quant", product_id=self.bearing, location_id=self.stock_id, inventory_quantity=8
        )
        odoo.execute("stock.quant", "action_apply_inventory", [quant])
        self.backend = connect_backend(
            odoo,
            self.code,
            "cmms",
            self.warehouse_id,
            SECRET,
            mappings=(
                ("PRESS", "maintenance.equipment", self.press),
                ("BRG", "product.product", self.bearing),
            ),
        )

    def create(self, model, **values):
        return self.odoo.execute(model, "create", values)

    def read(self, model, record_id, *fields):
        return self.odoo.execute(model, "read", [record_id], fields=list(fields))[0]

    def send(self, flow_code, payload):
        """Post, signed, and wait until the runner settled the message; its fields."""
        response = signed_post(self.server_url, self.code, flow_code, payload, SECRET)
        assert response.status_code == 202, response.text
        return wait_for_state(
            self.odoo, response.json()["message_id"], SETTLED, fields=("state", "error_message")
        )

    def planned_order(self, quantity, start):
        production = self.create(
            "mrp.production",
            product_id=self.bracket,
            product_qty=quantity,
            bom_id=self.bom,
            picking_type_id=self.picking_type_id,
            date_start=start.strftime(ODOO_FORMAT),
        )
        self.odoo.execute("mrp.production", "action_confirm", [production])
        self.odoo.execute("mrp.production", "button_plan", [production])
        return production

    def planned_times(self, production):
        [workorder] = self.odoo.execute(
            "mrp.workorder",
            "search_read",
            [["production_id", "=", production]],
            fields=["date_start", "date_finished"],
        )
        return workorder["date_start"], workorder["date_finished"]

    def leaves(self):
        """The work centre's time off, as ``(from, to)``."""
        return [
            (leave["date_from"], leave["date_to"])
            for leave in self.odoo.execute(
                "resource.calendar.leaves",
                "search_read",
                # time off: the work orders' own planned slots are leaves of another type
                [["resource_id", "=", self.resource_id], ["time_type", "=", "leave"]],
                fields=["date_from", "date_to"],
            )
        ]


@pytest.fixture
def plant(odoo, server_url):
    return MaintainedPlant(odoo, server_url)


def odoo_time(moment):
    return moment.strftime(ODOO_FORMAT)


def test_a_breakdown_during_a_planned_order_tells_its_planner_once_and_blocks_exactly_its_time(plant, odoo):
    production = plant.planned_order(4, monday_at(6))
    assert plant.planned_times(production) == (odoo_time(monday_at(6)), odoo_time(monday_at(10)))
    report = {
        "event_id": f"{plant.code}-b1",
        "breakdown_id": "BD-1",
        "equipment": "PRESS",
        "start": iso(monday_at(7)),
        "expected_end": iso(monday_at(9)),
        "reason": "Main bearing seized",
        "failure": {"problem": "VIB", "cause": "3.4"},
    }
    assert plant.send("cmms.breakdown", report)["state"] == "done"
    again = signed_post(plant.server_url, plant.code, "cmms.breakdown", report, SECRET)
    assert again.status_code == 200 and again.json()["duplicate"], again.text
    assert plant.send("cmms.breakdown", {**report, "event_id": f"{plant.code}-b1-again"})["state"] == "done"

    activities = odoo.execute(
        "mail.activity",
        "search_read",
        [["res_model", "=", "mrp.production"], ["res_id", "=", production]],
        fields=["summary"],
    )
    assert [a["summary"] for a in activities if "broken down" in a["summary"]] == [
        f"Press {plant.code} is broken down"
    ]
    assert plant.leaves() == [(odoo_time(monday_at(7)), odoo_time(monday_at(9)))]
    [breakdown] = odoo.execute(
        "cmms.breakdown",
        "search_read",
        [["backend_id", "=", plant.backend]],
        fields=[
            "state",
            "capacity_hours_lost",
            "quantity_not_produced",
            "failure_mode_id",
            "production_count",
        ],
    )
    assert (breakdown["state"], breakdown["production_count"], breakdown["capacity_hours_lost"]) == (
        "down",
        1,
        2.0,
    )
    assert breakdown["quantity_not_produced"] == 2.0
    assert breakdown["failure_mode_id"][1].startswith("VIB")
    assert plant.read("mrp.workcenter", plant.workcenter, "working_state")["working_state"] == "blocked"

    end = {
        "event_id": f"{plant.code}-b2",
        "breakdown_id": "BD-1",
        "equipment": "PRESS",
        "end": iso(monday_at(8)),
    }
    assert plant.send("cmms.breakdown", end)["state"] == "done"
    assert plant.leaves() == [(odoo_time(monday_at(7)), odoo_time(monday_at(8)))]
    assert plant.read("mrp.workcenter", plant.workcenter, "working_state")["working_state"] == "normal"


def test_planning_places_a_new_order_outside_a_maintenance_window(plant):
    window = {
        "event_id": f"{plant.code}-w1",
        "window_id": "MW-1",
        "equipment": "PRESS",
        "start": iso(monday_at(6)),
        "end": iso(monday_at(12)),
        "status": "approved",
        "title": "Overhaul",
    }
    assert plant.send("cmms.maintenance_window", window)["state"] == "done"
    production = plant.planned_order(2, monday_at(6))
    assert plant.planned_times(production) == (odoo_time(monday_at(12)), odoo_time(monday_at(14)))


def test_a_work_order_and_its_spare_parts_move_stock_and_can_trigger_a_replenishment(plant, odoo):
    orderpoint = plant.create(
        "stock.warehouse.orderpoint",
        product_id=plant.bearing,
        warehouse_id=plant.warehouse_id,
        location_id=plant.stock_id,
        product_min_qty=5,
        product_max_qty=10,
    )
    usage = {
        "event_id": f"{plant.code}-s1",
        "usage_id": "U-1",
        "work_order_id": "WO-1",
        "parts": [{"part": "BRG", "quantity": 4}],
    }
    early = signed_post(plant.server_url, plant.code, "cmms.spare_part_usage", usage, SECRET)
    assert early.status_code == 202, early.text
    work_order = {
        "event_id": f"{plant.code}-o1",
        "work_order_id": "WO-1",
        "equipment": "PRESS",
        "title": "Replace bearing",
        "type": "corrective",
        "status": "in_progress",
        "updated_at": iso(datetime.now(tz=UTC).replace(tzinfo=None)),
    }
    assert plant.send("cmms.work_order", work_order)["state"] == "done"
    assert wait_for_state(odoo, early.json()["message_id"], SETTLED)["state"] == "done", (
        "it waited for the work order"
    )
    [request] = odoo.execute(
        "maintenance.request",
        "search_read",
        [["equipment_id", "=", plant.press]],
        fields=["cmms_spare_part_cost"],
    )
    assert request["cmms_spare_part_cost"] == 50.0
    on_hand = odoo.execute(
        "product.product",
        "read",
        [plant.bearing],
        fields=["qty_available"],
        context={"location": plant.stock_id},
    )[0]["qty_available"]
    assert on_hand == 4
    assert plant.read("stock.warehouse.orderpoint", orderpoint, "qty_to_order")["qty_to_order"] == 6

    short = plant.send(
        "cmms.spare_part_usage",
        {**usage, "event_id": f"{plant.code}-s2", "usage_id": "U-2"}
        | {"parts": [{"part": "BRG", "quantity": 9}]},
    )
    assert short["state"] == "exception"
    assert "Receive or count the part" in short["error_message"]


def test_equipment_and_requests_made_in_odoo_reach_the_cmms_signed(plant, odoo, partner_server):
    with partner_server.PartnerServer() as cmms:
        odoo.execute("integration.backend", "write", [plant.backend], {"outbound_url": cmms.url})
        lathe = plant.create(
            "maintenance.equipment", name=f"Lathe {plant.code}", warehouse_id=plant.warehouse_id
        )
        request = plant.create(
            "maintenance.request",
            name=f"Check the lathe {plant.code}",
            equipment_id=lathe,
            maintenance_type="preventive",
            schedule_date=odoo_time(monday_at(14)),
        )
        outbound = odoo.execute(
            "integration.message",
            "search",
            [["backend_id", "=", plant.backend], ["direction", "=", "outbound"]],
            order="id",
        )
        assert len(outbound) == 2, "the new equipment, then the request"
        for message_id in outbound:
            assert wait_for_state(odoo, message_id, SETTLED)["state"] == "done"
        sent = [Webhook(SECRET).verify(body, headers)["data"] for headers, body in cmms.requests]
    [equipment] = [payload for payload in sent if "equipment_ref" in payload]
    [work_order] = [payload for payload in sent if "work_order_id" in payload]
    assert (equipment["action"], equipment["equipment_ref"]) == ("upsert", f"odoo-{lathe}")
    assert (work_order["work_order_id"], work_order["equipment"], work_order["status"]) == (
        f"odoo-{request}",
        f"odoo-{lathe}",
        "requested",
    )
    assert work_order["planned_start"] == monday_at(14).replace(tzinfo=UTC).isoformat()
