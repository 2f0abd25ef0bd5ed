"""Scenario 8: no secret at rest in clear, in the server's log, in exports or in the web client's answers.

The server starts with a master key and a metrics token of the scenario's
own (its environment). A manager configures known secrets: a backend with an
inbound and an outbound signing key, a token backend, an OAuth client
secret; then traffic runs: signed webhooks in (and some with a wrong key),
deliveries out to a local partner server that accepts, and to one that
refuses or fails (so that errors are logged), a Prometheus scrape. Then none
of ``pg_dump`` of the database, the server's log, ``export_data`` of
credentials and backends, nor any answer of the web client's calls on their
forms (``web_read``, ``web_search_read``, ``web_save``, ``read`` of every
field) holds any secret or the master key, raw, in base64 or in hex. The
server logs at ``debug_rpc``, the most it can say: every call with its
arguments (see ``integration_base/lib/log_redaction.py``).
"""

import base64
import json
import os
import secrets
import subprocess
import time
import uuid

import requests
from access import Caller, Counter
from cryptography.fernet import Fernet
from scenario import Figures, Plant, sized
from standardwebhooks.webhooks import Webhook
from test_access_matrix import SCHEMA

MESSAGES = sized(20, 200)
SETTLE_SECONDS = sized(90, 300)


def forms(value):
    """The ways a secret may be written down: raw, base64 and hex, and so its key bytes if it has any."""
    raw = value.encode()
    found = {"raw": value, "base64": base64.b64encode(raw).decode(), "hex": raw.hex()}
    encoded = value.removeprefix("whsec_")
    try:
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        key = b""
    if len(key) >= 16:  # a whsec_ or Fernet key: its bytes too
        found.update({"key hex": key.hex(), "key base64": base64.b64encode(key).decode().rstrip("=")})
    return found


def leaks_in(source, text, known):
    """``[(source, secret, form)]`` for every form of every known secret found in ``text``."""
    return [
        (source, name, form)
        for name, value in known.items()
        for form, written in forms(value).items()
        if written in text
    ]


def whsec():
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def test_no_secret_in_the_database_dump_the_log_exports_or_answers(
    start_node, scenario_database, database, partner_server
):
    known = {
        "master key": Fernet.generate_key().decode(),
        "metrics token": secrets.token_urlsafe(32),
        "inbound key": whsec(),
        "outbound key": whsec(),
        "both-ways key": whsec(),
        "API token": secrets.token_urlsafe(32),
        "client secret": secrets.token_urlsafe(24),
        "replaced secret": secrets.token_urlsafe(24),
    }
    env = {
        **os.environ,
        "INTEGRATION_MASTER_KEYS": known["master key"],
        "INTEGRATION_METRICS_TOKEN": known["metrics token"],
    }
    node = start_node(env=env, options={"log-level": "debug_rpc"})
    counter = Counter()
    manager = Caller(counter, node.url, scenario_database, "admin", "admin", keep_answers=True)
    run = uuid.uuid4().hex[:6]
    accept = partner_server.PartnerServer(default=partner_server.Answer(200))
    refuse = partner_server.PartnerServer(
        [partner_server.Answer(500, '{"error": "database down"}')],
        default=partner_server.Answer(401, '{"error": "who are you"}'),
    )
    with accept, refuse:
        backends = configure(manager, known, run, accept.url, refuse.url)
        plant = Plant(node.url, backends["hmac"]["code"], secret=known["inbound key"])
        sent = traffic(node, plant, backends, known, run, manager)
        settled = wait_for_deliveries(database, [b["id"] for b in backends.values()], accept, refuse)
    answers_before = len(manager.answers)
    forms_answers = web_client_calls(manager, backends, known)
    exported = exports(manager, backends)

    # The checks can fail: the secrets are the ones in use, and a leak would be seen.
    headers, body = accept.requests[0]
    Webhook(known["outbound key"]).verify(body, headers)  # deliveries are signed with the known key
    assert leaks_in("self-check", f"x{forms(known['inbound key'])['key hex']}x", known)
    dump = subprocess.run(
        ["pg_dump", "--no-owner", scenario_database], check=True, capture_output=True, text=True
    ).stdout
    assert "secret_ciphertext" in dump, "the dump holds the credentials' table, encrypted"
    leaks = (
        leaks_in("pg_dump", dump, known)
        + leaks_in("server log", node.log_text(), known)
        + leaks_in("export_data", json.dumps(exported), known)
        + [
            leak
            for route, text in manager.answers
            for leak in leaks_in(f"answer of {route.split('#')[0]}", text, known)
        ]
    )
    Figures(
        "secrets",
        sent=sent,
        accepted=sent,  # each inbound message was answered 2xx (asserted in traffic())
        requests=counter.requests + plant.requests,
        server_errors=counter.server_errors + plant.server_errors,
        notes={
            "secrets": len(known),
            "dump bytes": len(dump),
            "log bytes": len(node.log_text()),
            "answers read": len(manager.answers),
            "web client answers on the forms": forms_answers - answers_before,
            "deliveries": settled,
            "leaks": len(set(leaks)),
        },
    ).check()
    assert not leaks, "secrets found:\n" + "\n".join(
        f"{name} ({form}) in {source}" for source, name, form in sorted(set(leaks))
    )


def configure(manager, known, run, accept_url, refuse_url):
    """Three backends as a manager sets them up, each with known secrets; returns them by kind."""
    [event_id] = manager.execute("integration.event", "search", [["code", "=", "test.partner.created"]])
    backends = {}
    for kind, url, auth, credentials in (
        (
            "hmac",
            accept_url,
            "hmac",
            [("hmac", "inbound", "inbound key"), ("hmac", "outbound", "outbound key")],
        ),
        (
            "token",
            refuse_url,
            "token",
            [("token", "both", "API token"), ("client_secret", "both", "client secret")],
        ),
        ("both", refuse_url, "hmac", [("hmac", "both", "both-ways key")]),
    ):
        code = f"sec-{kind}-{run}"
        backend_id = manager.execute(
            "integration.backend",
            "create",
            {
                "name": code,
                "code": code,
                "auth_method": auth,
                "outbound_url": url,
                "rate_limit_per_minute": 0,
                "connect_timeout": 2.0,
                "read_timeout": 5.0,
            },
        )
        for credential_kind, usage, secret in credentials:
            manager.execute(
                "integration.credential",
                "create",
                {
                    "backend_id": backend_id,
                    "kind": credential_kind,
                    "usage": usage,
                    "login": f"{kind}-client",
                    "secret": known[secret],
                },
            )
        manager.execute("integration.backend", "action_activate", [backend_id])
        for direction in ("inbound", "outbound"):
            flow_id = manager.execute(
                "integration.flow",
                "create",
                {
                    "name": "Partner",
                    "code": "test.partner",
                    "backend_id": backend_id,
                    "direction": direction,
                    "schema": json.dumps(SCHEMA),
                    "processor": "integration.processor.test.partner",
                    "retry_max": 2,
                    "retry_backoff_seconds": 1,
                },
            )
            manager.execute("integration.flow", "action_activate", [flow_id])
        manager.execute(
            "integration.subscription",
            "create",
            {
                "event_id": event_id,
                "flow_code": "test.partner",
                "backend_ids": [(6, 0, [backend_id])],
                "domain": f"[('ref', '=like', 'SECOUT-{run}-%')]",
            },
        )
        backends[kind] = {"id": backend_id, "code": code}
    return backends


def traffic(node, plant, backends, known, run, manager):
    """Signed webhooks in (some with a wrong key), token calls, a scrape, partners to deliver out."""
    sent = 0
    for index in range(MESSAGES):
        answer = plant.deliver(
            "test.partner", {"ref": f"SECIN-{run}-{index}", "name": "In"}, f"msg_{run}_{index}"
        )
        sent += 1
        assert answer is not None and answer.status_code in (200, 202), answer and answer.text
    wrong = Plant(node.url, backends["hmac"]["code"], secret=known["outbound key"])  # not for inbound
    for index in range(3):
        answer = wrong.post("test.partner", json.dumps({"ref": f"SECBAD-{index}", "name": "x"}))
        assert answer.status_code == 401, answer.text
    plant.requests += wrong.requests
    for index in range(3):
        plant.requests += 1
        answer = requests.post(
            f"{node.url}/integration/v1/{backends['token']['code']}/test.partner",
            data=json.dumps({"ref": f"SECTOK-{run}-{index}", "name": "Token"}),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {known['API token']}"},
            timeout=60,
        )
        sent += 1
        assert answer.status_code in (200, 202), answer.text
    # A sender that puts its token in the URL is refused, and the access log must not keep it.
    plant.requests += 1
    answer = requests.post(
        f"{node.url}/integration/v1/{backends['token']['code']}/test.partner",
        params={"access_token": known["API token"]},
        data=json.dumps({"ref": f"SECURL-{run}", "name": "Token in the URL"}),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert answer.status_code == 401, answer.text
    plant.requests += 1
    metrics = requests.get(
        f"{node.url}/integration/metrics",
        headers={"Authorization": f"Bearer {known['metrics token']}"},
        timeout=60,
    )
    assert metrics.status_code == 200, metrics.text
    for index in range(3):
        manager.execute("res.partner", "create", {"name": "Out", "ref": f"SECOUT-{run}-{index}"})
    return sent


def wait_for_deliveries(database, backend_ids, accept, refuse):
    """Until the accepting partner got its deliveries and the refusing one was tried and answered."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        with database.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM integration_delivery_attempt WHERE backend_id = ANY(%s)", [backend_ids]
            )
            attempts = cr.fetchone()[0]
            cr.execute(
                "SELECT count(*) FROM integration_message WHERE backend_id = ANY(%s)"
                " AND state IN ('received', 'queued', 'processing')",
                [backend_ids],
            )
            waiting = cr.fetchone()[0]
        if len(accept.requests) >= 3 and len(refuse.requests) >= 6 and not waiting:
            return attempts
        time.sleep(0.5)
    raise AssertionError(
        f"deliveries not done: {len(accept.requests)} accepted, {len(refuse.requests)} refused"
    )


def web_client_calls(manager, backends, known):
    """What the web client asks of the credential and backend forms, its answers kept by ``manager``."""
    backend_ids = [backend["id"] for backend in backends.values()]
    credential_ids = manager.execute("integration.credential", "search", [["backend_id", "in", backend_ids]])
    for model, ids in (("integration.credential", credential_ids), ("integration.backend", backend_ids)):
        every_field = list(manager.execute(model, "fields_get", attributes=["type"]))
        manager.execute(model, "read", ids, every_field)
        spec = {name: {} for name in every_field if name not in ("credential_ids",)}
        if model == "integration.backend":
            spec["credential_ids"] = {"fields": {"secret": {}, "login": {}, "kind": {}, "has_secret": {}}}
        manager.execute(model, "web_read", ids, specification=spec)
        manager.execute(model, "web_search_read", [["id", "in", ids]], specification=spec)
    # The forms' saves, with a new secret typed in each.
    manager.execute(
        "integration.credential",
        "web_save",
        [credential_ids[-1]],
        {"secret": known["replaced secret"]},
        specification={"secret": {}, "has_secret": {}, "login": {}},
    )
    [hmac_credential] = manager.execute(
        "integration.credential",
        "search",
        [["backend_id", "=", backends["hmac"]["id"]], ["usage", "=", "outbound"]],
    )
    manager.execute(
        "integration.backend",
        "web_save",
        [backends["hmac"]["id"]],
        {"credential_ids": [(1, hmac_credential, {"secret": known["outbound key"]})]},
        specification={"name": {}, "credential_ids": {"fields": {"secret": {}, "has_secret": {}}}},
    )
    return len(manager.answers)


def exports(manager, backends):
    """``export_data`` of every field of the credentials and the backends, as the list view exports."""
    backend_ids = [backend["id"] for backend in backends.values()]
    credential_ids = manager.execute("integration.credential", "search", [["backend_id", "in", backend_ids]])
    result = {}
    for model, ids, extra in (
        ("integration.credential", credential_ids, []),
        ("integration.backend", backend_ids, ["credential_ids/secret", "credential_ids/login"]),
    ):
        fields = [
            name
            for name, field in manager.execute(model, "fields_get", attributes=["type", "exportable"]).items()
            if field.get("exportable", True) and field["type"] not in ("one2many", "many2many")
        ]
        result[model] = manager.execute(model, "export_data", ids, fields + extra)
    return result
