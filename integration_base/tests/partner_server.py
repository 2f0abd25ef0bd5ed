# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A real HTTP server on localhost that stands for a partner's system in tests.

It answers from a script (status, body, headers, and an optional delay before
answering, to provoke timeouts) and keeps every request it got. Standard
library only, so the end-to-end tests (which do not import Odoo) use it too.
"""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Answer:
    """What the partner answers to one request."""

    def __init__(self, status=200, body=None, headers=None, delay=0.0):
        self.status = status
        self.body = json.dumps({"received": True}) if body is None else body
        self.headers = headers or {}
        self.delay = delay


class PartnerServer:
    """``with PartnerServer([Answer(503), Answer(200)]) as server: ... server.url, server.requests``.

    Once the script is used up, every further request gets ``default`` (which
    a test may change while the server runs). ``port`` 0 takes a free port; a
    fixed one lets a test give Odoo the address before anything listens there.
    """

    def __init__(self, answers=(), default=None, port=0):
        self.port = port
        self.answers = list(answers)
        self.default = default or Answer()
        self.requests = []
        self._lock = threading.Lock()
        self._server = None

    @property
    def url(self):
        host, port = self._server.server_address
        return f"http://{host}:{port}/hooks"

    def __enter__(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def bodies(self):
        """The JSON bodies received, in order."""
        return [json.loads(body) for _headers, body in self.requests]

    def _next_answer(self, headers, body):
        with self._lock:
            self.requests.append((headers, body))
            return self.answers.pop(0) if self.answers else self.default

    def _handler_class(self):
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = partner._next_answer({k.lower(): v for k, v in self.headers.items()}, body)
                time.sleep(answer.delay)
                payload = answer.body.encode()
                # The client may have given up waiting (a timeout test): nobody is left to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            def log_message(self, *args):
                pass

        return Handler
