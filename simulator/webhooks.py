"""The plant's side of the suite's webhooks: signed posts, sent again as a careful MES would.

Each post is signed the Standard Webhooks way with the backend's inbound key;
its ``webhook-id`` is the event's own id, so a post sent again (after a lost
answer, or twice at once) is the same message to Odoo. An answer that says
"later" (429, 503 with ``Retry-After``) is waited for and the post tried
again; so are other 5xx and broken connections, which the suite promises
never to give and which are therefore counted.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from standardwebhooks.webhooks import Webhook

TRIES = 6
TIMEOUT_SECONDS = 60
LONGEST_WAIT_SECONDS = 10


def signed_headers(signer, message_id, body, database=None):
    """The headers of one signed post of ``body`` (bytes or text), signed now.

    ``signer`` is a ``standardwebhooks`` ``Webhook`` holding the backend's
    inbound key. The plant, the end-to-end tests and the benchmark all sign
    through here.
    """
    sent_at = datetime.now(tz=UTC)
    text = body.decode() if isinstance(body, bytes) else body
    headers = {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signer.sign(message_id, sent_at, text),
    }
    if database:
        # Without it Odoo lists every database before each sessionless call.
        headers["X-Odoo-Database"] = database
    return headers


@dataclass
class Answer:
    """What Odoo finally answered a post, and every status on the way (a 500 before a 200, say)."""

    status: int
    body: dict
    statuses: list = field(default_factory=list)

    @property
    def duplicate(self):
        return bool(self.body.get("duplicate"))


class SignedClient:
    """Posts events to ``/integration/v1/<backend>/<contract>``, one HTTP session per thread."""

    def __init__(self, url, database, backend_code, secret):
        self.base = f"{url.rstrip('/')}/integration/v1/{backend_code}"
        self.database = database
        self.signer = Webhook(secret)
        self._local = threading.local()

    def _session(self):
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def post(self, flow, message_id, body):
        """Post ``body`` (bytes) until Odoo gives a final answer, or the tries are spent."""
        statuses = []
        for _attempt in range(TRIES):
            headers = signed_headers(self.signer, message_id, body, self.database)
            try:
                response = self._session().post(
                    f"{self.base}/{flow}", data=body, headers=headers, timeout=TIMEOUT_SECONDS
                )
            except requests.RequestException as error:
                statuses.append(f"connection error: {type(error).__name__}")
                time.sleep(1)
                continue
            statuses.append(response.status_code)
            if response.status_code in (429, 503) or response.status_code >= 500:
                time.sleep(_wait(response))
                continue
            return Answer(response.status_code, _json(response), statuses)
        last = statuses[-1] if isinstance(statuses[-1], int) else 0
        return Answer(last, {}, statuses)


def _wait(response):
    """Seconds to wait before trying again: what ``Retry-After`` says, within reason."""
    try:
        return min(float(response.headers.get("Retry-After", 1)), LONGEST_WAIT_SECONDS)
    except ValueError:
        return 1


def _json(response):
    try:
        body = response.json()
    except ValueError:
        return {"text": response.text[:200]}
    return body if isinstance(body, dict) else {"items": body}


def encode(payload):
    """The bytes of a payload, as the MES sends them (compact JSON)."""
    return json.dumps(payload, separators=(",", ":")).encode()
