# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The fetcher: inbound messages that Odoo goes to get, from polled APIs and watched folders.

Some systems cannot call a webhook: a CMMS with only a REST API, an EDI
partner that drops files on SFTP. For their contracts (``source_url``) a cron
enqueues one fetch job per contract when it is due; the job moves bytes with
the transport of the source's scheme and stores what it got as messages, which
the dispatcher then applies as it applies webhook calls. Its rules:

- **No network I/O inside a transaction.** Each page or file is fetched with
  no transaction open, then stored in a transaction of its own and committed.
- **No gap, no duplicate.** A polled API's cursor is stored in the transaction
  that stores the page's items, so a poll that fails halfway repeats the page
  (whose items are recognised by their keys) and skips nothing. A file is
  claimed by a rename that only one worker wins, stored, then moved to
  ``processed/``; a worker that dies leaves it to be recovered and stored once
  (its key is its name and content hash).
- **Nothing lost, nothing half-written.** A file or item that cannot be read or
  breaks its contract becomes a message in exception holding what came, for a
  person to correct or cancel, and the file goes to ``error/`` with the reason.
"""

import hashlib
import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..exceptions import PayloadValidationError
from ..lib import formats, transports
from .integration_dispatcher import commit
from .integration_message import KEY_MAX_LENGTH

_logger = logging.getLogger(__name__)

FETCH_BUDGET_SECONDS = 60
# Claimed files older than this whose worker is gone go back to in/.
STALE_CLAIM_SECONDS = 600
REFUSED_TEXT_LIMIT = 100_000
# JSON items larger than this keep their bytes as an attachment too (other formats always do).
RAW_KEPT_ABOVE_BYTES = 64 * 1024


def item_key(key, index, count):
    """The idempotency key of document ``index`` of an item of ``count`` documents (hashed when long)."""
    key = key if count == 1 else f"{key}#{index + 1}"
    return key if len(key) <= KEY_MAX_LENGTH else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class IntegrationFetcher(models.AbstractModel):
    _name = "integration.fetcher"
    _description = "Integration Fetcher (polled APIs and watched folders)"

    @api.model
    def _cron_fetch(self):
        """Enqueue a fetch job for every contract with a source whose time has come (only searches)."""
        now = fields.Datetime.now()
        flows = (
            self.env["integration.flow"]
            .sudo()
            .search(
                [
                    ("source_url", "!=", False),
                    ("direction", "=", "inbound"),
                    ("state", "in", ("active", "deprecated")),
                    ("backend_id.state", "=", "active"),
                    "|",
                    ("next_fetch_at", "=", False),
                    ("next_fetch_at", "<=", now),
                ]
            )
        )
        for flow in flows._in_force():
            self._schedule_fetch(flow)

    @api.model
    def _schedule_fetch(self, flow):
        """The fetch job of ``flow``: the one waiting already, or a new one as the engine's user."""
        identity = f"integration-fetch-{flow.id}"
        dispatcher = self.env["integration.dispatcher"]
        waiting = dispatcher._waiting_job(identity)
        if waiting:
            return waiting
        engine = self.env.ref("integration_base.user_integration_engine")
        return (
            self.with_user(engine)
            .with_context(allowed_company_ids=engine.company_id.ids)
            .with_delay(
                channel=flow.backend_id._queue_channel(),
                identity_key=identity,
                description=f"Fetch {flow.code} of {flow.backend_id.code}",
            )
            ._fetch(flow.id)
        )

    @api.model
    def _fetch(self, flow_id, budget_seconds=FETCH_BUDGET_SECONDS):
        """Job: fetch what the contract's source holds, one page or file per transaction."""
        self.env.flush_all()
        try:
            return self._fetch_on_own_cursor(flow_id, budget_seconds)
        finally:
            self.env.invalidate_all()

    def _fetch_on_own_cursor(self, flow_id, budget_seconds):
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr, su=True)
            flow = env["integration.flow"].browse(flow_id)
            if not flow.exists() or not flow.source_url or flow.backend_id.state != "active":
                return f"contract {flow_id} has nothing to fetch"
            flow.next_fetch_at = fields.Datetime.now() + timedelta(
                minutes=max(flow.fetch_interval_minutes, 1)
            )
            source = transports.Source(url=flow.source_url, **flow._transport_settings())
            commit(cr)
            module = transports.for_source(source.url)
            deadline = time.monotonic() + budget_seconds
            try:
                if hasattr(module, "fetch"):
                    summary = self._fetch_pages(flow, module, source, deadline)
                else:
                    summary = self._fetch_files(flow, module, source, deadline)
            except transports.TransportError as error:
                cr.rollback()
                flow.last_fetch_error = str(error)[:500]
                commit(cr)
                _logger.warning("fetch of %s (%s) failed: %s", flow.code, flow.backend_id.code, error)
                return f"fetch failed: {error}"
            flow.last_fetch_error = False
            commit(cr)
        return summary

    def _fetch_pages(self, flow, poll, source, deadline):
        """Walk a polled API from the stored cursor; each page and its cursor commit together."""
        cr = flow.env.cr
        stored = pages = 0
        while True:
            page = poll.fetch(source, flow.fetch_cursor or None)  # no transaction open here
            pages += 1
            stored += sum(self._store_item(flow, item)[0] for item in page.items)
            if page.cursor:
                flow.fetch_cursor = page.cursor
            commit(cr)
            if not page.more or not page.items or time.monotonic() >= deadline:
                break
        return f"{pages} page(s), {stored} new message(s)"

    def _fetch_files(self, flow, folder, source, deadline):
        """Take the files waiting in the folder, each stored in its own transaction, then moved on."""
        cr = flow.env.cr
        folder.recover(source, STALE_CLAIM_SECONDS)
        taken = stored = 0
        for name in folder.list_ready(source):
            if time.monotonic() >= deadline:
                break
            claim = folder.claim(source, name)
            if claim is None:
                continue  # another worker took it
            taken += 1
            item = folder.read(source, claim)
            try:
                new, refusals = self._store_item(flow, item)
                commit(cr)
            except Exception:
                cr.rollback()
                # Not stored: the file waits in error/ for a person, who moves it back to in/ once fixed.
                folder.settle(source, claim, False, "Odoo could not store the file: see the server log.")
                raise
            stored += new
            # Documents that broke their contract wait in exception; the file shows in error/ why.
            folder.settle(source, claim, not refusals, "\n".join(refusals) or None)
        return f"{taken} file(s), {stored} new message(s)"

    def _store_item(self, flow, item):
        """Store the documents of one fetched item as messages: ``(how many are new, refusals)``.

        What cannot be read, or breaks the contract, is kept as a message in
        exception with the reason and what came, for a person to correct.
        """
        Message = self.env["integration.message"].with_env(flow.env)
        try:
            documents = formats.decode(flow.data_format, item.body, flow._json_setting("format_options"))
        except ValueError as error:  # FormatError, or format options that make no sense
            reason = self.env._("%(what)s cannot be read: %(error)s", what=item.name or item.key, error=error)
            return int(self._park(flow, item.key, item, reason)[1]), [reason]
        new, refusals, stored = 0, [], Message
        for index, document in enumerate(documents):
            key = item_key(item.key, index, len(documents))
            try:
                with flow.env.cr.savepoint():
                    message, created = Message._ingest(
                        flow.backend_id, flow.code, document, idempotency_key=key, flow=flow
                    )
            except (PayloadValidationError, UserError) as error:
                refusals.append(f"{key}: {error}")
                message, created = self._park(flow, key, item, str(error), document)
            if created:
                stored |= message
            new += int(created)
        if flow.data_format != "json" or len(item.body) > RAW_KEPT_ABOVE_BYTES:
            stored._keep_raw(item.body, item.name, item.content_type)
        return new, refusals

    def _park(self, flow, key, item, reason, document=None):
        """Keep what came as a message in exception, with the reason: ``(message, created)``."""
        Message = self.env["integration.message"].with_env(flow.env)
        known = Message._find_by_key(flow.backend_id, flow.code, "inbound", key)
        if known:
            return known, False
        text = item.body.decode("utf-8", errors="replace")[:REFUSED_TEXT_LIMIT]
        payload = document if document is not None else {"refused_input": text, "source": item.name}
        message = Message._store_refused(flow, key, payload, reason)
        if document is None:
            message._keep_raw(item.body, item.name, item.content_type)
        _logger.info("fetched %s of %s refused: %s", item.name or key, flow.code, reason)
        return message, True
