"""A plant system's call to the suite's webhooks, signed as the simulated plant signs."""

import json
import uuid

import requests
from standardwebhooks.webhooks import Webhook

from simulator.webhooks import signed_headers


def signed_post(server_url, backend_code, flow_code, payload, secret, webhook_id=None):
    """POST ``payload`` to the backend's contract ``flow_code``; the answer as requests gives it.

    A network retry of the sender re-sends the same ``webhook_id``; a new
    call gets a new one.
    """
    body = json.dumps(payload)
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    return requests.post(
        f"{server_url}/integration/v1/{backend_code}/{flow_code}",
        data=body,
        headers=signed_headers(Webhook(secret), webhook_id, body),
        timeout=60,
    )
