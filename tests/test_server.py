"""End to end: the suite served by a real Odoo over HTTP, with its job runner."""

import time

import requests

SUITE_MODULES = ["integration_base", "integration_cmms", "integration_edi", "integration_mes"]


def test_login_page_is_served(server_url):
    response = requests.get(f"{server_url}/web/login", timeout=30)
    assert response.status_code == 200
    assert 'name="login"' in response.text


def test_json_rpc_login_returns_a_user(rpc, credentials):
    login, password = credentials
    uid = rpc.call("common", "authenticate", rpc.db, login, password, {})
    assert isinstance(uid, int) and uid > 0
    assert rpc.call("common", "authenticate", rpc.db, login, "wrong password", {}) is False


def test_suite_modules_are_installed(odoo):
    modules = odoo.execute(
        "ir.module.module",
        "search_read",
        [["name", "in", SUITE_MODULES]],
        fields=["name", "state"],
        order="name",
    )
    assert [(m["name"], m["state"]) for m in modules] == [(name, "installed") for name in SUITE_MODULES]


def test_backend_created_over_rpc_is_tracked(odoo):
    code = f"e2e-{int(time.time() * 1000)}"
    backend_id = odoo.execute("integration.backend", "create", {"name": "E2E bridge", "code": code})
    odoo.execute("integration.backend", "action_activate", [backend_id])
    [backend] = odoo.execute("integration.backend", "read", [backend_id], fields=["state", "message_ids"])
    assert backend["state"] == "active"
    tracking = odoo.execute(
        "mail.tracking.value",
        "search_read",
        [["mail_message_id", "in", backend["message_ids"]], ["field_id.name", "=", "state"]],
        fields=["old_value_char", "new_value_char"],
    )
    assert [(t["old_value_char"], t["new_value_char"]) for t in tracking] == [("Draft", "Active")]


def test_queue_job_runner_is_running(rpc, server_log):
    # The prefork server starts the runner in a process of its own.
    ready = f"queue job runner ready for db {rpc.db}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open(server_log, encoding="utf-8") as log:
            if ready in log.read():
                return
        time.sleep(1)
    raise AssertionError(f"the queue_job runner did not report ready in {server_log}")


def test_health_reports_the_live_job_runner(server_url):
    response = requests.get(f"{server_url}/integration/v1/health", timeout=30)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["database"] == "ok"
    assert report["job_runner"] == {"alive": True, "mode": "external", "oldest_overdue_job_seconds": 0}
