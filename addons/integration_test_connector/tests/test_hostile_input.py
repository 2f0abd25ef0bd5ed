# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Hundreds of malformed requests against the real webhooks: never a 5xx, never a half-write.

Every body is signed with the backend's real key, so that each request gets
past authentication and reaches the part of the door it attacks. Each request
is answered with a JSON refusal, and a refused request has stored nothing.
"""

import json
import socket
import time
import uuid
from datetime import UTC, datetime

from odoo.tests import HttpCase, tagged
from odoo.tests.common import HOST, TEST_CURSOR_COOKIE_NAME

from odoo.addons.integration_base.lib.webhook_signature import generate_secret, signature

from .common import PARTNER_SCHEMA

SINGLE = "/integration/v1/hostile/test.partner"
BATCH = "/integration/v1/hostile/test.partner/batch"


def hostile_bodies():
    """``(class, body bytes)`` pairs: each is refused by the door, none is storable."""
    return _unstorable_text() + _beyond_limits() + _not_strict_json() + _against_the_contract()


def _unstorable_text():
    """Strings PostgreSQL cannot hold, in values and keys."""
    cases = []
    for position in range(0, 60, 2):
        cases.append(("nul escape", json.dumps({"ref": "N", "name": "a" * position + "\u0000"}).encode()))
        cases.append(("nul byte", b'{"ref": "N", "name": "' + b"a" * position + b'\x00"}'))
        cases.append(
            ("nul in key", json.dumps({"ref": "N", "name": "x", "k" * position + "\u0000": 1}).encode())
        )
    for surrogate in ("\\ud800", "\\udfff", "\\udc00\\ud800", "x\\ud83d", "\\ud83dx", "\\udbff"):
        cases.append(("lone surrogate", f'{{"ref": "S", "name": "{surrogate}"}}'.encode()))
        cases.append(("lone surrogate in key", f'{{"ref": "S", "name": "x", "{surrogate}": 1}}'.encode()))
    return cases


def _beyond_limits():
    """Keys, nesting and numbers past the door's limits."""
    cases = []
    for length in (257, 300, 1000, 4000, 8000):
        cases.append(("long key", json.dumps({"ref": "K", "name": "x", "k" * length: 1}).encode()))
        cases.append(
            ("long nested key", json.dumps({"ref": "K", "name": "x", "a": {"k" * length: 1}}).encode())
        )
    for depth in (33, 40, 100, 1000, 5000, 50000):
        cases.append(("deep arrays", b'{"ref": "D", "name": "x", "a": ' + b"[" * depth + b"]" * depth + b"}"))
        cases.append(
            (
                "deep objects",
                b'{"ref": "D", "name": "x", "a": ' + b'{"a":' * depth + b"1" + b"}" * depth + b"}",
            )
        )
        cases.append(("unclosed nesting", b"[" * depth))
    for digits in (41, 100, 1000, 4300, 5000, 20000):
        cases.append(("huge integer", b'{"ref": "I", "name": "x", "n": ' + b"9" * digits + b"}"))
        cases.append(("huge negative", b'{"ref": "I", "name": "x", "n": -' + b"9" * digits + b"}"))
        cases.append(("long float", b'{"ref": "I", "name": "x", "n": 0.' + b"1" * digits + b"}"))
    for literal in (b"1e400", b"-1e400", b"1e999999"):
        cases.append(("float overflow", b'{"ref": "F", "name": "x", "n": ' + literal + b"}"))
    return cases


def _not_strict_json():
    """What Python's json accepts or chokes on, and JSON does not allow."""
    cases = []
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        cases.append(("non-finite", b'{"ref": "F", "name": "x", "n": ' + constant + b"}"))
        cases.append(("non-finite nested", b'{"ref": "F", "name": "x", "n": [1, {"m": ' + constant + b"}]}"))
        cases.append(("non-finite alone", constant))
    for raw in (b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xf0\x28\x8c\x28", b"\xc0\xaf", b"\xed\xa0\x80"):
        cases.append(("invalid utf-8", b'{"ref": "U", "name": "' + raw + b'"}'))
    cases.append(("byte order mark", b'\xef\xbb\xbf{"ref": "B", "name": "x"}'))
    valid = json.dumps({"ref": "T", "name": "truncated", "country": "NL"}).encode()
    for end in range(1, len(valid), 3):
        cases.append(("truncated", valid[:end]))
    for garbage in (b"", b" ", b"{", b"}", b"{'ref': 'x'}", b"{ref: x}", b'{"ref": "x",}', b"[1,]", b"\n\n"):
        cases.append(("not json", garbage))
    cases.append(("trailing data", valid + b" {}"))
    return cases


def _against_the_contract():
    """Well-formed JSON that breaks the contract."""
    cases = []
    for bad_time in (
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-02-30T10:00:00Z",
        "10:00",
        "2026-01-01 10:00",
    ):
        cases.append(
            ("date-time format", json.dumps({"ref": "DT", "name": "x", "seen_at": bad_time}).encode())
        )
    for top in (b"[]", b'"text"', b"1", b"null", b"true", b'[{"ref": "A", "name": "x"}]'):
        cases.append(("not an object", top))
    for value in ([], {}, 1, None, True):
        cases.append(("wrong type", json.dumps({"ref": value, "name": "x"}).encode()))
    cases.append(("long event key", json.dumps({"ref": "E", "name": "x", "event_id": "e" * 300}).encode()))
    return cases


@tagged("post_install", "-at_install")
class TestHostileInput(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        warehouse = cls.env["stock.warehouse"].search([], limit=1)
        cls.backend = cls.env["integration.backend"].create(
            {"name": "Hostile", "code": "hostile", "warehouse_id": warehouse.id, "rate_limit_per_minute": 0}
        )
        cls.secret = generate_secret()
        cls.env["integration.credential"].create(
            {"backend_id": cls.backend.id, "kind": "hmac", "secret": cls.secret}
        )
        cls.backend.action_activate()
        schema = {
            **PARTNER_SCHEMA,
            "properties": {
                **PARTNER_SCHEMA["properties"],
                "seen_at": {"type": "string", "format": "date-time"},
                "event_id": {"type": "string"},
                "n": {},
                "a": {},
            },
        }
        cls.flow = cls.env["integration.flow"].create(
            {
                "name": "Partner",
                "code": "test.partner",
                "backend_id": cls.backend.id,
                "schema": json.dumps(schema),
                "processor": "integration.processor.test.partner",
                "idempotency_key_pointer": "/event_id",
            }
        )
        cls.flow.action_activate()

    def _stored(self):
        return self.env["integration.message"].search_count([("backend_id", "=", self.backend.id)])

    def _signed_headers(self, body, msg_id=None, content_type="application/json"):
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        sent_at = datetime.now(tz=UTC)
        return {
            "Content-Type": content_type,
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            # our signer, checked against the reference library in test_webhook, signs any bytes
            "webhook-signature": signature(self.secret, msg_id, int(sent_at.timestamp()), body),
        }

    def assertRefusedAndNothingStored(self, label, send):
        before = self._stored()
        response = send()
        status = response.status_code
        self.assertLess(status, 500, f"{label}: {status} {response.text[:300]}")
        self.assertEqual(response.headers.get("Content-Type"), "application/json", label)
        body = response.json()
        if status >= 400:
            self.assertTrue(body.get("error") and body.get("message"), f"{label}: {body}")
            self.assertEqual(self._stored(), before, f"{label}: answered {status} but stored something")
        return status, body

    def test_malformed_bodies_are_refused_whole(self):
        cases = hostile_bodies()
        self.assertGreater(len(cases), 200)
        statuses = {}
        for label, body in cases:
            for path in (SINGLE, BATCH):
                payload = body if path == SINGLE else b"[" + body + b"]"
                status, answer = self.assertRefusedAndNothingStored(
                    f"{label} {path}",
                    lambda path=path, payload=payload: self.url_open(
                        path, data=payload, headers=self._signed_headers(payload), method="POST"
                    ),
                )
                if status == 200:  # a batch answered item by item: its item was refused
                    self.assertEqual((answer["accepted"], answer["refused"]), (0, 1), f"{label}: {answer}")
                else:
                    self.assertIn(status, (400, 413, 422), f"{label} {path}: {answer}")
                statuses.setdefault(label, set()).add(status)
        self.assertEqual(self._stored(), 0)
        self.assertEqual(statuses["date-time format"], {422, 200})
        self.assertEqual(statuses["non-finite"], {400})

    def test_an_unstorable_item_refuses_the_whole_batch(self):
        items = [{"ref": "OK1", "name": "fine"}, {"ref": "OK2", "name": "fine"}]
        body = json.dumps(items).encode()[:-1] + b', {"ref": "BAD", "name": "\\u0000"}]'
        self.assertRefusedAndNothingStored(
            "batch", lambda: self.url_open(BATCH, data=body, headers=self._signed_headers(body))
        )
        ndjson = b'{"ref": "ND1", "name": "fine"}\n{"ref": "ND2", "name": "\\ud800"}\n'
        headers = self._signed_headers(ndjson, content_type="application/x-ndjson")
        status, answer = self.assertRefusedAndNothingStored(
            "ndjson", lambda: self.url_open(BATCH, data=ndjson, headers=headers)
        )
        self.assertEqual((status, answer["error"]), (400, "malformed_json"))
        self.assertIn("Line 2", answer["message"])

    def test_headers_paths_and_methods(self):
        body = json.dumps({"ref": "HP", "name": "x"}).encode()
        signed = self._signed_headers
        requests = [
            ("long webhook-id", SINGLE, signed(body, msg_id="m" * 300), 400),
            ("8000-char webhook-id", SINGLE, signed(body, msg_id="m" * 8000), 400),
            ("webhook-id with '#'", SINGLE, signed(body, msg_id="a#b"), 400),
            ("webhook-id with a space", SINGLE, signed(body, msg_id="a b"), 400),
            ("long correlation id", SINGLE, {**signed(body), "X-Correlation-Id": "c" * 300}, 400),
            ("unsigned", SINGLE, {"Content-Type": "application/json"}, 401),
            ("wrong key", SINGLE, {**signed(body), "webhook-signature": "v1,AAAA"}, 401),
            ("stale timestamp", SINGLE, {**signed(body), "webhook-timestamp": "1"}, 401),
            ("timestamp not a number", SINGLE, {**signed(body), "webhook-timestamp": "soon"}, 401),
            ("unknown backend", "/integration/v1/nobody/test.partner", signed(body), 401),
            ("NUL in backend code", "/integration/v1/host%00ile/test.partner", signed(body), 401),
            ("long backend code", "/integration/v1/" + "b" * 5000 + "/test.partner", signed(body), 401),
            ("NUL in contract code", "/integration/v1/hostile/test%00partner", signed(body), 404),
            ("long contract code", "/integration/v1/hostile/" + "c" * 5000, signed(body), 404),
            ("text/plain", SINGLE, signed(body, content_type="text/plain"), 415),
            ("form", SINGLE, signed(body, content_type="application/x-www-form-urlencoded"), 415),
            ("ndjson to single", SINGLE, signed(body, content_type="application/x-ndjson"), 415),
        ]
        for label, path, headers, expected in requests:
            status, _body = self.assertRefusedAndNothingStored(
                label, lambda path=path, headers=headers: self.url_open(path, data=body, headers=headers)
            )
            self.assertEqual(status, expected, label)
        for method in ("PUT", "DELETE", "PATCH"):
            response = self.opener.request(method, self.base_url() + SINGLE, data=body, timeout=10)
            self.assertEqual(response.status_code, 405, method)
        status, _answer = self.assertRefusedAndNothingStored(
            "huge message id",
            lambda: self.url_open(
                "/integration/v1/hostile/messages/99999999999999999999", headers=signed(b"", msg_id="get")
            ),
        )
        self.assertIn(status, (401, 404))
        too_many = json.dumps([{"ref": f"M{i}", "name": "x"} for i in range(1001)]).encode()
        status, _answer = self.assertRefusedAndNothingStored(
            "1001 items", lambda: self.url_open(BATCH, data=too_many, headers=signed(too_many))
        )
        self.assertEqual(status, 413)

    def test_broken_transfer_and_lying_lengths(self):
        """Raw HTTP, for what a well-behaved client library will not send."""
        before = self._stored()
        raw_requests = {
            "broken chunk size": b"zz\r\n{}\r\n0\r\n\r\n",
            "chunk longer than said": b'2\r\n{"ref": "C"}\r\n0\r\n\r\n',
            "missing final chunk": b'5\r\n{"a":\r\n',
        }
        statuses = {}
        for label, chunks in raw_requests.items():
            statuses[label] = self._raw_status(self._raw_head("Transfer-Encoding: chunked"), chunks)
            self.assertTrue(statuses[label] is None or statuses[label] < 500, f"{label}: {statuses[label]}")
        self.assertEqual(statuses["broken chunk size"], 400)
        lying = self._raw_status(self._raw_head("Content-Length: 999999999"), b"{}")
        self.assertEqual(lying, 413, self.last_raw_answer)
        self.assertEqual(self._stored(), before)

    def _raw_head(self, length_header):
        return (
            f"POST {SINGLE} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"{length_header}\r\nConnection: close\r\n"
        ).encode()

    def _raw_status(self, head, body):
        """The status of a raw HTTP request (``head`` lines, then ``body``), or None without an answer.

        It carries the cookie that the test server asks of this test's requests, as ``url_open``'s do.
        """
        with self.allow_requests(), socket.create_connection((HOST, self.http_port()), timeout=10) as sock:
            cookie = f"Cookie: {TEST_CURSOR_COOKIE_NAME}={self.opener.cookies[TEST_CURSOR_COOKIE_NAME]}"
            sock.sendall(head + cookie.encode() + b"\r\n\r\n" + body)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    break
                if not chunk:
                    break
                answer += chunk
        if not answer.startswith(b"HTTP/"):
            return None
        self.last_raw_answer = answer[:500]
        return int(answer.split(b" ", 2)[1])
