"""End to end: a plant's MES and Odoo, through the live server, its webhooks and its job runner.

Odoo sends the confirmed manufacturing order to the "MES" (a real HTTP server
in this process); the MES then posts a signed final confirmation to the
webhook, which the job runner applies: the order ends done.
"""

import uuid

from backends import connect_backend
from signed import signed_post
from standardwebhooks.webhooks import Webhook
from test_engine import wait_for_state

SECRET = "whsec_" + "bWVzLXNlY3JldC1mb3ItdGhlLWUyZS10ZXN0"


def test_order_out_confirmation_in(odoo, server_url, partner_server):
    code = f"e2e-mes-{uuid.uuid4().hex[:6]}"
    [warehouse] = odoo.execute("stock.warehouse", "search_read", [], fields=["id", "manu_type_id"], limit=1)
    product_id = odoo.execute("product.product", "create", {"name": f"Valve {code}", "is_storable": True})
    with partner_server.PartnerServer() as mes:
        backend_id = connect_backend(
            odoo,
            code,
            "mes",
            warehouse["id"],
            SECRET,
            mappings=(("VLV-1", "product.product", product_id),),
            name="E2E MES",
            outbound_url=mes.url,
        )
        production_id = odoo.execute(
            "mrp.production",
            "create",
            {"product_id": product_id, "product_qty": 3, "picking_type_id": warehouse["manu_type_id"][0]},
        )
        odoo.execute("mrp.production", "action_confirm", [production_id])
        [order_ref] = [
            p["name"] for p in odoo.execute("mrp.production", "read", [production_id], fields=["name"])
        ]
        [outbound] = odoo.execute(
            "integration.message", "search", [["backend_id", "=", backend_id], ["direction", "=", "outbound"]]
        )
        assert wait_for_state(odoo, outbound, {"done", "exception", "dead"})["state"] == "done"
        [(headers, body)] = mes.requests
        order = Webhook(SECRET).verify(body, headers)["data"]
        assert (order["action"], order["order_ref"], order["product"], order["quantity"]) == (
            "create",
            order_ref,
            "VLV-1",
            3,
        )

    response = signed_post(
        server_url,
        code,
        "mes.production_confirmation",
        {"event_id": f"{code}-1", "order_ref": order_ref, "produced_qty": 3, "final": True},
        SECRET,
    )
    assert response.status_code == 202, response.text
    message = wait_for_state(odoo, response.json()["message_id"], {"done", "exception", "dead"})
    assert message["state"] == "done"
    [production] = odoo.execute("mrp.production", "read", [production_id], fields=["state", "qty_produced"])
    assert (production["state"], production["qty_produced"]) == ("done", 3)
