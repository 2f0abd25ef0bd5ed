"""What Odoo must hold before the plant can talk to it, made over JSON-RPC and only when missing.

Running the simulator again finds what an earlier run made (products by
their internal reference, work centres by code, mappings by backend and
code) and only tops up what was used: component stock, the signing key (a
new one each run, which the simulator then knows) and the outbound URL
(the simulator's own endpoint, given back at the end).
"""

import hashlib
from dataclasses import dataclass, field

from . import plant
from .odoo import OdooError

MES_CONTRACTS = (
    "mes.production_order",
    "mes.production_confirmation",
    "mes.operation_event",
    "mes.downtime",
    "mes.quality_hold",
)

# What the simulated CMMS sends (the simulator plays no CMMS endpoint: Odoo's outbound CMMS
# contracts are not put in force by it).
CMMS_CONTRACTS = ("cmms.breakdown", "cmms.maintenance_window")


@dataclass
class Seeded:
    """The Odoo ids the shift works with."""

    backend_id: int
    backend_code: str
    company_id: int
    warehouse_id: int
    picking_type_id: int
    stock_location_id: int
    previous_url: str | None
    products: dict = field(default_factory=dict)  # MES code -> product.product id
    boms: dict = field(default_factory=dict)  # finished product code -> mrp.bom id
    work_centres: dict = field(default_factory=dict)  # MES code -> mrp.workcenter id
    cmms_backend_id: int | None = None
    equipment: dict = field(default_factory=dict)  # CMMS code -> maintenance.equipment id


def seed(odoo, backend_code, create_backend, secret, outbound_url, plan):
    """Make the backend and the plant's records ready for ``plan``; returns their ids."""
    backend = _backend(odoo, backend_code, create_backend)
    warehouse = odoo.call(
        "stock.warehouse", "read", [backend["warehouse_id"][0]], fields=["manu_type_id", "lot_stock_id"]
    )[0]
    seeded = Seeded(
        backend["id"],
        backend_code,
        backend["company_id"][0],
        backend["warehouse_id"][0],
        warehouse["manu_type_id"][0],
        warehouse["lot_stock_id"][0],
        backend["outbound_url"] or None,
    )
    _signing_key(odoo, backend["id"], secret)
    odoo.call("integration.backend", "write", [backend["id"]], {"outbound_url": outbound_url})
    _contracts_in_force(odoo, backend["id"])
    _plant_records(odoo, seeded)
    _stock(odoo, seeded, plan)
    return seeded


def restore_url(odoo, seeded):
    """Give the backend back the outbound URL it had (the simulator's endpoint is about to close)."""
    odoo.call(
        "integration.backend", "write", [seeded.backend_id], {"outbound_url": seeded.previous_url or False}
    )


def seed_cmms(odoo, seeded, code, create_backend, secret):
    """The plant's CMMS backend, its inbound contracts in force, and its equipment on the work centres."""
    backend = _backend(odoo, code, create_backend, "cmms", seeded.warehouse_id)
    if backend["warehouse_id"][0] != seeded.warehouse_id:
        raise OdooError(f"backend '{code}' is the CMMS of another plant than the MES '{seeded.backend_code}'")
    seeded.cmms_backend_id = backend["id"]
    _signing_key(odoo, backend["id"], secret)
    _contracts_in_force(odoo, backend["id"], CMMS_CONTRACTS)
    for equipment_code, (name, work_centre) in plant.EQUIPMENT.items():
        equipment = odoo.ensure(
            "maintenance.equipment",
            [["serial_no", "=", equipment_code], ["company_id", "in", [seeded.company_id, False]]],
            {"name": name, "serial_no": equipment_code, "warehouse_id": seeded.warehouse_id},
        )
        odoo.call(
            "maintenance.equipment",
            "write",
            [equipment],
            {"workcenter_ids": [(6, 0, [seeded.work_centres[work_centre]])]},
        )
        seeded.equipment[equipment_code] = equipment
        _mapping(odoo, backend["id"], "maintenance.equipment", equipment_code, equipment)


def _backend(odoo, code, create, system_type="mes", warehouse_id=None):
    fields = ["company_id", "warehouse_id", "outbound_url", "state", "system_type"]
    found = odoo.search_read("integration.backend", [["code", "=", code]], fields)
    if not found and not create:
        raise OdooError(
            f"Odoo has no backend '{code}': pass --create-backend to have one made for the simulator"
        )
    if not found:
        backend_id = odoo.call(
            "integration.backend",
            "create",
            {
                "name": f"Simulated {system_type.upper()} ({code})",
                "code": code,
                "system_type": system_type,
                "warehouse_id": warehouse_id or _own_warehouse(odoo, code),
            },
        )
        odoo.call("integration.backend", "action_activate", [backend_id])
        found = odoo.search_read("integration.backend", [["id", "=", backend_id]], fields)
    backend = found[0]
    if backend["system_type"] != system_type or not backend["warehouse_id"]:
        raise OdooError(
            f"backend '{code}' is not an {system_type.upper()} backend of a plant: the simulator plays one"
        )
    if backend["state"] != "active":
        odoo.call("integration.backend", "action_activate", [backend["id"]])
    return backend


def _own_warehouse(odoo, code):
    """A plant of its own for a backend the simulator makes: no other backend hears of its orders."""
    short = "S" + hashlib.sha1(code.encode()).hexdigest()[:4].upper()
    return odoo.ensure(
        "stock.warehouse",
        [["code", "=", short]],
        {"name": f"Simulated plant {code}", "code": short},
    )


def _signing_key(odoo, backend_id, secret):
    """Every HMAC key of the backend becomes ``secret`` (the one the simulator signs and verifies with)."""
    credentials = odoo.call(
        "integration.credential", "search", [["backend_id", "=", backend_id], ["kind", "=", "hmac"]]
    )
    if credentials:
        odoo.call("integration.credential", "write", credentials, {"secret": secret})
    else:
        odoo.call(
            "integration.credential",
            "create",
            {"backend_id": backend_id, "kind": "hmac", "usage": "both", "secret": secret},
        )


def _contracts_in_force(odoo, backend_id, contracts=MES_CONTRACTS):
    """The ``contracts`` active on the backend (added from their templates when missing)."""

    def flows():
        return odoo.search_read(
            "integration.flow",
            [["backend_id", "=", backend_id], ["code", "in", list(contracts)]],
            ["code", "state"],
        )

    if {flow["code"] for flow in flows()} != set(contracts):
        odoo.call("integration.backend", "action_add_contracts", [backend_id])
    drafts = [flow["id"] for flow in flows() if flow["state"] == "draft"]
    if drafts:
        odoo.call("integration.flow", "action_activate", drafts)


def _plant_records(odoo, seeded):
    """Work centres, products, bills of materials, reasons, and the backend's mappings of their codes."""
    company = seeded.company_id
    for code, name in plant.WORK_CENTRES.items():
        seeded.work_centres[code] = odoo.ensure(
            "mrp.workcenter",
            [["code", "=", code], ["company_id", "=", company]],
            {"name": name, "code": code, "company_id": company},
        )
    for code, name in plant.COMPONENTS.items():
        seeded.products[code] = _product(odoo, code, name, "none")
    for product in plant.PRODUCTS:
        seeded.products[product.code] = _product(odoo, product.code, product.name, product.tracking)
        seeded.boms[product.code] = _bom(odoo, seeded, product)
    mappings = [("product.product", code, record_id) for code, record_id in seeded.products.items()]
    mappings += [("mrp.workcenter", code, record_id) for code, record_id in seeded.work_centres.items()]
    for code, name in plant.SCRAP_REASONS.items():
        mappings.append(
            (
                "stock.scrap.reason.tag",
                code,
                odoo.ensure("stock.scrap.reason.tag", [["name", "=", name]], {"name": name}),
            )
        )
    availability = odoo.call(
        "mrp.workcenter.productivity.loss.type", "search", [["loss_type", "=", "availability"]], limit=1
    )
    for code, name in plant.STOP_REASONS.items():
        loss = odoo.ensure(
            "mrp.workcenter.productivity.loss",
            [["name", "=", name]],
            {"name": name, "loss_id": availability[0], "manual": True},
        )
        mappings.append(("mrp.workcenter.productivity.loss", code, loss))
    for model, code, record_id in mappings:
        _mapping(odoo, seeded.backend_id, model, code, record_id)


def _product(odoo, code, name, tracking):
    return odoo.ensure(
        "product.product",
        [["default_code", "=", code]],
        {"name": name, "default_code": code, "type": "consu", "is_storable": True, "tracking": tracking},
    )


def _bom(odoo, seeded, product):
    template = odoo.call(
        "product.product", "read", [seeded.products[product.code]], fields=["product_tmpl_id"]
    )
    return odoo.ensure(
        "mrp.bom",
        [["product_tmpl_id", "=", template[0]["product_tmpl_id"][0]], ["code", "=", "SIM"]],
        {
            "product_tmpl_id": template[0]["product_tmpl_id"][0],
            "code": "SIM",
            "product_qty": 1,
            "bom_line_ids": [
                (0, 0, {"product_id": seeded.products[code], "product_qty": quantity})
                for code, quantity in product.components
            ],
            "operation_ids": [
                (
                    0,
                    0,
                    {
                        "name": product.operation,
                        "workcenter_id": seeded.work_centres[product.work_centre],
                        "time_cycle_manual": 3,
                    },
                )
            ],
        },
    )


def _mapping(odoo, backend_id, model, code, record_id):
    found = odoo.search_read(
        "integration.mapping",
        [["backend_id", "=", backend_id], ["res_model", "=", model], ["external_code", "=", code]],
        ["res_id"],
    )
    if not found:
        odoo.call(
            "integration.mapping",
            "create",
            {"backend_id": backend_id, "external_code": code, "record_ref": f"{model},{record_id}"},
        )
    elif found[0]["res_id"] != record_id:
        odoo.call("integration.mapping", "write", [found[0]["id"]], {"record_ref": f"{model},{record_id}"})


def _stock(odoo, seeded, plan):
    """Enough of each component in the plant's stock for the whole plan (twice over), by inventory."""
    needed = {}
    for order in plan.orders:
        for code, per_unit in plant.PRODUCTS_BY_CODE[order.product].components:
            needed[code] = needed.get(code, 0) + per_unit * (order.quantity + 2) * 2
    context = {"location": seeded.stock_location_id}
    for code, quantity in needed.items():
        product_id = seeded.products[code]
        [on_hand] = odoo.call(
            "product.product", "read", [product_id], fields=["qty_available"], context=context
        )
        if on_hand["qty_available"] >= quantity:
            continue
        inventory = {"inventory_mode": True}
        quant = odoo.call(
            "stock.quant",
            "create",
            {
                "product_id": product_id,
                "location_id": seeded.stock_location_id,
                "inventory_quantity": on_hand["qty_available"] + quantity,
            },
            context=inventory,
        )
        odoo.call("stock.quant", "action_apply_inventory", [quant], context=inventory)
