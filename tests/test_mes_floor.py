"""End to end: a shop floor's MES plays its events through the signed webhooks and the job runner.

Each test is a sequence of real calls as a plant's MES makes them (late,
early, repeated, concurrent, reversed), and checks over JSON-RPC what a
production controller checks: quantities, stock moves, time tracked, lots,
scrap and states.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from backends import connect_backend
from signed import signed_post
from test_engine import wait_for_state

SECRET = "whsec_" + "c2hvcC1mbG9vci1zZWNyZXQtb2YtdGhlLWUyZS10ZXN0cw"
SETTLED = {"done", "exception", "dead", "cancelled"}


class Plant:
    """A plant with its MES backend, a bill of materials on one work centre, and the codes the MES uses."""

    def __init__(self, odoo, server_url):
        self.odoo = odoo
        self.server_url = server_url
        self.code = f"e2e-floor-{uuid.uuid4().hex[:6]}"
        [warehouse] = odoo.execute(
            "stock.warehouse", "search_read", [], fields=["id", "manu_type_id", "lot_stock_id"], limit=1
        )
        self.picking_type_id = warehouse["manu_type_id"][0]
        create = self.create
        self.gearbox = create(
            "product.product", name=f"Gearbox {self.code}", is_storable=True, tracking="lot"
        )
        self.shaft = create("product.product", name=f"Shaft {self.code}", is_storable=True)
        self.housing = create("product.product", name=f"Housing {self.code}", is_storable=True)
        self.workcenter = create("mrp.workcenter", name=f"Assembly {self.code}")
        gearbox_template = odoo.execute(
            "product.product", "read", [self.gearbox], fields=["product_tmpl_id"]
        )[0]
        self.bom = create(
            "mrp.bom",
            product_tmpl_id=gearbox_template["product_tmpl_id"][0],
            product_qty=1,
            bom_line_ids=[
                (0, 0, {"product_id": self.shaft, "product_qty": 2}),
                (0, 0, {"product_id": self.housing, "product_qty": 1}),
            ],
            operation_ids=[
                (0, 0, {"name": "Assemble", "workcenter_id": self.workcenter, "time_cycle_manual": 30})
            ],
        )
        for product in (self.shaft, self.housing):
            create(
                "stock.quant",
                product_id=product,
                location_id=warehouse["lot_stock_id"][0],
                inventory_quantity=1000,
            )
        quants = odoo.execute("stock.quant", "search", [["product_id", "in", [self.shaft, self.housing]]])
        odoo.execute("stock.quant", "action_apply_inventory", quants)
        self.damaged = create("stock.scrap.reason.tag", name=f"Damaged {self.code}")
        [self.breakdown] = odoo.execute(
            "mrp.workcenter.productivity.loss", "search", [["loss_type", "=", "availability"]], limit=1
        )
        # Odoo ships Dozens archived: the MES's unit code may still map to it.
        [self.dozen] = odoo.execute(
            "uom.uom", "search", [["name", "=", "Dozens"]], limit=1, context={"active_test": False}
        )
        self.backend = connect_backend(
            odoo,
            self.code,
            "mes",
            warehouse["id"],
            SECRET,
            name=f"Floor {self.code}",
            mappings=(
                ("GBX", "product.product", self.gearbox),
                ("SH", "product.product", self.shaft),
                ("HS", "product.product", self.housing),
                ("WC", "mrp.workcenter", self.workcenter),
                ("SCR", "stock.scrap.reason.tag", self.damaged),
                ("BRK", "mrp.workcenter.productivity.loss", self.breakdown),
                ("DZ", "uom.uom", self.dozen),
            ),
        )

    def create(self, model, **values):
        return self.odoo.execute(model, "create", values)

    def read(self, model, record_id, *fields):
        return self.odoo.execute(model, "read", [record_id], fields=list(fields))[0]

    def order(self, quantity, name=None):
        """A confirmed manufacturing order of gearboxes: ``(id, reference)``."""
        values = {
            "product_id": self.gearbox,
            "product_qty": quantity,
            "bom_id": self.bom,
            "picking_type_id": self.picking_type_id,
        }
        production = self.create("mrp.production", **({"name": name} if name else {}), **values)
        self.odoo.execute("mrp.production", "action_confirm", [production])
        return production, self.read("mrp.production", production, "name")["name"]

    def post(self, flow_code, payload, webhook_id=None):
        return signed_post(self.server_url, self.code, flow_code, payload, SECRET, webhook_id)

    def send(self, flow_code, payload, webhook_id=None):
        """Post and wait until the runner settled the message; its fields."""
        response = self.post(flow_code, payload, webhook_id)
        assert response.status_code in (200, 202), response.text
        return self.settled(response.json()["message_id"])

    def settled(self, message_id):
        fields = ("state", "error_message", "missing_kind", "missing_code")
        return wait_for_state(self.odoo, message_id, SETTLED, fields=fields)

    def operation(self, order_ref, action, at, event_id):
        return self.send(
            "mes.operation_event",
            {"event_id": event_id, "order_ref": order_ref, "work_center": "WC", "action": action, "at": at},
        )

    def confirmation(self, order_ref, event_id, produced, final=False, **extra):
        return {
            "event_id": event_id,
            "order_ref": order_ref,
            "produced_qty": produced,
            "final": final,
            **extra,
        }

    def consumed(self, production):
        """``{product id: quantity}`` the order's done component moves took from stock."""
        moves = self.odoo.execute(
            "stock.move",
            "search_read",
            [["raw_material_production_id", "=", production], ["state", "=", "done"]],
            fields=["product_id", "quantity"],
        )
        totals = {}
        for move in moves:
            totals[move["product_id"][0]] = totals.get(move["product_id"][0], 0) + move["quantity"]
        return totals


@pytest.fixture(scope="module")
def plant(odoo, server_url):
    return Plant(odoo, server_url)


def test_a_shift_of_one_order(plant):
    """Started, paused, resumed and finished, out of order; partials in dozens, a re-send, scrap, lots."""
    production, ref = plant.order(36)
    ids = f"{ref}-shift"
    assert plant.operation(ref, "start", "2030-01-01T08:00:00Z", f"{ids}-op1")["state"] == "done"
    [workorder] = plant.odoo.execute(
        "mrp.workorder", "search_read", [["production_id", "=", production]], fields=["state"]
    )
    assert plant.read("mrp.production", production, "qty_producing")["qty_producing"] == 0, (
        "started is not produced"
    )
    partial = plant.confirmation(
        ref, f"{ids}-c1", 1, unit="DZ", lots=["LOT-A"], consumption=[{"product": "SH", "quantity": 25}]
    )
    assert plant.send("mes.production_confirmation", partial, webhook_id=f"{ids}-w1")["state"] == "done"
    resent = plant.post("mes.production_confirmation", partial, webhook_id=f"{ids}-w1")
    assert resent.status_code == 200 and resent.json()["duplicate"], resent.text
    # The resume reaches Odoo before the pause it follows, and the finish before both.
    plant.operation(ref, "finish", "2030-01-01T08:30:00Z", f"{ids}-op4")
    plant.operation(ref, "resume", "2030-01-01T08:25:00Z", f"{ids}-op3")
    plant.operation(ref, "pause", "2030-01-01T08:20:00Z", f"{ids}-op2")
    final = plant.confirmation(
        ref,
        f"{ids}-c2",
        20,
        final=True,
        scrap=[{"quantity": 4, "reason": "SCR"}],
        consumption=[{"product": "SH", "quantity": 41}],
    )
    assert plant.send("mes.production_confirmation", final)["state"] == "done"

    order = plant.read("mrp.production", production, "state", "qty_produced", "lot_producing_ids")
    assert (order["state"], order["qty_produced"]) == ("done", 32)
    assert [
        lot["name"]
        for lot in plant.odoo.execute("stock.lot", "read", order["lot_producing_ids"], fields=["name"])
    ] == ["LOT-A"]
    consumed = plant.consumed(production)
    assert consumed[plant.shaft] == 66, "the MES's figures"
    assert consumed[plant.housing] == 32, "backflushed for the good quantity"
    times = plant.odoo.execute(
        "mrp.workcenter.productivity",
        "search_read",
        [["workorder_id", "=", workorder["id"]]],
        fields=["date_start", "date_end", "duration"],
        order="date_start",
    )
    assert [(t["date_start"], t["date_end"]) for t in times] == [
        ("2030-01-01 08:00:00", "2030-01-01 08:20:00"),
        ("2030-01-01 08:25:00", "2030-01-01 08:30:00"),
    ]
    assert plant.read("mrp.workorder", workorder["id"], "duration", "state") == {
        "id": workorder["id"],
        "duration": 25,
        "state": "done",
    }
    [scrap] = plant.odoo.execute(
        "stock.scrap",
        "search_read",
        [["production_id", "=", production]],
        fields=["scrap_qty", "state", "scrap_reason_tag_ids"],
    )
    assert (scrap["scrap_qty"], scrap["state"], scrap["scrap_reason_tag_ids"]) == (4, "done", [plant.damaged])


def test_concurrent_resends_of_one_confirmation_are_applied_once(plant):
    production, ref = plant.order(10)
    payload = plant.confirmation(ref, f"{ref}-burst", 3)
    # A sender retrying on a timeout: the same call (same webhook-id) and new calls of the same event.
    webhook_ids = [f"{ref}-burst-w{n % 3}" for n in range(9)]
    with ThreadPoolExecutor(len(webhook_ids)) as pool:
        answers = list(
            pool.map(
                lambda webhook_id: plant.post("mes.production_confirmation", payload, webhook_id), webhook_ids
            )
        )
    assert sorted(answer.status_code for answer in answers) == [200] * 8 + [202], [a.text for a in answers]
    assert len({answer.json()["message_id"] for answer in answers}) == 1
    assert plant.settled(answers[0].json()["message_id"])["state"] == "done"
    assert plant.read("mrp.production", production, "qty_producing")["qty_producing"] == 3


def test_an_event_before_its_order_waits_and_applies_when_the_order_appears(plant):
    ref = f"FLOOR/{uuid.uuid4().hex[:6]}"
    early = plant.send("mes.production_confirmation", plant.confirmation(ref, f"{ref}-early", 2))
    assert (early["state"], early["missing_kind"], early["missing_code"]) == ("exception", "record", ref)
    response = plant.post(
        "mes.operation_event",
        {
            "event_id": f"{ref}-op",
            "order_ref": ref,
            "work_center": "WC",
            "action": "start",
            "at": "2030-01-01T08:00:00Z",
        },
    )
    held = response.json()["message_id"]
    production, _name = plant.order(5, name=ref)
    assert plant.settled(early["id"])["state"] == "done"
    assert plant.settled(held)["state"] == "done", "the event held behind it went on too"
    assert plant.read("mrp.production", production, "qty_producing")["qty_producing"] == 2


def test_downtime_end_before_its_start(plant):
    stop = {"downtime_id": f"{plant.code}-D1", "work_center": "WC", "reason": "BRK"}
    assert (
        plant.send("mes.downtime", {**stop, "event_id": f"{plant.code}-dt2", "end": "2030-01-01T09:40:00Z"})[
            "state"
        ]
        == "done"
    )
    assert (
        plant.send(
            "mes.downtime", {**stop, "event_id": f"{plant.code}-dt1", "start": "2030-01-01T09:10:00Z"}
        )["state"]
        == "done"
    )
    [line] = plant.odoo.execute(
        "mrp.workcenter.productivity",
        "search_read",
        [["workcenter_id", "=", plant.workcenter], ["loss_id", "=", plant.breakdown]],
        fields=["date_start", "date_end", "duration"],
    )
    assert (line["date_start"], line["date_end"], line["duration"]) == (
        "2030-01-01 09:10:00",
        "2030-01-01 09:40:00",
        30,
    )
    # (Not "normal" either: an operation of another test runs there.)
    assert plant.read("mrp.workcenter", plant.workcenter, "working_state")["working_state"] != "blocked"


def test_closure_with_nothing_produced_cancels_the_order(plant):
    production, ref = plant.order(4)
    closed = plant.send(
        "mes.production_confirmation",
        plant.confirmation(ref, f"{ref}-zero", 0, final=True, consumption=[{"product": "HS", "quantity": 1}]),
    )
    assert closed["state"] == "done", closed["error_message"]
    assert plant.read("mrp.production", production, "state")["state"] == "cancel"
    assert plant.consumed(production) == {plant.housing: 1}, "what the MES used is consumed, nothing else"


def test_an_exception_holds_the_order_stream_visibly_until_cancelled(plant):
    production, ref = plant.order(10)
    bad = plant.send(
        "mes.production_confirmation",
        plant.confirmation(ref, f"{ref}-bad", 1, consumption=[{"product": "NOPE", "quantity": 1}]),
    )
    assert (bad["state"], bad["missing_code"]) == ("exception", "NOPE")
    held = plant.post("mes.production_confirmation", plant.confirmation(ref, f"{ref}-next", 2)).json()[
        "message_id"
    ]
    waiting = wait_for_state(
        plant.odoo, held, {"queued"}, fields=("state", "blocked_by_id", "waiting_reason")
    )
    assert waiting["blocked_by_id"][0] == bad["id"]
    assert f"#{bad['id']}" in waiting["waiting_reason"]
    plant.odoo.execute("integration.message", "action_cancel", [bad["id"]])
    assert plant.settled(held)["state"] == "done"
    assert plant.read("mrp.production", production, "qty_producing")["qty_producing"] == 2
