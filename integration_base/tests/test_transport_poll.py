# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Polling a paged JSON API and OAuth 2.0 client credentials, against a real server on loopback.

:class:`PartnerApi` stands for a partner: a feed read page by page with a
cursor, a token endpoint issuing client-credentials tokens, and a webhook
receiver, all checking the bearer token the way a real API does.
"""

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote_plus, urlsplit

from odoo.tests import BaseCase, tagged

from odoo.addons.integration_base.lib import oauth2, strict_json
from odoo.addons.integration_base.lib.transports import DELIVERED, REFUSED, RETRY, Outgoing, http, poll
from odoo.addons.integration_base.lib.transports.base import Source, TransportError
from odoo.addons.integration_base.tests.common import LocalPartnerMixin
from odoo.addons.integration_base.tests.partner_server import PartnerServer

CLIENT_ID = "plant-7"
# Characters that RFC 6749 wants form-encoded before they go into HTTP Basic.
CLIENT_SECRET = "s3cr&t/with spaces+plus"
STATIC_TOKEN = "static-bearer-123"


def feed_answer(page, next_cursor, has_more):
    answer = {"items": page, "has_more": has_more}
    if next_cursor is not None:
        answer["next_cursor"] = next_cursor
    return answer


class PartnerApi(PartnerServer):
    """``GET /feed`` pages ``items`` by offset, ``POST /token`` issues tokens, ``POST /hooks`` takes posts.

    A page's cursor is the offset after its last item; an empty page has none.
    ``broken`` maps a cursor to a ``(status, body)`` answered instead of its
    page; ``token_answer`` likewise replaces the token endpoint's answers.
    Tokens are accepted until :meth:`revoke_tokens`.
    """

    def __init__(self, items=(), page_size=2, expires_in=3600, render=feed_answer, cursor_param="cursor"):
        super().__init__()
        self.items = list(items)
        self.page_size = page_size
        self.expires_in = expires_in
        self.render = render
        self.cursor_param = cursor_param
        self.broken = {}
        self.token_answer = None
        self.token_delay = 0.0
        self.accept_tokens = True
        self.feed_requests = []
        self.token_requests = []
        self.deliveries = []
        self._valid_tokens = {STATIC_TOKEN}
        self._issued = 0

    @property
    def base_url(self):
        return self.url.removesuffix("/hooks")

    def revoke_tokens(self):
        with self._lock:
            self._valid_tokens = {STATIC_TOKEN}

    def _authorized(self, headers):
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            return self.accept_tokens and scheme == "Bearer" and token in self._valid_tokens

    def _feed(self, query, headers):
        self.feed_requests.append((query, headers))
        if not self._authorized(headers):
            return 401, json.dumps({"error": "invalid_token"})
        cursor = query.get(self.cursor_param, [None])[0]
        if cursor in self.broken:
            return self.broken[cursor]
        offset = int(cursor or 0)
        size = int(query.get("limit", [self.page_size])[0])
        page = self.items[offset : offset + size]
        next_cursor = str(offset + len(page)) if page else None
        return 200, json.dumps(self.render(page, next_cursor, offset + len(page) < len(self.items)))

    def _token(self, form, headers):
        self.token_requests.append((form, headers))
        time.sleep(self.token_delay)
        if self.token_answer:
            return self.token_answer
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        if scheme == "Basic":
            user, _, password = base64.b64decode(encoded).decode().partition(":")
            client_id, client_secret = unquote_plus(user), unquote_plus(password)
        if form.get("grant_type") != "client_credentials":
            return 400, json.dumps({"error": "unsupported_grant_type"})
        if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
            # Careless endpoints echo what they got: the client must not pass it on.
            description = f"Client authentication failed (got secret {client_secret})"
            return 401, json.dumps({"error": "invalid_client", "error_description": description})
        with self._lock:
            self._issued += 1
            token = f"tok-{self._issued}"
            self._valid_tokens.add(token)
        return 200, json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in})

    def _hooks(self, body, headers):
        if not self._authorized(headers):
            return 401, json.dumps({"error": "invalid_token"})
        self.deliveries.append((body, headers))
        return 200, json.dumps({"received": True})

    def _handler_class(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                self._answer(*api._feed(parse_qs(url.query), self._headers()))

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/token":
                    form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
                    self._answer(*api._token(form, self._headers()))
                else:
                    self._answer(*api._hooks(body, self._headers()))

            def _headers(self):
                return {name.lower(): value for name, value in self.headers.items()}

            def _answer(self, status, text):
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        return Handler


def events(count, start=1):
    return [{"id": f"ev-{number}", "qty": number} for number in range(start, start + count)]


def closed_port_url(path):
    """A loopback URL where nothing listens: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


class ApiCase(LocalPartnerMixin, BaseCase):
    def oauth(self, api, **extra):
        return {"token_url": f"{api.base_url}/token", "client_id": CLIENT_ID, "scope": "feed.read", **extra}

    def bearer_source(self, api, **options):
        return Source(url=f"{api.base_url}/feed", options=options, secrets={"token": STATIC_TOKEN})

    def oauth_source(self, api, **options):
        return Source(
            url=f"{api.base_url}/feed",
            options={"oauth": self.oauth(api), **options},
            secrets={"client_secret": CLIENT_SECRET},
            read_timeout=5.0,
        )

    def walk(self, source, cursor=None):
        """Fetch pages as the engine does: store the items, then the cursor; the keys stored, the cursor."""
        stored = []
        while True:
            page = poll.fetch(source, cursor)
            stored += [item.key for item in page.items]
            cursor = page.cursor
            if not page.more:
                return stored, cursor


@tagged("post_install", "-at_install")
class TestPollingTransport(ApiCase):
    def test_three_pages_walked_with_the_cursor(self):
        with PartnerApi(events(6)) as api:
            source = self.bearer_source(
                api, id_pointer="/id", more_pointer="/has_more", page_size_param="limit", page_size=2
            )
            keys, cursor = self.walk(source)
            self.assertEqual(keys, [f"ev-{number}" for number in range(1, 7)])
            self.assertEqual(cursor, "6")
            self.assertEqual(
                [query for query, _headers in api.feed_requests],
                [{"limit": ["2"]}, {"cursor": ["2"], "limit": ["2"]}, {"cursor": ["4"], "limit": ["2"]}],
            )
            self.assertEqual(api.feed_requests[0][1]["authorization"], f"Bearer {STATIC_TOKEN}")

            first = poll.fetch(source)
            self.assertEqual(first.items[0].body, b'{"id":"ev-1","qty":1}')
            self.assertEqual(first.items[0].content_type, "application/json")
            self.assertTrue(first.more)

            # The cursor is a watermark: the next poll gets what came since, and only that.
            api.items += events(2, start=7)
            self.assertEqual(self.walk(source, cursor), (["ev-7", "ev-8"], "8"))

    def test_an_answer_without_next_cursor_keeps_the_cursor(self):
        with PartnerApi(events(3)) as api:
            source = self.bearer_source(api, id_pointer="/id")
            keys, cursor = self.walk(source)
            self.assertEqual(keys, ["ev-1", "ev-2", "ev-3"])
            # Pages 1 and 2, then an empty page without a cursor: the last one stays.
            self.assertEqual(len(api.feed_requests), 3)
            self.assertEqual(cursor, "3")
            empty = poll.fetch(source, "3")
            self.assertEqual((empty.items, empty.cursor, empty.more), ([], "3", False))

    def test_a_failure_on_page_two_leaves_the_cursor_and_the_refetch_gives_the_same_keys(self):
        with PartnerApi(events(6)) as api:
            source = self.bearer_source(api, id_pointer="/id")
            stored, cursor = [], None
            page = poll.fetch(source, cursor)
            stored += [item.key for item in page.items]
            cursor = page.cursor
            self.assertEqual(cursor, "2")

            api.broken["2"] = (503, json.dumps({"error": "maintenance", "echo": STATIC_TOKEN}))
            with self.assertRaises(TransportError) as caught:
                page = poll.fetch(source, cursor)
            message = str(caught.exception)
            self.assertIn("answered 503", message)
            self.assertIn("maintenance", message)
            self.assertNotIn(STATIC_TOKEN, message)
            self.assertEqual(cursor, "2")  # nothing was stored, so the cursor did not move

            del api.broken["2"]
            retried = poll.fetch(source, cursor)
            again = poll.fetch(source, cursor)
            self.assertEqual([item.key for item in retried.items], ["ev-3", "ev-4"])
            self.assertEqual([item.key for item in again.items], ["ev-3", "ev-4"])
            self.assertEqual(retried.cursor, "4")

    def test_answers_that_are_not_a_page_are_errors_in_words(self):
        with PartnerApi(events(2)) as api:
            source = self.bearer_source(api, id_pointer="/id")
            api.broken["1"] = (200, "<html>" + "maintenance page " * 500 + "</html>")
            with self.assertRaises(TransportError) as caught:
                poll.fetch(source, "1")
            self.assertIn("not JSON", str(caught.exception))
            self.assertIn("<html>maintenance page", str(caught.exception))
            self.assertLess(len(str(caught.exception)), 600)

            api.broken["1"] = (200, json.dumps({"results": []}))
            with self.assertRaisesRegex(TransportError, "no list at /items"):
                poll.fetch(source, "1")

            api.broken["1"] = (200, json.dumps({"items": [{"qty": 1}]}))
            with self.assertRaisesRegex(TransportError, "item 0 of the page has no id at /id"):
                poll.fetch(source, "1")

            unauthenticated = Source(url=f"{api.base_url}/feed")
            with self.assertRaisesRegex(TransportError, "answered 401: .*invalid_token"):
                poll.fetch(unauthenticated)

        with self.assertRaisesRegex(TransportError, "is unreachable"):
            poll.fetch(Source(url=closed_port_url("/feed")))

    def test_items_without_ids_get_stable_keys_and_pointers_are_options(self):
        def nested(page, next_cursor, _has_more):
            return {"data": {"events": page}, "meta": {"next": next_cursor}}

        readings = [{"sensor": "t1", "value": 20.5}, {"value": 21, "sensor": "t2"}]
        with PartnerApi(readings, render=nested, cursor_param="after") as api:
            source = self.bearer_source(
                api, items_pointer="/data/events", next_cursor_pointer="/meta/next", cursor_param="after"
            )
            page = poll.fetch(source)
            self.assertEqual(page.cursor, "2")
            keys = [item.key for item in page.items]
            self.assertEqual(len(set(keys)), 2)
            self.assertTrue(all(key.startswith("sha256:") for key in keys))
            self.assertEqual([item.key for item in poll.fetch(source).items], keys)
            self.assertEqual(page.items[1].body, b'{"sensor":"t2","value":21}')

            # The same reading written with its keys in another order is the same item.
            api.items = [{"value": 20.5, "sensor": "t1"}]
            self.assertEqual(poll.fetch(source).items[0].key, keys[0])
            self.assertEqual(poll.fetch(source, "2").cursor, "2")
            self.assertEqual(api.feed_requests[-1][0], {"after": ["2"]})


@tagged("post_install", "-at_install")
class TestOAuthClientCredentials(ApiCase):
    def test_one_token_serves_many_calls_and_a_401_fetches_a_fresh_one(self):
        with PartnerApi(events(6)) as api:
            source = self.oauth_source(api, id_pointer="/id")
            self.assertEqual(len(self.walk(source)[0]), 6)
            self.assertEqual(len(api.feed_requests), 4)
            self.assertEqual(len(api.token_requests), 1)
            form, headers = api.token_requests[0]
            self.assertEqual(form, {"grant_type": "client_credentials", "scope": "feed.read"})
            self.assertTrue(headers["authorization"].startswith("Basic "))
            self.assertEqual({h["authorization"] for _q, h in api.feed_requests}, {"Bearer tok-1"})

            api.revoke_tokens()
            self.assertEqual([item.key for item in poll.fetch(source).items], ["ev-1", "ev-2"])
            self.assertEqual(len(api.token_requests), 2)
            self.assertEqual(
                [h["authorization"] for _q, h in api.feed_requests[-2:]], ["Bearer tok-1", "Bearer tok-2"]
            )

    def test_a_token_is_fetched_again_once_it_expires(self):
        now = [1000.0]
        tokens = oauth2.TokenCache(margin=60, clock=lambda: now[0])
        with PartnerApi(expires_in=600) as api:

            def token():
                return tokens.token(f"{api.base_url}/token", CLIENT_ID, CLIENT_SECRET, ["b", "a"], (5, 5))

            self.assertEqual(token(), "tok-1")
            now[0] += 539
            self.assertEqual(token(), "tok-1")
            now[0] += 2  # within the margin before expiry
            self.assertEqual(token(), "tok-2")
            self.assertEqual(len(api.token_requests), 2)
            self.assertEqual(api.token_requests[0][0]["scope"], "a b")

            # A 401 with tok-1 comes late: tok-2 is not dropped by it; forgetting tok-2 is.
            tokens.forget(f"{api.base_url}/token", CLIENT_ID, "a b", token="tok-1")
            self.assertEqual(token(), "tok-2")
            tokens.forget(f"{api.base_url}/token", CLIENT_ID, "a  b", token="tok-2")
            self.assertEqual(token(), "tok-3")

    def test_threads_needing_a_token_wait_for_one_request(self):
        tokens = oauth2.TokenCache()
        with PartnerApi() as api:
            api.token_delay = 0.3
            got = []

            def ask():
                got.append(tokens.token(f"{api.base_url}/token", CLIENT_ID, CLIENT_SECRET, timeouts=(5, 5)))

            threads = [threading.Thread(target=ask) for _n in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
            self.assertEqual(got, ["tok-1"] * 6)
            self.assertEqual(len(api.token_requests), 1)

    def test_credentials_in_the_body_when_the_endpoint_wants_them_there(self):
        with PartnerApi() as api:
            url = f"{api.base_url}/token"
            token = oauth2.TokenCache().token(
                url, CLIENT_ID, CLIENT_SECRET, timeouts=(5, 5), auth_in_body=True
            )
            self.assertEqual(token, "tok-1")
            form, headers = api.token_requests[0]
            self.assertEqual(form["client_secret"], CLIENT_SECRET)
            self.assertEqual(form["client_id"], CLIENT_ID)
            self.assertNotIn("authorization", headers)

    def test_a_refusing_token_endpoint_says_so_without_the_secret(self):
        with PartnerApi(events(2)) as api:
            url = f"{api.base_url}/token"
            wrong_secret = CLIENT_SECRET + "-old"
            with self.assertRaises(oauth2.TokenRefused) as caught:
                oauth2.TokenCache().token(url, CLIENT_ID, wrong_secret, timeouts=(5, 5))
            message = str(caught.exception)
            self.assertIn(
                f"refused client '{CLIENT_ID}' (401): invalid_client: Client authentication failed", message
            )
            self.assertNotIn(wrong_secret, message)
            self.assertNotIn("s3cr", message)
            self.assertEqual(caught.exception.error_code, "invalid_client")

            source = self.oauth_source(api)
            source.secrets["client_secret"] = wrong_secret
            with self.assertRaisesRegex(TransportError, "invalid_client") as caught:
                poll.fetch(source)
            self.assertNotIn("s3cr", str(caught.exception))
            self.assertEqual(api.feed_requests, [])

            api.token_answer = (200, json.dumps({"token_type": "Bearer"}))
            with self.assertRaisesRegex(oauth2.TokenRefused, "without an access_token"):
                oauth2.TokenCache().token(url, CLIENT_ID, CLIENT_SECRET, timeouts=(5, 5))

    def test_a_token_endpoint_that_is_down_is_unavailable_not_refused(self):
        with PartnerApi() as api:
            api.token_answer = (503, "overloaded")
            with self.assertRaisesRegex(
                oauth2.TokenUnavailable, "answered 503: try again later; it said: overloaded"
            ):
                oauth2.TokenCache().token(f"{api.base_url}/token", CLIENT_ID, CLIENT_SECRET, timeouts=(5, 5))
        with self.assertRaisesRegex(oauth2.TokenUnavailable, "unreachable") as caught:
            oauth2.TokenCache().token(closed_port_url("/token"), CLIENT_ID, CLIENT_SECRET, timeouts=(5, 5))
        self.assertNotIn("s3cr", str(caught.exception))


@tagged("post_install", "-at_install")
class TestHttpTransportOAuth(ApiCase):
    def outgoing(self, api, **oauth):
        return Outgoing(
            target=f"{api.base_url}/hooks",
            body=b'{"n":1}',
            message_key="m-1",
            options={"oauth": self.oauth(api, **oauth)},
            secrets={"client_secret": CLIENT_SECRET},
            read_timeout=5.0,
        )

    def test_delivered_with_a_bearer_token_and_once_more_after_a_401(self):
        with PartnerApi() as api:
            outgoing = self.outgoing(api)
            outgoing.headers = {"authorization": "Bearer stale-header"}
            self.assertEqual(http.send(outgoing).outcome, DELIVERED)
            self.assertEqual(http.send(outgoing).outcome, DELIVERED)
            self.assertEqual(len(api.token_requests), 1)
            self.assertEqual([h["authorization"] for _b, h in api.deliveries], ["Bearer tok-1"] * 2)
            self.assertEqual(api.deliveries[0][0], b'{"n":1}')

            api.revoke_tokens()
            result = http.send(outgoing)
            self.assertEqual((result.outcome, result.status_code), (DELIVERED, 200))
            self.assertEqual(api.deliveries[-1][1]["authorization"], "Bearer tok-2")
            self.assertEqual(len(api.token_requests), 2)

            # A receiver that refuses every token: one fresh try, then a person must look.
            api.accept_tokens = False
            result = http.send(outgoing)
            self.assertEqual((result.outcome, result.status_code), (REFUSED, 401))
            self.assertEqual(len(api.token_requests), 3)

    def test_refused_when_the_token_endpoint_refuses_retry_when_it_is_down(self):
        with PartnerApi() as api:
            outgoing = self.outgoing(api)
            outgoing.secrets = {"client_secret": "wrong"}
            result = http.send(outgoing)
            self.assertEqual(result.outcome, REFUSED)
            self.assertIn("invalid_client", result.error)
            self.assertIsNone(result.status_code)

            outgoing.secrets = {}
            result = http.send(outgoing)
            self.assertEqual(result.outcome, REFUSED)
            self.assertIn("without its client secret", result.error)

            outgoing.secrets = {"client_secret": CLIENT_SECRET}
            api.token_answer = (429, json.dumps({"error": "slow_down"}))
            self.assertEqual(http.send(outgoing).outcome, RETRY)
            self.assertEqual(api.deliveries, [])

        down = Outgoing(
            target=closed_port_url("/hooks"),
            body=b"{}",
            message_key="m-2",
            options={"oauth": {"token_url": closed_port_url("/token"), "client_id": CLIENT_ID}},
            secrets={"client_secret": CLIENT_SECRET},
        )
        result = http.send(down)
        self.assertEqual(result.outcome, RETRY)
        self.assertIn("token endpoint", result.error)
        self.assertNotIn("s3cr", result.error)

    def test_without_oauth_the_transport_is_unchanged(self):
        with PartnerApi() as api:
            plain = Outgoing(
                target=f"{api.base_url}/hooks", body=b"{}", message_key="m-3", secrets={"token": STATIC_TOKEN}
            )
            self.assertEqual(http.send(plain).outcome, DELIVERED)
            plain.secrets = {}
            result = http.send(plain)
            self.assertEqual((result.outcome, result.status_code), (REFUSED, 401))
            self.assertEqual(api.token_requests, [])
            self.assertEqual(strict_json.loads(result.excerpt), {"error": "invalid_token"})
