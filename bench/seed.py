"""Prepare the benchmark database: run inside ``odoo shell`` (``env`` is given), once per run.

Creates what the scenarios need and prints it as one JSON line after
``BENCH-SEED``: an API key of the administrator (for the JSON-2 API), an
MES backends (one for the ingest scenarios, one for the end-to-end
one), each with its signing secret and only the production confirmation
contract in force (so that no outbound order message competes with the
confirmations), and two sets of open manufacturing orders of a product
with a two-component bill of materials: one for the engine, one for the
direct client, alike.

It also installs a trigger that notes, with ``clock_timestamp()``, when each
of the end-to-end backend's messages is stored and when it is settled, so that the
lag of every message is known to the millisecond (Odoo's own date fields
hold whole seconds). The trigger exists in the benchmark database only.
"""

import json
import os

env = globals()["env"]  # given by odoo shell

ORDERS = int(os.environ["BENCH_ORDERS"])
SECRET = os.environ["BENCH_SECRET"]
PREFIX = os.environ["BENCH_BACKEND_PREFIX"]

warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
Product = env["product.product"]
finished = Product.create({"name": "Bench valve", "is_storable": True})
components = Product.create([{"name": "Bench body", "is_storable": True}, {"name": "Bench seal"}])
bom = env["mrp.bom"].create(
    {
        "product_tmpl_id": finished.product_tmpl_id.id,
        "product_qty": 1,
        "bom_line_ids": [(0, 0, {"product_id": product.id, "product_qty": 2}) for product in components],
    }
)
orders = env["mrp.production"].create(
    [
        {
            "product_id": finished.id,
            "bom_id": bom.id,
            "product_qty": 5,
            "picking_type_id": warehouse.manu_type_id.id,
        }
        for _ in range(2 * ORDERS)
    ]
)
orders.action_confirm()


def mes_backend(code, name):
    backend = env["integration.backend"].create(
        {
            "name": name,
            "code": code,
            "system_type": "mes",
            "warehouse_id": warehouse.id,
            # Counted like any plant's calls, but high enough never to refuse the load.
            "rate_limit_per_minute": 10_000_000,
        }
    )
    env["integration.credential"].create({"backend_id": backend.id, "kind": "hmac", "secret": SECRET})
    backend.action_activate()
    backend.action_add_contracts()
    flow = env["integration.flow"].search(
        [("backend_id", "=", backend.id), ("code", "=", "mes.production_confirmation")]
    )
    flow.action_activate()
    return backend, flow


ingest_backend, ingest_flow = mes_backend(f"{PREFIX}-ingest", "Benchmark MES (ingest)")
engine_backend, _flow = mes_backend(f"{PREFIX}-e2e", "Benchmark MES (end to end)")

api_key = env["res.users.apikeys"].with_user(env.ref("base.user_admin"))._generate(None, "benchmark", None)

env.cr.execute(
    """
    CREATE TABLE IF NOT EXISTS bench_message_clock (
        message_id integer PRIMARY KEY, stored_at timestamptz, settled_at timestamptz, state varchar
    );
    CREATE OR REPLACE FUNCTION bench_message_clock() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO bench_message_clock (message_id, stored_at) VALUES (NEW.id, clock_timestamp());
        ELSIF NEW.state IN ('done', 'exception', 'dead') AND NEW.state IS DISTINCT FROM OLD.state THEN
            UPDATE bench_message_clock SET settled_at = clock_timestamp(), state = NEW.state
             WHERE message_id = NEW.id;
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    DROP TRIGGER IF EXISTS bench_message_clock ON integration_message;
    CREATE TRIGGER bench_message_clock AFTER INSERT OR UPDATE OF state ON integration_message
        FOR EACH ROW WHEN (NEW.backend_id = %s) EXECUTE FUNCTION bench_message_clock();
    """,
    [engine_backend.id],
)
env.cr.commit()
half = len(orders) // 2
print(
    "BENCH-SEED",
    json.dumps(
        {
            "api_key": api_key,
            "ingest_backend": ingest_backend.code,
            "ingest_flow_id": ingest_flow.id,
            "engine_backend": engine_backend.code,
            "engine_backend_id": engine_backend.id,
            "engine_orders": orders[:half].mapped("name"),
            "direct_orders": orders[half:].mapped("name"),
            "quantity": 5,
        }
    ),
)
