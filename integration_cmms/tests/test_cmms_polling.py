# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A CMMS that cannot call Odoo: its work order feed is polled, page by page, with the engine's cursor."""

import json

from odoo.tests import tagged

from odoo.addons.integration_base.tests.common import LocalPartnerMixin
from odoo.addons.integration_base.tests.test_transport_poll import CLIENT_ID, CLIENT_SECRET, PartnerApi

from .common import CmmsCase


def work_orders(*titles):
    return [
        {
            "event_id": f"WO-{number}@1",
            "work_order_id": f"WO-{number}",
            "equipment": "P-100",
            "title": title,
            "type": "preventive",
            "status": "approved",
            "updated_at": "2026-12-01T08:00:00Z",
        }
        for number, title in enumerate(titles, start=1)
    ]


@tagged("post_install", "-at_install")
class TestCmmsPolling(LocalPartnerMixin, CmmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cmms.oauth_client_id = CLIENT_ID
        cls.env["integration.credential"].create(
            {"backend_id": cls.cmms.id, "kind": "client_secret", "secret": CLIENT_SECRET}
        )
        cls.flow = cls.cmms.flow_ids.filtered(
            lambda f: f.code == "cmms.work_order" and f.direction == "inbound"
        )
        cls.flow.transport_options = json.dumps({"id_pointer": "/event_id", "more_pointer": "/has_more"})

    def _poll(self, api):
        self.cmms.oauth_token_url = f"{api.base_url}/token"
        self.flow.source_url = f"{api.base_url}/feed"
        result = self.env["integration.fetcher"]._fetch(self.flow.id)
        self._dispatch(self.cmms)
        return result

    def _requests(self):
        return self.env["maintenance.request"].search([("equipment_id", "=", self.press.id)], order="id")

    def test_the_work_order_feed_becomes_requests_once_each(self):
        with PartnerApi(work_orders("Lubricate", "Inspect belts", "Replace filter"), page_size=2) as api:
            self.assertEqual(self._poll(api), "2 page(s), 3 new message(s)")
            self.assertEqual(
                self._requests().mapped("name"), ["Lubricate", "Inspect belts", "Replace filter"]
            )
            self.assertEqual(self.flow.fetch_cursor, "3")
            api.items += work_orders("Lubricate", "Inspect belts", "Replace filter", "Calibrate")[3:]
            self.flow.fetch_cursor = "1"  # as if the last poll had died after its first page
            self._poll(api)
        self.assertEqual(len(self._requests()), 4, "the pages fetched again add only the new work order")
        self.assertEqual(self.flow.fetch_cursor, "4")
