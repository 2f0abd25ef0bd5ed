# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A connector with no Python but its processor: a template, a binding, and an API Odoo polls."""

import json

from odoo.tests import tagged

from odoo.addons.integration_base.tests.common import IntegrationCase, LocalPartnerMixin
from odoo.addons.integration_base.tests.test_transport_poll import CLIENT_ID, CLIENT_SECRET, PartnerApi


def contacts(*names):
    return [{"id": f"C-{index}", "name": name} for index, name in enumerate(names, start=1)]


@tagged("post_install", "-at_install")
class TestPolledConnector(LocalPartnerMixin, IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._create_backend("crm-poll", oauth_client_id=CLIENT_ID)
        cls.env["integration.credential"].create(
            {"backend_id": cls.backend.id, "kind": "client_secret", "secret": CLIENT_SECRET}
        )
        cls.backend.action_activate()
        cls.backend.action_add_contracts()
        cls.flow = cls.backend.flow_ids.filtered(lambda f: f.code == "test.contact")
        cls.flow.write(
            {
                "transport_options": json.dumps({"id_pointer": "/id", "more_pointer": "/has_more"}),
                "retry_backoff_seconds": 0,
            }
        )
        cls.flow.action_activate()
        cls.Fetcher = cls.env["integration.fetcher"]

    def _poll(self, api):
        self.backend.oauth_token_url = f"{api.base_url}/token"
        self.flow.source_url = f"{api.base_url}/feed"
        result = self.Fetcher._fetch(self.flow.id)
        self.env.invalidate_all()
        return result

    def _messages(self):
        return self.env["integration.message"].search([("flow_id", "=", self.flow.id)], order="id")

    def test_pages_become_messages_once_and_contacts_are_kept_by_their_id(self):
        with PartnerApi(contacts("Ann", "Bob", "Cy"), page_size=2) as api:
            self.assertEqual(self._poll(api), "2 page(s), 3 new message(s)", "the second page says no more")
            self.assertEqual(self.flow.fetch_cursor, "3")
            self.assertEqual(len(api.token_requests), 1, "one OAuth token for every page")
            self.assertEqual(self._messages().mapped("idempotency_key"), ["C-1", "C-2", "C-3"])
            self._dispatch(self.backend)
            self.assertEqual(set(self._messages().mapped("state")), {"done"})
            # As if the cursor had not moved past Ann: Bob (changed since) and Cy come again, then Dee.
            api.items[1] = {"id": "C-2", "name": "Robert", "updated_at": "later"}
            api.items.append({"id": "C-4", "name": "Dee"})
            self.flow.fetch_cursor = "1"
            self._poll(api)
        Binding = self.env["integration.binding"]
        bob = Binding._find_bound(self.backend, "res.partner", "C-2")
        self.assertEqual(len(self._messages()), 4, "a page fetched again stores only what is new (C-4)")
        self._dispatch(self.backend)
        self.assertEqual(bob.name, "Bob", "the same id at the same key is one message: the repeat is dropped")
        self.assertEqual(Binding._find_bound(self.backend, "res.partner", "C-4").name, "Dee")
        self.assertEqual(self.flow.fetch_cursor, "4")

    def test_a_failing_page_keeps_the_cursor_and_what_was_stored(self):
        with PartnerApi(contacts("Ann", "Bob", "Cy", "Dee"), page_size=2) as api:
            api.broken["2"] = (503, '{"error": "maintenance"}')
            result = self._poll(api)
            self.assertIn("fetch failed", result)
            self.assertIn("503", self.flow.last_fetch_error)
            self.assertEqual(self.flow.fetch_cursor, "2", "page one and its cursor are kept")
            self.assertEqual(len(self._messages()), 2)
            del api.broken["2"]
            self._poll(api)
        self.assertEqual(self._messages().mapped("idempotency_key"), ["C-1", "C-2", "C-3", "C-4"])
        self.assertFalse(self.flow.last_fetch_error)

    def test_an_item_that_breaks_the_contract_waits_for_a_person(self):
        with PartnerApi([{"id": "C-1", "name": ""}, {"id": "C-2", "name": "Bob"}], page_size=5) as api:
            self._poll(api)
        refused, accepted = self._messages()
        self.assertEqual((refused.state, accepted.state), ("exception", "queued"))
        self.assertIn("breaks its contract", refused.error_message)
        refused.payload_text = json.dumps({"id": "C-1", "name": "Ann"})
        refused.action_retry()
        self._dispatch(self.backend)
        self.assertEqual(
            self.env["integration.binding"]._find_bound(self.backend, "res.partner", "C-1").name, "Ann"
        )

    def test_the_cron_enqueues_a_fetch_for_due_contracts_only(self):
        self.flow.source_url = "https://crm.example/feed"
        with self._trap_jobs() as trap:
            self.Fetcher._cron_fetch()
            trap.assert_jobs_count(1, only=self.Fetcher._fetch)
        self.flow.next_fetch_at = "2999-01-01 00:00:00"
        with self._trap_jobs() as trap:
            self.Fetcher._cron_fetch()
            trap.assert_jobs_count(0, only=self.Fetcher._fetch)
