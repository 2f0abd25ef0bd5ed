"""End to end: outbound delivery by the real queue_job runner to a real partner server.

The partner server (integration_base/tests/partner_server.py, standard library
only) runs in this pytest process; the Odoo server under test reaches it over
HTTP on localhost, fails once (503), then succeeds.
"""

import uuid

import pytest
from standardwebhooks.webhooks import Webhook
from test_engine import create_partner_contract, wait_for_state


def subscribe_to_new_partners(odoo, backend_id, ref_prefix, event_code="test.partner.created"):
    """Send the backend the partner contract for every new partner whose ref starts with ``ref_prefix``.

    With ``event_code`` "test.partner.renamed": for every rename of such a partner.
    """
    [event_id] = odoo.execute("integration.event", "search", [["code", "=", event_code]])
    return odoo.execute(
        "integration.subscription",
        "create",
        {
            "event_id": event_id,
            "flow_code": "test.partner",
            "backend_ids": [(6, 0, [backend_id])],
            "domain": f"[('ref', '=like', '{ref_prefix}%')]",
        },
    )


@pytest.fixture
def subscriber(odoo, partner_server):
    """A backend subscribed to new partners whose ref starts with OUT-, delivering to a local server."""
    secret = "whsec_" + "c2VjcmV0LWZvci10aGUtZTJlLXRlc3Qtb25seQ=="
    script = [partner_server.Answer(503, '{"error": "restarting"}')]
    with partner_server.PartnerServer(script) as server:
        code = f"e2e-out-{uuid.uuid4().hex[:8]}"
        backend_id = odoo.execute(
            "integration.backend",
            "create",
            {"name": "E2E subscriber", "code": code, "outbound_url": server.url},
        )
        odoo.execute(
            "integration.credential", "create", {"backend_id": backend_id, "kind": "hmac", "secret": secret}
        )
        odoo.execute("integration.backend", "action_activate", [backend_id])
        create_partner_contract(odoo, backend_id, direction="outbound", retry_backoff_seconds=1)
        subscription_id = subscribe_to_new_partners(odoo, backend_id, "OUT-")
        yield server, secret
        odoo.execute("integration.subscription", "write", [subscription_id], {"active": False})


def test_outbound_message_survives_a_partner_outage(odoo, subscriber):
    server, secret = subscriber
    ref = f"OUT-{uuid.uuid4().hex[:8]}"
    partner_id = odoo.execute("res.partner", "create", {"name": "Delivered", "ref": ref})
    [message_id] = odoo.execute(
        "integration.message",
        "search",
        [
            ["direction", "=", "outbound"],
            ["link_ids.res_model", "=", "res.partner"],
            ["link_ids.res_id", "=", partner_id],
        ],
    )
    message = wait_for_state(odoo, message_id, {"done", "exception", "dead"}, fields=["state", "attempts"])
    assert message == {"id": message_id, "state": "done", "attempts": 2}
    assert len(server.requests) == 2
    (first_headers, _first_body), (headers, body) = server.requests
    assert first_headers["webhook-id"] == headers["webhook-id"], "the retry is the same message"
    envelope = Webhook(secret).verify(body, headers)
    assert envelope["data"] == {"ref": ref, "name": "Delivered"}
    attempts = odoo.execute(
        "integration.delivery.attempt",
        "search_read",
        [["message_id", "=", message_id]],
        fields=["status_code", "outcome", "response_excerpt"],
        order="id",
    )
    assert [(a["status_code"], a["outcome"]) for a in attempts] == [(503, "retry"), (200, "delivered")]
    assert "restarting" in attempts[0]["response_excerpt"]
