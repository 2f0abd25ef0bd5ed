# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""OAuth 2.0 client credentials (RFC 6749, section 4.4): a machine asks for a token with its own secret.

A token endpoint gives an access token for a while (``expires_in``); asking for
a new one before every request would double the traffic and hit the
endpoint's rate limits, so a process keeps each token until shortly before it
expires (:data:`TOKENS`). A receiver may revoke a token earlier: after a 401
the caller drops it (:meth:`~TokenCache.forget`) and asks again.

Two kinds of failure call for different actions: the endpoint said no (wrong
secret, unknown client, scope not granted), which a person must fix
(:class:`TokenRefused`), or it could not be reached or is overloaded, which
waiting cures (:class:`TokenUnavailable`). Both say what happened in words and
never hold the secret, even when the endpoint echoes it back.
"""

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote_plus

import requests

from . import strict_json

# A token is dropped this many seconds before the endpoint says it expires (at most half its
# lifetime), so that a request sent with it does not arrive just after it expired.
EXPIRY_MARGIN = 60
# How long a token without ``expires_in`` is kept (RFC 6749 leaves the default to the server).
DEFAULT_LIFETIME = 300
EXCERPT_LIMIT = 300
HIDDEN = "***"


class TokenError(Exception):
    """No token could be had; the message says why, in words, without the secret."""


class TokenRefused(TokenError):
    """The token endpoint refused us (or answered nonsense): a person must fix the settings."""

    def __init__(self, message, status_code=None, error_code=None):
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code


class TokenUnavailable(TokenError):
    """The token endpoint could not be reached, was slow or overloaded: try again later."""


@dataclass
class _Cached:
    access_token: str
    usable_until: float
    secret_digest: bytes


def normalized_scope(scope):
    """A scope as the endpoint expects it (space separated), from a text or a list; None when empty."""
    if isinstance(scope, list | tuple | set):
        scope = " ".join(sorted(str(part) for part in scope))
    return " ".join(scope.split()) if scope else None


class TokenCache:
    """Access tokens by (token URL, client id, scope), kept until shortly before they expire.

    Thread-safe: threads that need the same missing token wait for one request
    to the endpoint instead of sending one each. ``clock`` (monotonic seconds)
    is a parameter so that tests can move time forward.
    """

    def __init__(self, margin=EXPIRY_MARGIN, clock=time.monotonic):
        self.margin = margin
        self.clock = clock
        self._tokens = {}
        self._fetch_locks = {}
        self._lock = threading.Lock()

    def token(
        self,
        token_url,
        client_id,
        client_secret,
        scope=None,
        timeouts=(5.0, 30.0),
        auth_in_body=False,
    ):
        """A valid access token for this client: the cached one, or a new one from ``token_url``.

        ``timeouts`` is ``(connect, read)`` in seconds. Client authentication
        is HTTP Basic (RFC 6749, section 2.3.1) unless ``auth_in_body``, for
        the endpoints that only read the credentials from the form.
        """
        scope = normalized_scope(scope)
        key = (token_url, client_id, scope)
        digest = hashlib.sha256(client_secret.encode()).digest()
        cached = self._usable(key, digest)
        if cached:
            return cached
        with self._fetch_lock(key):
            cached = self._usable(key, digest)  # another thread may have fetched it meanwhile
            if cached:
                return cached
            access_token, lifetime = request_token(
                token_url, client_id, client_secret, scope, timeouts, auth_in_body
            )
            usable_until = self.clock() + lifetime - min(self.margin, lifetime / 2)
            with self._lock:
                self._tokens[key] = _Cached(access_token, usable_until, digest)
            return access_token

    def forget(self, token_url, client_id, scope=None, token=None):
        """Drop the cached token (after a 401); with ``token``, only if it is still that one.

        Naming the token that was refused keeps a thread from dropping the
        fresh token another thread has just fetched.
        """
        key = (token_url, client_id, normalized_scope(scope))
        with self._lock:
            cached = self._tokens.get(key)
            if cached and (token is None or hmac.compare_digest(cached.access_token, token)):
                del self._tokens[key]

    def clear(self):
        with self._lock:
            self._tokens.clear()

    def _usable(self, key, digest):
        with self._lock:
            cached = self._tokens.get(key)
            # A token fetched with another secret (the credential was changed) is not served.
            if cached and cached.usable_until > self.clock() and cached.secret_digest == digest:
                return cached.access_token
        return None

    def _fetch_lock(self, key):
        with self._lock:
            return self._fetch_locks.setdefault(key, threading.Lock())


# The process's tokens: every transport of every thread shares them.
TOKENS = TokenCache()


def request_token(token_url, client_id, client_secret, scope, timeouts, auth_in_body=False):
    """POST the client-credentials grant to ``token_url``; ``(access_token, lifetime in seconds)``."""
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    headers = {"Accept": "application/json"}
    auth = None
    if auth_in_body:
        form.update(client_id=client_id, client_secret=client_secret)
    else:
        # RFC 6749 2.3.1: the id and the secret are form-encoded before they are put in Basic.
        auth = (quote_plus(client_id), quote_plus(client_secret))
    try:
        response = requests.post(
            token_url, data=form, headers=headers, auth=auth, timeout=timeouts, allow_redirects=False
        )
    except requests.RequestException as error:
        kind = "timed out" if isinstance(error, requests.Timeout) else f"unreachable ({type(error).__name__})"
        raise TokenUnavailable(f"the token endpoint {token_url} is {kind}: try again later") from None
    return _read_answer(response, token_url, client_id, client_secret)


def _read_answer(response, token_url, client_id, client_secret):
    status = response.status_code
    who = f"the token endpoint {token_url}"
    if status in (408, 425, 429) or status >= 500:
        raise TokenUnavailable(f"{who} answered {status}: try again later{_said(response, client_secret)}")
    if 300 <= status < 400:
        raise TokenRefused(
            f"{who} redirects to {response.headers.get('Location', '?')} ({status}): "
            "set the token URL to the final address",
            status,
        )
    try:
        answer = strict_json.loads(response.content)
    except strict_json.JsonRefused as error:
        said = _said(response, client_secret)
        raise TokenRefused(
            f"{who} answered {status} with something that is not JSON ({error}){said}", status
        ) from None
    if not isinstance(answer, dict):
        answer = {}
    error_code = answer.get("error")
    if status >= 400 or error_code:
        description = answer.get("error_description") or ""
        words = ": ".join(str(part) for part in (error_code, description) if part)
        words = redacted_excerpt(words, [client_secret]) or redacted_excerpt(response.text, [client_secret])
        raise TokenRefused(
            f"{who} refused client '{client_id}' ({status}): {words}",
            status,
            error_code,
        )
    access_token = answer.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise TokenRefused(f"{who} answered {status} without an access_token", status)
    token_type = answer.get("token_type")
    if token_type is not None and str(token_type).lower() != "bearer":
        raise TokenRefused(f"{who} gave a '{token_type}' token: only bearer tokens are supported", status)
    return access_token, _lifetime(answer.get("expires_in"))


def _lifetime(expires_in):
    """Seconds a token lives: ``expires_in`` (a number, or digits as some servers send it)."""
    if isinstance(expires_in, str) and expires_in.strip().isdigit():
        expires_in = int(expires_in)
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
        return float(expires_in)
    return float(DEFAULT_LIFETIME)


def redacted_excerpt(text, secrets, limit=EXCERPT_LIMIT):
    """A bounded, one-line piece of ``text``, each secret (plain or form-encoded) hidden before it is cut.

    An endpoint that echoes what it was sent would otherwise put a secret in
    an error message, and from there in the log and the message's history.
    """
    for secret in secrets:
        for form in {secret, quote_plus(secret)} if secret else ():
            text = text.replace(form, HIDDEN)
    return " ".join(text[:limit].split())


def _said(response, secret):
    excerpt = redacted_excerpt(response.text, [secret])
    return f"; it said: {excerpt}" if excerpt else ""
