# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Deliver one HTTP POST and say what its outcome means for the message.

Transport only: no Odoo here. The engine decides from :func:`outcome` whether
the message is delivered, must be tried again later (the receiver is down,
slow or asks us to slow down) or was refused for a reason a person must look
at (any other 4xx, a redirect).
"""

import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests

EXCERPT_LIMIT = 1000
DELIVERED = "delivered"
RETRY = "retry"
REFUSED = "refused"


@dataclass
class DeliveryResult:
    """What happened to one attempt: status (None when no answer came), latency and a bounded excerpt."""

    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str = ""
    retry_after: int | None = None


_local = threading.local()


def session():
    """This thread's ``requests.Session``: connections to a partner are kept and reused."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def post(url, body, headers, connect_timeout, read_timeout):
    """POST ``body`` (bytes) to ``url``; never raises for network trouble, it is in the result."""
    started = time.monotonic()
    try:
        response = session().post(
            url,
            data=body,
            headers=headers,
            timeout=(connect_timeout, read_timeout),
            allow_redirects=False,
        )
    except requests.Timeout as error:
        return DeliveryResult(None, _elapsed_ms(started), "", f"timeout: {error}")
    except requests.RequestException as error:
        return DeliveryResult(None, _elapsed_ms(started), "", f"{type(error).__name__}: {error}")
    return DeliveryResult(
        response.status_code,
        _elapsed_ms(started),
        response.text[:EXCERPT_LIMIT],
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )


def outcome(result):
    """``delivered`` on 2xx; ``retry`` on no answer, 408, 425, 429 and 5xx; ``refused`` otherwise."""
    status = result.status_code
    if status is None or status in (408, 425, 429) or status >= 500:
        return RETRY
    if 200 <= status < 300:
        return DELIVERED
    return REFUSED


def retry_after_seconds(value, now=None):
    """Seconds asked for by a ``Retry-After`` header (delay or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0, int(moment.timestamp() - now))


def _elapsed_ms(started):
    return int((time.monotonic() - started) * 1000)
