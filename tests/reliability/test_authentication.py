"""Scenario 5: authentication attacks against the real prefork server.

Wrong, stale, future and replayed signatures, another backend's key, the
backend's own outbound key, suspended and draft backends, missing or empty
headers, and credentials where the door does not look for them (the query
string, ``Authorization: Bearer`` or ``X-Api-Key`` on a signing backend, a
token backend's token anywhere but its bearer header): each is refused with
the status USAGE.md documents (401 for any wrong credential, the same answer
whatever was wrong; 403 for a backend that is not active; 409 for a webhook-id
replayed to another contract; 429 once an address keeps failing) and none
stores anything. A request replayed as it was, after it was accepted, is the
duplicate it is (200, the same message, nothing stored again).

Timings are not measured (a network hides them in noise); the constant-time
comparisons are checked where they are made, in ``webhook_signature.py``.
"""

import base64
import hashlib
import hmac
import importlib.util
import json
import os
import time
import uuid
from collections import Counter
from unittest import mock

import requests
from scenario import REPO, Figures, settle, sized
from test_dispatcher import SCHEMA, SECRET
from test_engine import create_partner_contract

OTHER_SECRET = "whsec_" + base64.b64encode(b"another backend's key, for tests").decode()
OUTBOUND_SECRET = "whsec_" + base64.b64encode(b"an outbound key, for tests only").decode()
TOKEN = "tok-" + "reliability-tests-only"
GUESSES = sized(80, 300)
UNAUTHENTICATED_PER_MINUTE = 60  # integration_webhook.UNAUTHENTICATED_PER_MINUTE


def generate_secret():
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def sign(secret, webhook_id, timestamp, body):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def signed(body, secret=SECRET, webhook_id=None, at=None):
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time() if at is None else at)
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
    }


def make_backend(odoo, prefix, credentials, state="active", auth_method="hmac", **backend_values):
    """A backend with ``credentials`` (dicts of credential values) and the partner contract."""
    code = f"{prefix}-{uuid.uuid4().hex[:8]}"
    backend_id = odoo.execute(
        "integration.backend",
        "create",
        {
            "name": code,
            "code": code,
            "rate_limit_per_minute": 0,
            "auth_method": auth_method,
            **backend_values,
        },
    )
    for values in credentials:
        odoo.execute("integration.credential", "create", {"backend_id": backend_id, **values})
    if state != "draft":
        odoo.execute("integration.backend", "action_activate", [backend_id])
    create_partner_contract(odoo, backend_id, schema=json.dumps(SCHEMA))
    if state == "suspended":
        odoo.execute("integration.backend", "action_suspend", [backend_id])
    return backend_id, code


class Door:
    """Posts to the webhooks and keeps count; every answer must be JSON with an error code when refused."""

    def __init__(self, url):
        self.url = url
        self.session = requests.Session()
        self.requests = 0
        self.server_errors = []
        self.refusals = []  # (label, status, error code)
        self.unauthorized_answers = set()  # the bodies of the 401s: one, whatever was wrong

    def call(self, label, path, body=b"", headers=None, method="POST", params=None):
        self.requests += 1
        response = self.session.request(
            method, self.url + path, data=body, headers=headers or {}, params=params, timeout=60
        )
        if response.status_code >= 500:
            self.server_errors.append((label, response.status_code, response.text[:200]))
        elif response.status_code >= 400:
            answer = response.json()
            assert answer.get("error") and answer.get("message"), (label, answer)
            self.refusals.append((label, response.status_code, answer["error"]))
            if response.status_code == 401:
                self.unauthorized_answers.add(response.text)
        return response


def message_count(database, backend_ids):
    with database.cursor() as cr:
        cr.execute("SELECT count(*) FROM integration_message WHERE backend_id = ANY(%s)", [list(backend_ids)])
        return cr.fetchone()[0]


def wait_for_a_fresh_minute(needed_seconds):
    """Failed calls are counted per address and clock minute: start where ``needed_seconds`` fit."""
    if 60 - time.time() % 60 < needed_seconds:
        time.sleep(60 - time.time() % 60 + 0.5)


def set_up_backends(odoo):
    """The backends attacked, by role: ``{role: (id, code)}``."""
    made = {}
    made["main"] = make_backend(
        odoo, "rel-auth", [{"kind": "hmac", "secret": SECRET}], signature_tolerance_seconds=300
    )
    made["other"] = make_backend(odoo, "rel-other", [{"kind": "hmac", "secret": OTHER_SECRET}])
    made["split"] = make_backend(
        odoo,
        "rel-split",
        [
            {"kind": "hmac", "secret": SECRET, "usage": "inbound"},
            {"kind": "hmac", "secret": OUTBOUND_SECRET, "usage": "outbound"},
        ],
    )
    made["suspended"] = make_backend(odoo, "rel-susp", [{"kind": "hmac", "secret": SECRET}], "suspended")
    made["draft"] = make_backend(odoo, "rel-draft", [{"kind": "hmac", "secret": SECRET}], "draft")
    made["token"] = make_backend(odoo, "rel-token", [{"kind": "token", "secret": TOKEN}], auth_method="token")
    made["quick"] = make_backend(
        odoo, "rel-quick", [{"kind": "hmac", "secret": SECRET}], signature_tolerance_seconds=2
    )
    create_partner_contract(
        odoo, made["main"][0], name="Partner copy", code="test.partner.copy", schema=json.dumps(SCHEMA)
    )
    return made


def test_every_attack_on_the_credentials_is_refused_and_stores_nothing(node, odoo, database):
    made = set_up_backends(odoo)
    backends = [backend_id for backend_id, _code in made.values()]
    code, other, split, suspended, draft, token, quick = (
        made[role][1] for role in ("main", "other", "split", "suspended", "draft", "token", "quick")
    )
    door = Door(node.url)
    path = f"/integration/v1/{code}/test.partner"
    run = uuid.uuid4().hex[:6]

    def body(name):
        return json.dumps({"ref": f"A{run}-{name}", "name": name}).encode()

    accepted_bodies = {}  # label -> message id, of the requests meant to get in

    def accepted(label, target, payload, headers):
        response = door.call(label, target, payload, headers)
        assert response.status_code == 202, (label, response.status_code, response.text[:300])
        accepted_bodies[label] = response.json()["message_id"]
        return response

    # What gets in: the controls, so that a refusal below is the attack's and not the setup's.
    captured_body = body("captured")
    captured = signed(captured_body)
    accepted("signed", path, captured_body, captured)
    accepted("signed 290 s ago", path, body("old"), signed(body("old"), at=time.time() - 290))
    rotating = signed(body("rotating"))
    rotating["webhook-signature"] = "v1,AAAA " + rotating["webhook-signature"]
    accepted("one of two signatures", path, body("rotating"), rotating)
    accepted(
        "split backend, its inbound key",
        f"/integration/v1/{split}/test.partner",
        body("split"),
        signed(body("split")),
    )
    accepted(
        "bearer token",
        f"/integration/v1/{token}/test.partner",
        body("token"),
        {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    quick_body = body("quick")
    quick_headers = signed(quick_body)
    accepted("quick backend", f"/integration/v1/{quick}/test.partner", quick_body, quick_headers)
    assert message_count(database, backends) == len(accepted_bodies)

    # Replayed as it was: the duplicate, never a second message.
    replays = [door.call("replayed as it was", path, captured_body, captured) for _i in range(sized(3, 20))]
    assert {(r.status_code, r.json()["message_id"], r.json()["duplicate"]) for r in replays} == {
        (200, accepted_bodies["signed"], True)
    }

    wait_for_a_fresh_minute(45)
    codes = (code, other, split, suspended, draft, token)
    good = body("good")
    attacks = attacks_on(codes, captured, captured_body, good, accepted_bodies["signed"])
    for label, target, payload, headers, params, method, _status in attacks:
        door.call(label, target, payload, headers, method, params)
    time.sleep(3)  # past the quick backend's tolerance of 2 s
    door.call(
        "replayed past the tolerance", f"/integration/v1/{quick}/test.partner", quick_body, quick_headers
    )
    expected = {label: status for label, _t, _b, _h, _p, _m, status in attacks} | {
        "replayed past the tolerance": 401
    }

    guesses = guess(door, path, good)
    late_body = body("after the guesses")
    accepted("signed, after the guesses", path, late_body, signed(late_body))

    stored = message_count(database, backends)
    states = settle(database, backends, stored)
    figures = Figures(
        "authentication attacks",
        sent=door.requests,
        accepted=len(accepted_bodies),
        done=states.get("done", 0),
        exception=states.get("exception", 0) + states.get("dead", 0),
        lost=len(accepted_bodies) - stored if stored < len(accepted_bodies) else 0,
        applied_twice=max(0, stored - len(accepted_bodies)),
        requests=door.requests,
        server_errors=len(door.server_errors),
        notes={
            "attacks": len(attacks) + 1,
            "guesses": dict(sorted(guesses.items())),
            "replays": len(replays),
        },
    )
    figures.check()
    answered = {label: status for label, status, _error in door.refusals if label != "guess"}
    assert answered == expected, {
        label: (answered.get(label), status)
        for label, status in expected.items()
        if answered.get(label) != status
    }
    assert len(door.unauthorized_answers) == 1, door.unauthorized_answers
    assert all(error == "unauthorized" for _l, status, error in door.refusals if status == 401)
    assert guesses == {401: UNAUTHENTICATED_PER_MINUTE, 429: GUESSES - UNAUTHENTICATED_PER_MINUTE}, guesses
    assert stored == len(accepted_bodies), f"{stored - len(accepted_bodies)} messages stored by refused calls"
    assert states == {"done": stored}, states


def guess(door, path, body):
    """Past 60 failures a minute an address is slowed down (429), whatever it says it forwards for."""
    time.sleep(60 - time.time() % 60 + 0.5)  # a minute of its own
    guesses = Counter()
    for index in range(GUESSES):
        headers = signed(body, secret=OTHER_SECRET)
        headers["X-Forwarded-For"] = f"10.0.{index % 250}.{index % 7}"  # not trusted: proxy_mode is off
        guesses[door.call("guess", path, body, headers).status_code] += 1
    return guesses


def attacks_on(codes, captured, captured_body, good, message_id):
    """``(label, path, body, headers, params, method, status)`` of every attack, and its documented status."""
    code, other, split, suspended, draft, token = codes
    path = f"/integration/v1/{code}/test.partner"
    sent_at = int(captured["webhook-timestamp"])
    return [
        # (label, path, body, headers, params, method, status)
        (
            "replay with a new body",
            path,
            captured_body.replace(b"captured", b"forged"),
            captured,
            None,
            "POST",
            401,
        ),
        (
            "replay with a new timestamp",
            path,
            captured_body,
            {**captured, "webhook-timestamp": str(sent_at + 1)},
            None,
            "POST",
            401,
        ),
        (
            "replay with a new webhook-id",
            path,
            captured_body,
            {**captured, "webhook-id": "msg_other"},
            None,
            "POST",
            401,
        ),
        (
            "replay to another backend",
            f"/integration/v1/{other}/test.partner",
            captured_body,
            captured,
            None,
            "POST",
            401,
        ),
        (
            "replay to another contract",
            f"/integration/v1/{code}/test.partner.copy",
            captured_body,
            captured,
            None,
            "POST",
            409,
        ),
        ("replay to the batch", f"{path}/batch", captured_body, captured, None, "POST", 400),
        ("wrong key", path, good, signed(good, secret=generate_secret()), None, "POST", 401),
        (
            "garbled signature",
            path,
            good,
            {**signed(good), "webhook-signature": "v1,AAAA"},
            None,
            "POST",
            401,
        ),
        ("empty signature", path, good, {**signed(good), "webhook-signature": ""}, None, "POST", 401),
        (
            "signature without value",
            path,
            good,
            {**signed(good), "webhook-signature": "v1,"},
            None,
            "POST",
            401,
        ),
        (
            "signature of another version",
            path,
            good,
            {**signed(good), "webhook-signature": signed(good)["webhook-signature"].replace("v1,", "v2,")},
            None,
            "POST",
            401,
        ),
        ("signature with the secret text as key", path, good, _signed_with_text_key(good), None, "POST", 401),
        ("stale by 330 s", path, good, signed(good, at=time.time() - 330), None, "POST", 401),
        ("stale by a day", path, good, signed(good, at=time.time() - 86400), None, "POST", 401),
        ("future by 330 s", path, good, signed(good, at=time.time() + 330), None, "POST", 401),
        ("future by a year", path, good, signed(good, at=time.time() + 365 * 86400), None, "POST", 401),
        ("timestamp in milliseconds", path, good, _signed_millis(good), None, "POST", 401),
        ("timestamp zero", path, good, signed(good, at=0), None, "POST", 401),
        ("no webhook-id", path, good, _without(signed(good), "webhook-id"), None, "POST", 401),
        ("no webhook-timestamp", path, good, _without(signed(good), "webhook-timestamp"), None, "POST", 401),
        ("no webhook-signature", path, good, _without(signed(good), "webhook-signature"), None, "POST", 401),
        ("no headers at all", path, good, {"Content-Type": "application/json"}, None, "POST", 401),
        ("another backend's key", path, good, signed(good, secret=OTHER_SECRET), None, "POST", 401),
        (
            "the outbound key",
            f"/integration/v1/{split}/test.partner",
            good,
            signed(good, secret=OUTBOUND_SECRET),
            None,
            "POST",
            401,
        ),
        (
            "a backend's key at its neighbour",
            f"/integration/v1/{other}/test.partner",
            good,
            signed(good),
            None,
            "POST",
            401,
        ),
        (
            "signature in the query string",
            path,
            good,
            {"Content-Type": "application/json"},
            _without(signed(good), "Content-Type"),
            "POST",
            401,
        ),
        (
            "secret in the query string",
            path,
            good,
            {"Content-Type": "application/json"},
            {"token": SECRET, "secret": SECRET, "access_token": SECRET},
            "POST",
            401,
        ),
        (
            "secret as a bearer token",
            path,
            good,
            {"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"},
            None,
            "POST",
            401,
        ),
        (
            "secret in X-Api-Key",
            path,
            good,
            {"Content-Type": "application/json", "X-Api-Key": SECRET},
            None,
            "POST",
            401,
        ),
        (
            "signature in another header",
            path,
            good,
            {
                "Content-Type": "application/json",
                "X-Webhook-Signature": signed(good)["webhook-signature"],
                "Signature": signed(good)["webhook-signature"],
            },
            None,
            "POST",
            401,
        ),
        (
            "token in the query string",
            f"/integration/v1/{token}/test.partner",
            good,
            {"Content-Type": "application/json"},
            {"access_token": TOKEN, "token": TOKEN},
            "POST",
            401,
        ),
        (
            "token in X-Api-Key",
            f"/integration/v1/{token}/test.partner",
            good,
            {"Content-Type": "application/json", "X-Api-Key": TOKEN},
            None,
            "POST",
            401,
        ),
        (
            "token without its scheme",
            f"/integration/v1/{token}/test.partner",
            good,
            {"Content-Type": "application/json", "Authorization": TOKEN},
            None,
            "POST",
            401,
        ),
        (
            "token as basic credentials",
            f"/integration/v1/{token}/test.partner",
            good,
            {
                "Content-Type": "application/json",
                "Authorization": "Basic " + base64.b64encode(f"x:{TOKEN}".encode()).decode(),
            },
            None,
            "POST",
            401,
        ),
        (
            "token with a suffix",
            f"/integration/v1/{token}/test.partner",
            good,
            {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}x"},
            None,
            "POST",
            401,
        ),
        (
            "token's prefix",
            f"/integration/v1/{token}/test.partner",
            good,
            {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN[:-1]}"},
            None,
            "POST",
            401,
        ),
        (
            "signature at a token backend",
            f"/integration/v1/{token}/test.partner",
            good,
            signed(good),
            None,
            "POST",
            401,
        ),
        (
            "suspended backend",
            f"/integration/v1/{suspended}/test.partner",
            good,
            signed(good),
            None,
            "POST",
            403,
        ),
        ("draft backend", f"/integration/v1/{draft}/test.partner", good, signed(good), None, "POST", 403),
        (
            "suspended backend, wrong key",
            f"/integration/v1/{suspended}/test.partner",
            good,
            signed(good, secret=OTHER_SECRET),
            None,
            "POST",
            401,
        ),
        ("unknown backend", "/integration/v1/nobody/test.partner", good, signed(good), None, "POST", 401),
        (
            "openapi, wrong key",
            f"/integration/v1/{code}/openapi.json",
            b"",
            signed(b"", secret=OTHER_SECRET),
            None,
            "GET",
            401,
        ),
        ("openapi, unsigned", f"/integration/v1/{code}/openapi.json", b"", {}, None, "GET", 401),
        (
            "status, wrong key",
            f"/integration/v1/{code}/messages/{message_id}",
            b"",
            signed(b"", secret=OTHER_SECRET),
            None,
            "GET",
            401,
        ),
        (
            "status, another backend's message",
            f"/integration/v1/{other}/messages/{message_id}",
            b"",
            signed(b"", secret=OTHER_SECRET),
            None,
            "GET",
            404,
        ),
    ]


def _without(headers, name):
    return {key: value for key, value in headers.items() if key != name}


def _signed_millis(body):
    webhook_id, millis = f"msg_{uuid.uuid4().hex}", int(time.time() * 1000)
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(millis),
        "webhook-signature": sign(SECRET, webhook_id, millis, body),
    }


def _signed_with_text_key(body):
    headers = signed(body)
    timestamp = headers["webhook-timestamp"]
    signed_content = f"{headers['webhook-id']}.{timestamp}.".encode() + body
    digest = hmac.new(SECRET.encode(), signed_content, hashlib.sha256).digest()
    return {**headers, "webhook-signature": f"v1,{base64.b64encode(digest).decode()}"}


def test_signatures_and_tokens_are_compared_in_constant_time():
    """Every comparison of a secret-derived value goes through ``hmac.compare_digest``.

    ``webhook_signature.py`` needs nothing but the standard library: it is
    loaded from its file, without Odoo.
    """
    path = REPO / "integration_base" / "lib" / "webhook_signature.py"
    spec = importlib.util.spec_from_file_location("webhook_signature_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    compared = []
    real_compare_digest = hmac.compare_digest

    def compare_digest(left, right):
        compared.append((left, right))
        return real_compare_digest(left, right)

    body = b'{"ref": "C", "name": "constant"}'
    now = int(time.time())
    good = sign(SECRET, "msg_c", now, body)
    with mock.patch.object(module.hmac, "compare_digest", compare_digest):
        assert module.verify([SECRET], "msg_c", str(now), good, body)
        assert len(compared) == 1
        compared.clear()
        try:
            module.verify([SECRET, OTHER_SECRET], "msg_c", str(now), "v1,AAAA v1,BBBB", body)
        except module.SignatureError:
            pass
        else:
            raise AssertionError("a wrong signature was accepted")
        assert len(compared) == 4, "each candidate is compared with each valid key"
        compared.clear()
        assert module.bearer_token_matches(f"Bearer {TOKEN}", [TOKEN])
        assert not module.bearer_token_matches("Bearer nope", [TOKEN, "other"])
        assert len(compared) == 3
