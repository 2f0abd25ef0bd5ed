# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A trading partner with an active EDI profile (X12 or EDIFACT), its folder, products and prices."""

import os
import tempfile
from pathlib import Path

from odoo.addons.integration_base.lib import formats
from odoo.addons.integration_base.tests.common import IntegrationCase

OUR_ID = "OURPLANT"
PARTNER_ID = "5400110000009"


def partner_order(number="PO-1001", lines=None, **values):
    """A purchase order as the partner writes it."""
    return {
        "document": "order",
        "purpose": "original",
        "number": number,
        "date": "2026-12-01",
        "requested_date": "2026-12-15",
        "parties": [{"role": "ship_to", "id": "5400110000016", "id_qualifier": "9", "name": "ACME Store 16"}],
        "lines": lines
        or [
            {"line": "1", "quantity": 12, "unit": "EA", "price": 40.0, "buyer_item": "ACME-GB-1"},
            {"line": "2", "quantity": 5, "unit": "EA", "price": 15.0, "vendor_item": "FLANGE-50"},
            {"line": "3", "quantity": 2, "unit": "EA", "price": 7.5, "gtin": "5400111864181"},
        ],
        **values,
    }


class EdiCase(IntegrationCase):
    standard = "x12"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = Path(tempfile.mkdtemp(prefix="integration-edi-"))
        cls.addClassCleanup(lambda: os.system(f"rm -rf {cls.folder}"))
        (cls.folder / "outbox").mkdir()
        cls.acme = cls.env["res.partner"].create({"name": "ACME Retail", "is_company": True})
        cls.store = cls.env["res.partner"].create(
            {"name": "ACME Store 16", "parent_id": cls.acme.id, "type": "delivery"}
        )
        Product = cls.env["product.product"]
        cls.gearbox = Product.create({"name": "Gearbox", "list_price": 40.0, "default_code": "GB-1"})
        cls.flange = Product.create({"name": "Flange", "list_price": 15.0, "default_code": "FLANGE-50"})
        cls.bolt = Product.create({"name": "Bolt", "list_price": 7.5, "barcode": "5400111864181"})
        cls.edi = cls._create_backend(
            f"acme-{cls.standard}",
            system_type="edi",
            plant=cls.plant_a,
            partner_id=cls.acme.id,
            contract_family=cls.standard,
            edi_our_qualifier="ZZ",
            edi_our_id=OUR_ID,
            edi_partner_qualifier="14",
            edi_partner_id=PARTNER_ID,
            outbound_url=f"file://{cls.folder}/outbox",
        )
        cls.edi.action_activate()
        cls.edi.action_add_contracts()
        cls.edi.flow_ids.write({"retry_backoff_seconds": 0})
        cls.interchanges = cls.edi.flow_ids.filtered(lambda f: f.code == "edi.interchange")
        cls.interchanges.source_url = f"file://{cls.folder}/inbox"
        cls.edi.flow_ids.action_activate()
        cls.Mapping = cls.env["integration.mapping"]
        cls.Mapping.create(
            {"backend_id": cls.edi.id, "external_code": "ACME-GB-1", "record_ref": cls.gearbox}
        )
        cls.Mapping.create(
            {"backend_id": cls.edi.id, "external_code": "5400110000016", "record_ref": cls.store}
        )
        cls.Message = cls.env["integration.message"]
        cls.Register = cls.env["integration.edi.interchange"]
        cls.sent_number = 1000

    def _partner_interchange(self, *documents, number=None, test=True, **facts):
        """Bytes of an interchange the partner sends us, one transaction per document."""
        body = b""
        for index, document in enumerate(documents):
            type(self).sent_number += 1
            envelope = {
                "sender": {"qualifier": "14", "id": PARTNER_ID},
                "receiver": {"qualifier": "ZZ", "id": OUR_ID},
                "interchange": number or type(self).sent_number,
                "group": number or type(self).sent_number,
                "transactions": [f"{index + 1:04d}"],
                "date": "2026-12-01T09:30",
                "test": test,
                **facts,
            }
            body += formats.encode(self.standard, {**document, "#envelope": envelope})
        return body

    def setUp(self):
        super().setUp()
        for path in (self.folder / "outbox").glob("*"):
            path.unlink()

    def _drop(self, body, name="order.edi"):
        inbox = self.folder / "inbox" / "in"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_bytes(body)

    def _receive(self, body, name="order.edi"):
        """Drop ``body`` in the partner's folder, fetch it and run the backend's job, as the crons would."""
        self._drop(body, name)
        self.env["integration.fetcher"]._fetch(self.interchanges.id)
        self._dispatch(self.edi)

    def _messages(self, flow_code, direction="inbound"):
        return self.Message.search(
            [("backend_id", "=", self.edi.id), ("flow_code", "=", flow_code), ("direction", "=", direction)],
            order="id",
        )

    def _written(self):
        """The interchanges Odoo wrote to the partner's folder, read back: ``{file name: interchange}``."""
        outbox = self.folder / "outbox"
        codec = formats.codec(self.standard)
        return {
            path.name: codec.decode(path.read_bytes(), {})[0]
            for path in sorted(outbox.glob("*"))
            if path.is_file()
        }

    @staticmethod
    def _documents(interchange):
        return [t["document"] for group in interchange["groups"] for t in group["transactions"]]
