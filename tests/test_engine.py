"""End to end: a message goes through the real queue_job runner of a running server.

Uses the processor of the test-only addon integration_test_connector, which
./setup/test installs in the test database.
"""

import json
import time
import uuid

import pytest

SCHEMA = {
    "type": "object",
    "required": ["ref", "name"],
    "properties": {"ref": {"type": "string"}, "name": {"type": "string"}},
}
JOB_TIMEOUT = 60


def create_partner_contract(odoo, backend_id, **values):
    """Put the test connector's partner contract in force on a backend."""
    flow_id = odoo.execute(
        "integration.flow",
        "create",
        {
            "name": "Partner",
            "code": "test.partner",
            "backend_id": backend_id,
            "schema": json.dumps(SCHEMA),
            "processor": "integration.processor.test.partner",
            **values,
        },
    )
    odoo.execute("integration.flow", "action_activate", [flow_id])
    return flow_id


@pytest.fixture(scope="module")
def backend_id(odoo):
    code = f"e2e-engine-{uuid.uuid4().hex[:8]}"
    backend_id = odoo.execute("integration.backend", "create", {"name": "E2E engine", "code": code})
    odoo.execute("integration.backend", "action_activate", [backend_id])
    create_partner_contract(odoo, backend_id)
    return backend_id


def wait_for_state(odoo, message_id, states, fields=("state",)):
    """The message's ``fields`` once its state is one of ``states`` (the job runner works meanwhile)."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        [message] = odoo.execute("integration.message", "read", [message_id], fields=list(fields))
        if message["state"] in states:
            return message
        time.sleep(0.5)
    raise AssertionError(f"message {message_id} still {message['state']} after {JOB_TIMEOUT} s")


def test_message_is_applied_by_the_job_runner(odoo, backend_id):
    ref = f"E2E-{uuid.uuid4().hex[:8]}"
    accepted = odoo.execute(
        "integration.backend", "ingest", [backend_id], "test.partner", {"ref": ref, "name": "Runner"}, ref
    )
    assert accepted["state"] == "queued" and not accepted["duplicate"]
    message = wait_for_state(odoo, accepted["message_id"], {"done", "exception", "failed", "dead"})
    assert message["state"] == "done"
    [backend] = odoo.execute("integration.backend", "read", [backend_id], fields=["code"])
    jobs = odoo.execute(
        "queue.job",
        "search_read",
        [["channel", "=", f"root.integration.{backend['code']}"], ["state", "=", "done"]],
        fields=["user_id", "result"],
    )
    assert jobs, "a drain job of the backend's channel ran"
    assert {job["user_id"][1] for job in jobs} == {"Integration Engine"}
    partners = odoo.execute("res.partner", "search_read", [["ref", "=", ref]], fields=["name"])
    assert [p["name"] for p in partners] == ["Runner"]

    again = odoo.execute(
        "integration.backend", "ingest", [backend_id], "test.partner", {"ref": ref, "name": "Runner"}, ref
    )
    assert again == {"message_id": accepted["message_id"], "state": "done", "duplicate": True}
    assert len(odoo.execute("res.partner", "search", [["ref", "=", ref]])) == 1


def test_business_error_waits_for_a_person(odoo, backend_id):
    ref = f"E2E-{uuid.uuid4().hex[:8]}"
    accepted = odoo.execute(
        "integration.backend", "ingest", [backend_id], "test.partner", {"ref": ref, "name": "!Nope"}
    )
    message = wait_for_state(odoo, accepted["message_id"], {"done", "exception", "failed", "dead"})
    assert message["state"] == "exception"
    [details] = odoo.execute(
        "integration.message", "read", [accepted["message_id"]], fields=["error_message", "flow_id"]
    )
    assert details["error_message"] == "A partner name cannot start with '!': !Nope"
    activities = odoo.execute(
        "mail.activity",
        "search_read",
        [["res_model", "=", "integration.flow"], ["res_id", "=", details["flow_id"][0]]],
        fields=["activity_type_id", "note"],
    )
    assert [a["activity_type_id"][1] for a in activities] == ["Integration exceptions"]
    assert "!Nope" in activities[0]["note"]


def test_nobody_writes_the_state_of_a_message_over_rpc(odoo, backend_id):
    ref = f"E2E-{uuid.uuid4().hex[:8]}"
    accepted = odoo.execute(
        "integration.backend", "ingest", [backend_id], "test.partner", {"ref": ref, "name": "Done once"}
    )
    wait_for_state(odoo, accepted["message_id"], {"done"})
    with pytest.raises(RuntimeError, match="Only the integration engine changes messages"):
        odoo.execute("integration.message", "write", [accepted["message_id"]], {"state": "queued"})
    with pytest.raises(RuntimeError, match="Private methods"):
        odoo.execute("integration.message", "create", {"backend_id": backend_id})
    [message] = odoo.execute("integration.message", "read", [accepted["message_id"]], fields=["state"])
    assert message["state"] == "done"
    assert len(odoo.execute("res.partner", "search", [["ref", "=", ref]])) == 1


def test_schema_errors_come_back_readable(odoo, backend_id):
    with pytest.raises(RuntimeError, match=r"/name: 5 is not of type 'string'"):
        odoo.execute("integration.backend", "ingest", [backend_id], "test.partner", {"ref": "X", "name": 5})
