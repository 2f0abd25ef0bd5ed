# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A sender signs ``"{webhook-id}.{webhook-timestamp}.{body}"`` with HMAC-SHA256
under a shared secret (``whsec_`` followed by the base64 key) and sends
``webhook-signature: v1,<base64 signature>``, several space-separated
signatures being allowed while a secret is rotated. The receiver refuses
timestamps outside a tolerance, which bounds how long a captured request can
be replayed; the ``webhook-id`` then makes a replay a harmless duplicate.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The request is not signed as it should be; the reason is for logs, not for the caller."""


def secret_key(secret):
    """The raw HMAC key of a ``whsec_...`` secret."""
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(encoded + "==")
    except (binascii.Error, ValueError) as error:
        raise SignatureError(f"the secret is not base64: {error}") from None
    if not key:
        raise SignatureError("the secret is empty")
    return key


def signature(secret, msg_id, timestamp, body):
    """The ``v1,<base64>`` signature of ``body`` (bytes) sent as ``msg_id`` at ``timestamp``."""
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def verify(
    shared_secrets, msg_id, timestamp, signature_header, body, tolerance=DEFAULT_TOLERANCE_SECONDS, now=None
):
    """Check a request's Standard Webhooks headers against any of ``shared_secrets``.

    Raises :class:`SignatureError` when a header is missing, the timestamp is
    outside ``tolerance`` seconds of ``now``, or no signature matches.
    """
    if not (msg_id and timestamp and signature_header):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError(f"webhook-timestamp '{timestamp}' is not a number") from None
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance:
        raise SignatureError(f"webhook-timestamp {sent_at} is more than {tolerance} s from now")
    expected = [signature(secret, msg_id, sent_at, body).encode() for secret in shared_secrets]
    for candidate in signature_header.split():
        version, _sep, _value = candidate.partition(",")
        if version != "v1":
            continue
        if any(hmac.compare_digest(candidate.encode(), wanted) for wanted in expected):
            return True
    raise SignatureError("no signature matches")


def bearer_token_matches(authorization, tokens):
    """Whether an ``Authorization`` header carries one of ``tokens`` as a bearer token.

    For systems that cannot sign; compared in constant time.
    """
    scheme, _sep, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and any(
        hmac.compare_digest(token.encode(), expected.encode()) for expected in tokens
    )


def generate_secret(size=32):
    """A new random ``whsec_`` secret."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(size)).decode()
