"""A plant system's backend made over JSON-RPC as an administrator makes it, for the end-to-end tests."""


def connect_backend(odoo, code, system_type, warehouse_id, secret, mappings=(), **values):
    """Create, key and activate the backend, put its contracts in force (retried at once), map its codes.

    ``mappings`` are ``(external_code, model, res_id)``. Returns the backend's id.
    """
    backend = odoo.execute(
        "integration.backend",
        "create",
        {
            "name": values.pop("name", code),
            "code": code,
            "system_type": system_type,
            "warehouse_id": warehouse_id,
            **values,
        },
    )
    odoo.execute(
        "integration.credential", "create", {"backend_id": backend, "kind": "hmac", "secret": secret}
    )
    odoo.execute("integration.backend", "action_activate", [backend])
    odoo.execute("integration.backend", "action_add_contracts", [backend])
    flows = odoo.execute("integration.flow", "search", [["backend_id", "=", backend]])
    odoo.execute("integration.flow", "write", flows, {"retry_backoff_seconds": 0})
    odoo.execute("integration.flow", "action_activate", flows)
    for external_code, model, res_id in mappings:
        odoo.execute(
            "integration.mapping",
            "create",
            {"backend_id": backend, "external_code": external_code, "record_ref": f"{model},{res_id}"},
        )
    return backend
