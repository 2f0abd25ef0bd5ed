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

from .. import oauth2
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
        response = authorized_request(
            "POST",
            outgoing.target,
            outgoing.options,
            outgoing.secrets,
            headers,
            (outgoing.connect_timeout, outgoing.read_timeout),
            data=outgoing.body,
        )
    except oauth2.TokenRefused as error:
        return DeliveryResult(REFUSED, elapsed_ms(started), error=str(error))
    except oauth2.TokenUnavailable as error:
        return DeliveryResult(RETRY, elapsed_ms(started), error=str(error))
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


def authorized_request(method, url, options, secrets, headers, timeouts, tokens=None, **kwargs):
    """``method`` ``url`` with the credentials ``options`` and ``secrets`` name; the ``requests`` response.

    With ``options["oauth"]`` (``token_url``, ``client_id``, ``scope``,
    ``auth_in_body``) and ``secrets["client_secret"]`` it sends an OAuth
    bearer token, and after a 401 forgets it and tries once more with a fresh
    one (the receiver may have revoked it before it expired). Otherwise
    ``secrets["token"]``, when there, is sent as a bearer token. Raises
    :class:`~..oauth2.TokenError` when no token can be had, and ``requests``'
    exceptions for trouble on the way.
    """
    tokens = tokens or oauth2.TOKENS
    oauth = oauth_settings(options, secrets)

    def attempt(token):
        return session().request(
            method,
            url,
            headers=with_bearer(headers, token),
            timeout=timeouts,
            allow_redirects=False,
            **kwargs,
        )

    token = tokens.token(**oauth, timeouts=timeouts) if oauth else (secrets or {}).get("token")
    response = attempt(token)
    if response.status_code == 401 and oauth:
        response.close()
        tokens.forget(oauth["token_url"], oauth["client_id"], oauth["scope"], token=token)
        response = attempt(tokens.token(**oauth, timeouts=timeouts))
    return response


def oauth_settings(options, secrets):
    """The arguments of :meth:`~..oauth2.TokenCache.token` for these options, or None without OAuth."""
    oauth = (options or {}).get("oauth")
    if not oauth:
        return None
    missing = [name for name in ("token_url", "client_id") if not oauth.get(name)]
    if not (secrets or {}).get("client_secret"):
        missing.append("client secret")
    if missing:
        raise oauth2.TokenRefused(f"OAuth is set up without its {', '.join(missing)}: complete it")
    return {
        "token_url": oauth["token_url"],
        "client_id": oauth["client_id"],
        "client_secret": secrets["client_secret"],
        "scope": oauth.get("scope"),
        "auth_in_body": bool(oauth.get("auth_in_body")),
    }


def with_bearer(headers, token):
    """``headers`` with ``Authorization: Bearer <token>`` in place of any other; unchanged without a token."""
    if not token:
        return headers
    kept = {name: value for name, value in headers.items() if name.lower() != "authorization"}
    return {**kept, "Authorization": f"Bearer {token}"}


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
