# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Browser tours of users' journeys, with a picture of each step that matters.

Odoo's ``ChromeBrowser`` saves a screenshot only when a test fails. The
journeys' pictures are meant to be looked at when they pass, so a tour asks
for one with the ``screenshot()`` step of
``integration_base/static/tests/tours/journey.js``: the step logs a marker
and waits; the browser's console handler (wrapped here for the tour's
duration) has the page captured by the browser itself
(``Page.captureScreenshot``), saves it, then lets the tour go on. Pictures go
to ``<--screenshots>/<database>/journeys/<journey>/NN-<step>.png``, next to
the ``screenshots/`` folder where Odoo puts those of failed tours;
``./setup/test`` sets ``--screenshots`` to its log folder.
"""

import base64
import itertools
import re
import struct
from pathlib import Path
from unittest.mock import patch

from odoo.tests import HttpCase, get_db_name
from odoo.tests.common import ChromeBrowser
from odoo.tools import config

# Both names are read by integration_base/static/tests/tours/journey.js.
SCREENSHOT_COOKIE = "integration_journey_screenshots"
SCREENSHOT_MARKER = "integration-journey-screenshot:"
STEP_NAME = re.compile(r"[\w-]+")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """``(width, height)`` of the PNG at ``path``, read from its header; None if it is no PNG."""
    head = Path(path).read_bytes()[:24]
    if not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


class JourneyTourCase(HttpCase):
    """Runs tours as a given user and keeps the pictures their ``screenshot()`` steps ask for."""

    def setUp(self):
        super().setUp()
        self._journey_numbers = {}

    @classmethod
    def journey_folder(cls, journey):
        return Path(config["screenshots"]) / get_db_name() / "journeys" / journey

    def start_journey_tour(self, journey, tour_name, login, url_path="/odoo", **kwargs):
        """``start_tour`` as ``login``, the pictures of its ``screenshot()`` steps saved under ``journey``.

        A journey may take several tours (the job runner does not run in the
        test server, so a test drains the queue between two of them): its
        pictures are numbered across them, and the journey's folder is
        emptied when its first tour starts, so that it shows the last run.
        Returns the paths of the pictures this tour took.
        """
        assert STEP_NAME.fullmatch(journey), journey
        folder = self.journey_folder(journey)
        if journey not in self._journey_numbers:
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.png"):
                old.unlink()
            self._journey_numbers[journey] = itertools.count(1)
        taken = []
        failures = []
        original = ChromeBrowser._handle_console
        case = self

        def handle_console(browser, **event):
            args = event.get("args") or []
            text = browser._from_remoteobject(args[0]) if args else ""
            if event.get("type") == "log" and isinstance(text, str) and text.startswith(SCREENSHOT_MARKER):
                name = text.removeprefix(SCREENSHOT_MARKER)
                case._take_picture(browser, folder, journey, name, taken, failures)
            return original(browser, **event)

        cookies = {**kwargs.pop("cookies", {}), SCREENSHOT_COOKIE: "1"}
        with patch.object(ChromeBrowser, "_handle_console", handle_console):
            self.start_tour(url_path, tour_name, login=login, cookies=cookies, **kwargs)
        self.env.invalidate_all()  # the browser's requests changed the database behind this cache
        self.assertFalse(failures, "every picture the tour asked for was taken")
        self.assertTrue(taken, f"tour {tour_name} took pictures (its screenshot() steps heard the test)")
        for path in taken:
            self.assertEqual(png_size(path), self._browser_size(), f"{path.name} is a capture of the browser")
        return taken

    def _browser_size(self):
        width, height = self.browser_size.replace("x", ",").split(",")
        return int(width), int(height)

    def _take_picture(self, browser, folder, journey, name, taken, failures):
        """Have ``browser`` capture its page as picture ``name``, then let the waiting step go on.

        Called on the browser's event thread: nothing here may wait for an
        answer of the browser, so the capture's answer is handled by a callback.
        """
        if not STEP_NAME.fullmatch(name):
            failures.append(f"bad picture name {name!r}")
            name = "unnamed"
        path = folder / f"{next(self._journey_numbers[journey]):02d}-{name}.png"

        def saved(future):
            try:
                path.write_bytes(base64.b64decode(future.result(timeout=0)["data"]))
                taken.append(path)
            except Exception as error:  # told to the test, which fails on it
                failures.append(f"{path.name}: {error}")
            finally:
                browser._websocket_send(
                    "Runtime.evaluate", params={"expression": "window.integrationJourneyScreenshotTaken?.()"}
                )

        browser._websocket_send("Page.captureScreenshot", with_future=True).add_done_callback(saved)
