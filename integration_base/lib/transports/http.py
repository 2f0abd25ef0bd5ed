# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""HTTP out: POST one delivery and say what its answer means for the message.

The engine decides from the outcome whether the message is delivered, must be
tried again later (no answer, 408, 425, 429, 5xx: the receiver is down, slow
or asks us to slow down) or was refused for a reason a person must look at
(any other 4xx, a redirect).
"""

import threading
import time
from email.utils import parsedate_to_datetime

import requests

from .base import DELIVERED, EXCERPT_LIMIT, REFUSED, RETRY, DeliveryResult

_local = threading.local()


def session():
    """This thread's ``requests.Session``: connections to a partner are kept and reused."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def send(outgoing):
    """POST ``outgoing.body`` to its target; never raises for network trouble, it is in the result."""
    headers = {"Content-Type": outgoing.content_type, **outgoing.headers}
    started = time.monotonic()
    try:
        response = session().post(
            outgoing.target,
            data=outgoing.body,
            headers=headers,
            timeout=(outgoing.connect_timeout, outgoing.read_timeout),
            allow_redirects=False,
        )
    except requests.Timeout as error:
        return DeliveryResult(RETRY, elapsed_ms(started), error=f"timeout: {error}")
    except requests.RequestException as error:
        return DeliveryResult(RETRY, elapsed_ms(started), error=f"{type(error).__name__}: {error}")
    return DeliveryResult(
        outcome_of_status(response.status_code),
        elapsed_ms(started),
        response.text[:EXCERPT_LIMIT],
        status_code=response.status_code,
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )


def outcome_of_status(status):
    """``delivered`` on 2xx; ``retry`` on no answer, 408, 425, 429 and 5xx; ``refused`` otherwise."""
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


def elapsed_ms(started):
    """Milliseconds since ``started`` (a ``time.monotonic()`` reading)."""
    return int((time.monotonic() - started) * 1000)
