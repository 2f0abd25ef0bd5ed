"""A plant system's call to the suite's webhooks, signed as Standard Webhooks says."""

import json
import uuid
from datetime import UTC, datetime

import requests
from standardwebhooks.webhooks import Webhook


def signed_post(server_url, backend_code, flow_code, payload, secret, webhook_id=None):
    """POST ``payload`` to the backend's contract ``flow_code``; the answer as requests gives it.

    A network retry of the sender re-sends the same ``webhook_id``; a new
    call gets a new one.
    """
    body = json.dumps(payload)
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    sent_at = datetime.now(tz=UTC)
    return requests.post(
        f"{server_url}/integration/v1/{backend_code}/{flow_code}",
        data=body,
        headers={
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, sent_at, body),
        },
        timeout=60,
    )
