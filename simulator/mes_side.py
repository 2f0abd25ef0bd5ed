"""The MES's door for Odoo: a small threaded HTTP server that receives the orders Odoo sends.

Odoo delivers ``mes.production_order`` to the backend's outbound URL, signed
with the backend's key; the endpoint checks the signature as the plant's MES
would (a delivery it cannot verify is refused with 401 and counted), and
records each order: from then on "the MES knows the order" and the floor may
start it. Deliveries are at least once, so the same ``webhook-id`` may come
again; it is counted, not taken for a new order.
"""

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class MesEndpoint:
    """The endpoint and what it received; use as a context manager (it serves in a thread)."""

    def __init__(self, secret, host="127.0.0.1", port=0, path="/mes/production-orders"):
        self.verifier = Webhook(secret)
        self.path = path
        self.orders = {}  # order reference -> the latest order payload Odoo sent
        self.actions = Counter()  # create / update / cancel
        self.deliveries = Counter()  # webhook-id -> times delivered
        self.refused = []  # why deliveries were refused (bad signature, unreadable body)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="mes-endpoint", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def knows(self, order_ref):
        with self._lock:
            return order_ref in self.orders

    def receive(self, headers, body):
        """Check and record one delivery; returns the HTTP status to answer."""
        try:
            envelope = self.verifier.verify(body, headers)
        except WebhookVerificationError as error:
            with self._lock:
                self.refused.append(f"signature: {error}")
            return 401
        data = envelope.get("data") if isinstance(envelope, dict) else None
        if not isinstance(data, dict) or "order_ref" not in data:
            with self._lock:
                self.refused.append(f"not a production order: {body[:120]!r}")
            return 400
        with self._lock:
            webhook_id = headers.get("webhook-id")
            self.deliveries[webhook_id] += 1
            if self.deliveries[webhook_id] == 1:
                self.actions[data.get("action")] += 1
            self.orders[data["order_ref"]] = data
        return 200

    def figures(self):
        with self._lock:
            return {
                "orders": len(self.orders),
                "deliveries": sum(self.deliveries.values()),
                "delivered_again": sum(count - 1 for count in self.deliveries.values()),
                "actions": dict(self.actions),
                "refused": list(self.refused),
            }


def _handler(mes):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {key.lower(): value for key, value in self.headers.items()}
            status = mes.receive(headers, body) if self.path == mes.path else 404
            answer = json.dumps({"received": status == 200}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args):
            """Quiet: what the endpoint received is in the summary."""

    return Handler
