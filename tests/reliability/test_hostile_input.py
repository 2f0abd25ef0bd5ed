"""Scenario 4: hostile input against the real prefork server, fuzzed from the OpenAPI document and beyond.

Two sources of requests, each signed with the backend's key over the exact
bytes sent, so that every one gets past authentication and reaches the part
of the door it attacks:

* ``schemathesis`` reads the backend's own OpenAPI document
  (``GET /integration/v1/<backend>/openapi.json``) and generates, for every
  webhook endpoint in it (one message, a batch, a message's status), cases
  that fit the contracts and cases that break them;
* ``hypothesis`` strategies send what a schema never describes: malformed
  JSON, other encodings (UTF-16, UTF-32, a BOM, invalid UTF-8, NUL), huge
  and precise numbers, deep nesting, large bodies, odd content types,
  chunked bodies (and raw, broken chunking) and odd headers.

The door must answer every request below 500, store exactly the messages it
answered as accepted (the stored message ids are the ids of the 2xx
answers, no more, no fewer), keep only payloads that are strict JSON valid
against their contract, and still answer its health probe at the end. The
accepted messages are then applied: each done message made one partner.

The Odoo-side tests (``integration_test_connector/tests/test_hostile_input.py``)
send a fixed list of hostile bodies through the test server; this one
generates them, thousands at a time, against the prefork server.
"""

import base64
import hashlib
import hmac
import json
import math
import random
import socket
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import jsonschema
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scenario import Figures, settle, sized
from schemathesis.generation import GenerationMode
from test_dispatcher import SECRET, create_backend
from test_engine import create_partner_contract

SCHEMA_CASES = sized(150, 3000)  # per generation mode (positive, negative)
HOSTILE_CASES = sized(320, 4500)
SENDERS = 4
# A contract with more for schemathesis to chew on than the partner one: formats, bounds, arrays.
READING_SCHEMA = {
    "type": "object",
    "required": ["ref", "name", "seen_at", "quantity"],
    "properties": {
        "ref": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9-]+$"},
        "name": {"type": "string", "maxLength": 200},
        "seen_at": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "contact": {"type": "string", "format": "email"},
        "source": {"type": "string", "format": "uri"},
        "device": {"type": "string", "format": "uuid"},
        "address": {"type": "string", "format": "ipv4"},
        "quantity": {"type": "number", "minimum": -1e9, "maximum": 1e9, "multipleOf": 0.001},
        "count": {"type": "integer", "exclusiveMinimum": 0},
        "lines": {
            "type": "array",
            "maxItems": 20,
            "uniqueItems": True,
            "items": {
                "type": "object",
                "required": ["item"],
                "properties": {"item": {"type": "string"}, "qty": {"type": "number"}},
                "additionalProperties": False,
            },
        },
        "unit": {"enum": ["kg", "pc", None]},
        "extra": {"type": ["object", "null"], "maxProperties": 5},
    },
    "additionalProperties": False,
}
ACCEPTED = (200, 202)
REFUSED = (400, 401, 404, 405, 413, 415, 422, 429)


def sign(secret, webhook_id, timestamp, body):
    """The Standard Webhooks signature of any bytes (the reference library signs text only)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def signed_headers(body, webhook_id=None, content_type="application/json", secret=SECRET):
    """Standard Webhooks headers of ``body`` (bytes), sent now."""
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
    }
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


class Fuzzer:
    """Sends requests, counts them, and keeps what each answer said was stored."""

    def __init__(self, url):
        self.url = url
        self.requests = 0
        self.server_errors = []  # (label, status, answer start)
        self.no_answer = Counter()  # label -> requests the server closed without an answer
        self.statuses = Counter()
        self.by_label = Counter()  # (label, status) -> answers
        self.samples = {}  # (label, status) -> the start of the first such answer
        self.accepted_ids = set()  # message ids the answers said were stored
        self.new_messages = 0  # 202 answers (single) and 202 items (batches)
        self.unexpected = []  # (label, status, answer start): a status the door does not document
        self.unsendable = 0
        self.raw_statuses = Counter()  # (label, status or None) of the raw requests
        self._lock = threading.Lock()
        self._local = threading.local()

    def session(self):
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def send(self, label, method, path, body=b"", headers=None, params=None, chunks=None):
        """One request; ``chunks`` sends the body with ``Transfer-Encoding: chunked``.

        A signed request is signed again now: thousands are generated before
        the first is sent, longer ago than the signature's tolerance.
        """
        if headers and "webhook-signature" in headers:
            timestamp = int(time.time())
            headers = {
                **headers,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(SECRET, headers["webhook-id"], timestamp, body),
            }
        data = body if chunks is None else iter([body[i : i + chunks] for i in range(0, len(body), chunks)])
        try:
            response = self.session().request(
                method, self.url + path, data=data, headers=headers, params=params, timeout=120
            )
        except requests.exceptions.InvalidHeader:
            with self._lock:
                self.unsendable += 1  # requests refuses to send it: nothing reached the server
            return None
        except requests.ConnectionError:
            with self._lock:
                self.requests += 1
                self.no_answer[label] += 1
            return None
        with self._lock:
            self.record(label, method, path, response.status_code, response.content)
        return response

    def record(self, label, method, path, status, content):
        """Count one answer and what it says was stored (under the lock)."""
        self.requests += 1
        self.statuses[status] += 1
        self.by_label[(label, status)] += 1
        self.samples.setdefault((label, status), content[:160])
        if status >= 500:
            self.server_errors.append((label, status, content[:300]))
            return
        if status not in ACCEPTED + REFUSED:
            self.unexpected.append((label, status, content[:300]))
        answer = None
        if path.startswith("/integration/v1/"):
            try:
                answer = json.loads(content)
            except ValueError:
                self.unexpected.append((label, status, content[:300]))
                return
        if status >= 400:
            if answer is not None and not (answer.get("error") and answer.get("message")):
                self.unexpected.append((label, status, content[:300]))
            return
        if method != "POST" or answer is None:
            return
        if path.endswith("/batch"):
            for item in answer["items"]:
                if item["status"] in ACCEPTED:
                    self.accepted_ids.add(item["message_id"])
                    self.new_messages += item["status"] == 202
        else:
            self.accepted_ids.add(answer["message_id"])
            self.new_messages += status == 202

    def raw(self, label, head, body):
        """A raw HTTP/1.1 request, for what a client library will not send; the status or None."""
        address = urlsplit(self.url)
        with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
            sock.sendall(head + body)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while True:
                try:
                    chunk = sock.recv(65536)
                except (TimeoutError, ConnectionResetError):
                    break
                if not chunk:
                    break
                answer += chunk
        # A broken transfer may be refused by werkzeug before the door, or the connection
        # closed without an answer: only a 5xx is a failure here.
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
        self.requests += 1
        self.raw_statuses[(label, status)] += 1
        if status is not None:
            self.statuses[status] += 1
        if status is not None and status >= 500:
            self.server_errors.append((label, status, answer.partition(b"\r\n\r\n")[2][:300]))
        return status


def collect(strategy, count):
    """``count`` examples of ``strategy``, generated by hypothesis (no shrinking: nothing fails here)."""
    examples = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def keep(example):
        examples.append(example)

    keep()
    return examples


# ----------------------------------------------------------------------
# schemathesis: every endpoint of the backend's OpenAPI document
# ----------------------------------------------------------------------


def schema_requests(document, server_url):
    """``(label, method, path, body, headers, params)`` for every generated case, both modes."""
    schema = schemathesis.openapi.from_dict(document)
    found = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for case in collect(schema.as_strategy(generation_mode=mode), SCHEMA_CASES):
            kwargs = case.as_transport_kwargs(base_url=server_url)
            path = kwargs["url"][len(server_url) :]
            if "json" in kwargs:
                body = json.dumps(kwargs["json"]).encode()
            else:
                body = kwargs.get("data") or b""
                body = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
            headers = {
                key: value
                for key, value in (kwargs.get("headers") or {}).items()
                if not key.lower().startswith("webhook-") and key.lower() not in ("content-length", "host")
            }
            content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            headers.update(signed_headers(body, content_type=content_type))
            label = f"schemathesis {mode.value} {case.operation.label}"
            found.append((label, kwargs["method"], path, body, headers, kwargs.get("params")))
    return found


# ----------------------------------------------------------------------
# hypothesis: what no schema describes
# ----------------------------------------------------------------------

FINE = {"ref": "H", "name": "fine"}
texts = st.text(max_size=40)
json_leaves = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
payloads = st.fixed_dictionaries(
    {"ref": texts, "name": texts},
    optional={"extra": json_values, "simulate": st.sampled_from(["slow", "fail_first", "other"])},
)


def _document(payload):
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def malformed_json(draw):
    """Valid documents cut, spliced and garbled; and plain garbage."""
    body = _document(draw(payloads))
    how = draw(st.sampled_from(["cut", "insert", "replace", "garbage", "trailing", "single quotes"]))
    if how == "cut":
        return how, body[: draw(st.integers(0, max(0, len(body) - 1)))]
    if how == "insert":
        at = draw(st.integers(0, len(body)))
        return how, body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]
    if how == "replace":
        at = draw(st.integers(0, len(body) - 1))
        return how, body[:at] + draw(
            st.sampled_from([b"'", b"\\", b"\x00", b",", b":", b"]", b"}", b"\n"])
        ) + body[at + 1 :]
    if how == "garbage":
        return how, draw(st.binary(max_size=200))
    if how == "trailing":
        return how, body + draw(st.sampled_from([b" {}", b",", b"x", b"\x00", b"]"]))
    return how, body.replace(b'"', b"'")


@st.composite
def encodings(draw):
    """The same payload in encodings JSON over HTTP does not allow, or with unstorable characters."""
    payload = draw(payloads)
    how = draw(
        st.sampled_from(
            [
                "utf-16",
                "utf-16-le",
                "utf-16-be",
                "utf-32",
                "bom",
                "latin-1",
                "invalid utf-8",
                "nul",
                "surrogate",
            ]
        )
    )
    text = json.dumps(payload, ensure_ascii=False)
    if how in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        return how, text.encode(how, "surrogatepass")
    if how == "bom":
        return how, b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if how == "latin-1":
        return how, json.dumps({**payload, "name": "Müller é ø"}, ensure_ascii=False).encode(
            "latin-1", "replace"
        )
    if how == "invalid utf-8":
        raw = draw(
            st.sampled_from(
                [
                    b"\xff",
                    b"\xc3\x28",
                    b"\xe2\x82",
                    b"\xf0\x28\x8c\x28",
                    b"\xc0\xaf",
                    b"\xed\xa0\x80",
                    b"\xf8\x88\x80\x80\x80",
                ]
            )
        )
        return how, b'{"ref": "U", "name": "' + draw(st.text(max_size=5)).encode() + raw + b'"}'
    if how == "nul":
        raw = draw(st.sampled_from([b"\x00", b"\\u0000"]))
        return how, b'{"ref": "N", "name": "a' + raw + b'"}'
    surrogate = draw(st.sampled_from(["\\ud800", "\\udfff", "\\udc00\\ud800", "x\\ud83d", "\\ud83dx"]))
    where = draw(st.booleans())
    return how, (
        f'{{"ref": "S", "name": "{surrogate}"}}'
        if where
        else f'{{"ref": "S", "name": "x", "{surrogate}": 1}}'
    ).encode()


@st.composite
def numbers(draw):
    """Integers and decimals of every size and precision, exponents near and past float's range."""
    how = draw(st.sampled_from(["integer", "digits", "decimal", "exponent", "constant", "negative zero"]))
    if how == "integer":
        literal = str(draw(st.integers(min_value=-(10**60), max_value=10**60)))
    elif how == "digits":
        literal = draw(st.sampled_from(["", "-"])) + "9" * draw(st.integers(1, 6000))
    elif how == "decimal":
        literal = f"{draw(st.integers(-(10**20), 10**20))}.{'1' * draw(st.integers(1, 80))}"
    elif how == "exponent":
        literal = f"{draw(st.integers(-9, 9))}.{draw(st.integers(0, 999))}e{draw(st.integers(-400, 400))}"
    elif how == "constant":
        literal = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e99999", "0x10", "+1", ".5", "01"]))
    else:
        literal = "-0.0"
    return how, b'{"ref": "D", "name": "n", "extra": {"n": ' + literal.encode() + b"}}"


@st.composite
def nesting(draw):
    """Arrays and objects nested around the door's depth limit and far past it."""
    depth = draw(st.one_of(st.integers(25, 40), st.integers(40, 20000)))
    kind = draw(st.sampled_from(["arrays", "objects", "mixed", "unclosed"]))
    if kind == "arrays":
        inner = b"[" * depth + b"]" * depth
    elif kind == "objects":
        inner = b'{"a":' * depth + b"1" + b"}" * depth
    elif kind == "mixed":
        inner = b'[{"a":' * (depth // 2) + b"1" + b"}]" * (depth // 2)
    else:
        inner = b"[" * depth
    return f"{kind} {'past' if depth > 32 else 'near'}", b'{"ref": "D", "name": "x", "extra": ' + inner + b"}"


@st.composite
def sizes(draw):
    """Long strings and keys, many keys, bodies around the backend's 1 MiB limit."""
    how = draw(st.sampled_from(["long key", "long string", "many keys", "near limit", "past limit"]))
    if how == "long key":
        return how, _document({**FINE, "extra": {"k" * draw(st.integers(200, 5000)): 1}})
    if how == "long string":
        return how, _document({**FINE, "name": "n" * draw(st.integers(1000, 200_000))})
    if how == "many keys":
        return how, _document({**FINE, "extra": {f"k{i}": i for i in range(draw(st.integers(100, 20000)))}})
    limit = 1024 * 1024
    size = (
        draw(st.integers(limit - 300, limit))
        if how == "near limit"
        else draw(st.integers(limit + 1, limit + 4096))
    )
    # in strings of 100,000 characters: the door refuses a string longer than 1,000,000
    padding = size - len(_document({**FINE, "extra": [""] * 11}))
    return how, _document({**FINE, "extra": ["p" * 100_000] * 10 + ["p" * (padding - 1_000_000)]})


CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json;charset=utf-16",
    "application/json; boundary=x; charset=latin-1",
    "application/json;",
    "application/x-ndjson",
    "application/problem+json",
    "text/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=abc",
    "application/octet-stream",
    "*/*",
    "",
    None,
]


@st.composite
def content_types(draw):
    content_type = draw(
        st.sampled_from(CONTENT_TYPES)
        | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
    )
    return f"content type {content_type!r}"[:40], _document(draw(payloads)), content_type


HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=300)


@st.composite
def odd_headers(draw):
    """Keys, correlation ids and other headers of any shape; each request still signed."""
    how = draw(
        st.sampled_from(
            ["webhook-id", "correlation id", "idempotency-key", "other", "content-encoding", "expect"]
        )
    )
    extra, webhook_id = {}, None
    if how == "webhook-id":
        webhook_id = draw(HEADER_TEXT)
    elif how == "correlation id":
        extra["X-Correlation-Id"] = draw(HEADER_TEXT)
    elif how == "idempotency-key":
        extra["Idempotency-Key"] = draw(HEADER_TEXT)
    elif how == "other":
        extra[
            draw(
                st.sampled_from(
                    ["X-Forwarded-For", "Cookie", "Accept", "Accept-Charset", "Origin", "X-Odoo-Database"]
                )
            )
        ] = draw(HEADER_TEXT)
    elif how == "content-encoding":
        extra["Content-Encoding"] = draw(st.sampled_from(["gzip", "deflate", "br", "identity", "chunked"]))
    else:
        extra["Expect"] = "100-continue"
    return how, _document(draw(payloads)), webhook_id, extra


def hostile_requests(single, batch):
    """``(label, method, path, body, headers, params, chunks)`` drawn from every strategy."""
    share = HOSTILE_CASES // 8
    found = []

    def post(
        label, body, path=None, content_type="application/json", webhook_id=None, extra=None, chunks=None
    ):
        path = path or random.choice((single, batch))
        if path == batch and content_type == "application/json" and not body.startswith(b"["):
            body = b"[" + body + b"]"
        headers = {**signed_headers(body, webhook_id, content_type), **(extra or {})}
        found.append((label, "POST", path, body, headers, None, chunks))

    for strategy in (malformed_json(), encodings(), numbers(), nesting()):
        for how, body in collect(strategy, share):
            post(how, body)
    for how, body in collect(sizes(), max(10, share // 10)):  # each is up to 1 MiB: fewer
        post(how, body)
    for label, body, content_type in collect(content_types(), share):
        post(label, body, content_type=content_type)
    for how, body, webhook_id, extra in collect(odd_headers(), share):
        post(how, body, webhook_id=webhook_id, extra=extra)
    for body, chunk_size in collect(st.tuples(payloads.map(_document), st.integers(1, 64)), share):
        post("chunked", body, chunks=chunk_size)
    for payload in collect(payloads, HOSTILE_CASES - len(found)):
        post("well-formed", _document(payload))
    return found


def raw_requests(url, single):
    """Broken transfers and lying lengths, over a socket: ``(label, head, body)``."""
    host = urlsplit(url).netloc
    body = json.dumps({"ref": "R", "name": "raw"}).encode()
    headers = "".join(f"{k}: {v}\r\n" for k, v in signed_headers(body).items())
    head = f"POST {single} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n"
    cases = [
        (
            "chunked with extensions",
            "Transfer-Encoding: chunked\r\n",
            hex(len(body))[2:].encode() + b";x=y\r\n" + body + b"\r\n0\r\n\r\n",
        ),
        (
            "chunked with trailer",
            "Transfer-Encoding: chunked\r\n",
            hex(len(body))[2:].encode() + b"\r\n" + body + b"\r\n0\r\nX-T: 1\r\n\r\n",
        ),
        ("broken chunk size", "Transfer-Encoding: chunked\r\n", b"zz\r\n" + body + b"\r\n0\r\n\r\n"),
        ("chunk longer than said", "Transfer-Encoding: chunked\r\n", b"2\r\n" + body + b"\r\n0\r\n\r\n"),
        ("missing final chunk", "Transfer-Encoding: chunked\r\n", b"5\r\n" + body[:5] + b"\r\n"),
        ("negative chunk size", "Transfer-Encoding: chunked\r\n", b"-5\r\n" + body + b"\r\n0\r\n\r\n"),
        (
            "huge chunk size",
            "Transfer-Encoding: chunked\r\n",
            b"ffffffffffffffffff\r\n" + body + b"\r\n0\r\n\r\n",
        ),
        ("length and chunked", f"Content-Length: {len(body)}\r\nTransfer-Encoding: chunked\r\n", body),
        ("length too short", f"Content-Length: {len(body) - 5}\r\n", body),
        ("length not a number", "Content-Length: abc\r\n", body),
        ("negative length", "Content-Length: -1\r\n", body),
        ("two lengths", f"Content-Length: {len(body)}\r\nContent-Length: 2\r\n", body),
        ("past the request limit", "Content-Length: 999999999\r\n", body),
    ]
    return [(label, (head + extra + "\r\n").encode(), payload) for label, extra, payload in cases]


# ----------------------------------------------------------------------
# What was stored
# ----------------------------------------------------------------------


def strict_json(text):
    """The stored payload parsed, or the reason it is not strict JSON (checked without the engine's code)."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    value = json.loads(text, parse_constant=refuse)
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
        elif isinstance(current, str):
            if "\x00" in current:
                raise ValueError("a NUL character")
            current.encode("utf-8")  # a lone surrogate raises
        elif isinstance(current, float) and not math.isfinite(current):
            raise ValueError("a non-finite number")
    return value


def stored_messages(database, backend_id):
    with database.cursor() as cr:
        cr.execute(
            "SELECT m.id, m.flow_code, m.payload, f.schema FROM integration_message m "
            "JOIN integration_flow f ON f.id = m.flow_id WHERE m.backend_id = %s",
            [backend_id],
        )
        return cr.fetchall()


def partner_count(database):
    with database.cursor() as cr:
        cr.execute("SELECT count(*) FROM res_partner")
        return cr.fetchone()[0]


def test_fuzzed_requests_never_fail_the_server_nor_store_what_they_were_refused(node, odoo, database):
    backend_id, code = create_backend(odoo, "rel-hostile", retry_backoff_seconds=1)
    create_partner_contract(
        odoo, backend_id, name="Reading", code="test.reading", schema=json.dumps(READING_SCHEMA)
    )
    single, batch = f"/integration/v1/{code}/test.partner", f"/integration/v1/{code}/test.partner/batch"
    partners_before = partner_count(database)
    fuzzer = Fuzzer(node.url)
    started = time.monotonic()

    document = fuzzer.send(
        "openapi",
        "GET",
        f"/integration/v1/{code}/openapi.json",
        headers=signed_headers(b"", content_type=None),
    ).json()
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    assert len(operations) == 5, operations  # two contracts, one and many messages each; the status
    fuzzed = schema_requests(document, node.url)
    fuzzed_operations = {label.split(" ", 2)[2] for label, *_rest in fuzzed}
    hostile = hostile_requests(single, batch)
    generated = round(time.monotonic() - started)

    with ThreadPoolExecutor(SENDERS) as senders:
        list(
            senders.map(
                lambda case: fuzzer.send(case[0], case[1], case[2], case[3], case[4], case[5]),
                fuzzed,
            )
        )
        list(senders.map(lambda case: fuzzer.send(*case), hostile))
    for label, head, body in raw_requests(node.url, single):
        fuzzer.raw(label, head, body)
    fuzzing_seconds = round(time.monotonic() - started) - generated

    stored = stored_messages(database, backend_id)
    states = settle(database, [backend_id], len(stored))
    settled = sum(states.get(state, 0) for state in ("done", "exception", "dead", "cancelled"))
    health = requests.get(f"{node.url}/integration/v1/health", timeout=60)
    invalid = []
    for message_id, flow_code, payload, schema in stored:
        try:
            jsonschema.validate(
                strict_json(payload), json.loads(schema), format_checker=jsonschema.FormatChecker()
            )
        except (ValueError, jsonschema.ValidationError) as error:
            invalid.append((message_id, flow_code, str(error)[:200]))
    stored_ids = {message_id for message_id, *_rest in stored}
    partners = partner_count(database) - partners_before
    with database.cursor() as cr:
        cr.execute(
            "SELECT error_kind, left(error_message, 120), count(*) FROM integration_message "
            "WHERE backend_id = %s AND state <> 'done' GROUP BY 1, 2",
            [backend_id],
        )
        unsettled_reasons = cr.fetchall()

    figures = Figures(
        "hostile input",
        sent=fuzzer.requests,
        accepted=len(fuzzer.accepted_ids),
        done=states.get("done", 0),
        exception=states.get("exception", 0) + states.get("dead", 0),
        lost=len(fuzzer.accepted_ids - stored_ids) + len(stored) - settled,
        applied_twice=max(0, partners - states.get("done", 0)),
        requests=fuzzer.requests,
        server_errors=len(fuzzer.server_errors),
        notes={
            "schemathesis cases": len(fuzzed),
            "hypothesis cases": len(hostile),
            "statuses": dict(sorted(fuzzer.statuses.items())),
            "no answer": sum(fuzzer.no_answer.values()),
            "unsendable": fuzzer.unsendable,
            "raw": {f"{label} {status}": n for (label, status), n in sorted(fuzzer.raw_statuses.items())},
            "seconds generating": generated,
            "seconds fuzzing": fuzzing_seconds,
        },
    )
    figures.check()
    assert not fuzzer.server_errors, fuzzer.server_errors[:5]
    assert fuzzed_operations == operations, "schemathesis did not reach every endpoint"
    assert fuzzer.requests >= sized(500, 10_000)
    assert stored_ids == fuzzer.accepted_ids, (
        f"stored without a 2xx: {sorted(stored_ids - fuzzer.accepted_ids)[:10]}, "
        f"answered 2xx but not stored: {sorted(fuzzer.accepted_ids - stored_ids)[:10]}"
    )
    assert len(stored) == fuzzer.new_messages, "each 202 stored one message, each 200 none"
    assert not invalid, invalid[:5]
    assert not fuzzer.unexpected, fuzzer.unexpected[:5]
    assert not fuzzer.no_answer, fuzzer.no_answer
    assert partners == states.get("done", 0), "each done message made one partner"
    assert states.get("dead", 0) == 0 and all(
        kind == "business" for kind, _reason, _n in unsettled_reasons
    ), unsettled_reasons
    assert health.status_code == 200, health.text
