"""End to end: a retail partner's X12 order to a confirmed order, a delivery and an invoice, acknowledged.

The partner uploads a public sample 850 (``../shared/edi-samples``) to its
webhook route, signed; the live server's job runner reads it, acknowledges
it (997) and makes the sale order, confirmed, answered with an 855. A
warehouse user validates the delivery (856 out), an accountant posts the
invoice (810 out), each written to the partner's folder as a real
interchange; the partner's 997s then settle every one of them. Everything is
checked over JSON-RPC and in the files, as the people and the partner would.
"""

import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
from backends import connect_backend
from standardwebhooks.webhooks import Webhook
from test_engine import wait_for_state

from simulator.webhooks import signed_headers

SECRET = "whsec_" + "ZWRpLXNlY3JldC1vZi10aGUtZW5kLXRvLWVuZC10ZXN0cw"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "edi-samples"
SETTLED = {"done", "exception", "dead", "cancelled"}
WAIT_SECONDS = 120
# The sample 850's envelope: the partner 4405197800 (qualifier 12) writes to us, 999999999 (01).
PARTNER_ID, OUR_ID = "4405197800", "999999999"
ITEMS = {"AB3542": 9.25, "RD5322": 13.79, "XY5266": 10.99, "VX2332": 4.35, "RV0524": 7.5, "DX1875": 9.55}


def interchange(number, transactions):
    """An X12 interchange of the partner: ``transactions`` are ``(type, functional id, [segments])``."""
    parties = f"12*{PARTNER_ID:<15}*01*{OUR_ID:<15}"
    isa = f"ISA*00*{'':10}*00*{'':10}*{parties}*261202*1200*U*00401*{number:09d}*0*P*>~\n"
    functional_id = transactions[0][1]
    lines = [f"GS*{functional_id}*{PARTNER_ID}*{OUR_ID}*20261202*1200*{number}*X*004010"]
    for index, (kind, _functional_id, segments) in enumerate(transactions, 1):
        lines += [f"ST*{kind}*{index:04d}", *segments, f"SE*{len(segments) + 2}*{index:04d}"]
    lines += [f"GE*{len(transactions)}*{number}", f"IEA*1*{number:09d}"]
    return isa + "".join(f"{line}~\n" for line in lines)


def acknowledging(register_lines):
    """The partner's 997s accepting what we sent: one per functional group, as X12 says."""
    kinds = {"order_response": ("PR", "855"), "despatch_advice": ("SH", "856"), "invoice": ("IN", "810")}
    transactions = []
    for line in register_lines:
        functional_id, kind = kinds[line["document"]]
        segments = [
            f"AK1*{functional_id}*{line['group_number']}",
            f"AK2*{kind}*{line['transaction_numbers']}",
            "AK5*A",
            "AK9*A*1*1*1",
        ]
        transactions.append(("997", "FA", segments))
    return interchange(900 + len(register_lines), transactions)


class RetailPartner:
    """The partner's profile made over JSON-RPC as an administrator makes it, its folder and its items."""

    def __init__(self, odoo, server_url):
        self.odoo, self.server_url = odoo, server_url
        self.code = f"e2e-edi-{uuid.uuid4().hex[:6]}"
        self.folder = Path(tempfile.mkdtemp(prefix="integration-e2e-edi-"))
        (self.folder / "outbox").mkdir()
        self.partner = odoo.execute(
            "res.partner", "create", {"name": f"XYZ Retail {self.code}", "is_company": True}
        )
        [warehouse] = odoo.execute("stock.warehouse", "search_read", [], fields=["id"], limit=1)
        self.products = {
            code: odoo.execute(
                "product.product",
                "create",
                {"name": f"Widget {code}", "default_code": f"{code}-{self.code}", "list_price": price},
            )
            for code, price in ITEMS.items()
        }
        self.backend = connect_backend(
            odoo,
            self.code,
            "edi",
            warehouse["id"],
            SECRET,
            partner_id=self.partner,
            contract_family="x12",
            edi_our_qualifier="01",
            edi_our_id=OUR_ID,
            edi_partner_qualifier="12",
            edi_partner_id=PARTNER_ID,
            edi_test_mode=False,
            outbound_url=f"file://{self.folder}/outbox",
            rate_limit_per_minute=0,
        )

    def upload(self, body):
        headers = signed_headers(Webhook(SECRET), f"upload-{uuid.uuid4().hex}", body)
        headers["Content-Type"] = "application/edi-x12"
        return requests.post(
            f"{self.server_url}/integration/v1/{self.code}/edi.interchange",
            data=body,
            headers=headers,
            timeout=60,
        )

    def written(self, transaction_type):
        """The interchanges of ``transaction_type`` Odoo wrote to the partner's folder so far."""
        found = []
        for path in sorted((self.folder / "outbox").glob("*.edi")):
            text = path.read_text()
            if f"~\nST*{transaction_type}*" in text:
                found.append(text)
        return found

    def wait_written(self, transaction_type, count=1):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            found = self.written(transaction_type)
            if len(found) >= count:
                return found
            time.sleep(0.5)
        raise AssertionError(f"no {transaction_type} written to {self.folder}/outbox within {WAIT_SECONDS} s")

    def register(self, **domain):
        return self.odoo.execute(
            "integration.edi.interchange",
            "search_read",
            [["backend_id", "=", self.backend], *[[key, "=", value] for key, value in domain.items()]],
            fields=[
                "document",
                "direction",
                "state",
                "control_number",
                "group_number",
                "transaction_numbers",
            ],
        )


@pytest.fixture
def partner(odoo, server_url):
    return RetailPartner(odoo, server_url)


def test_a_purchase_order_to_an_acknowledged_order_delivery_and_invoice(odoo, partner):
    sample = (SAMPLES / "x12_850_nodex12_1.edi").read_text()
    for code in ITEMS:  # the partner orders our items by our reference (PO1 VN)
        sample = sample.replace(f"*VN*{code}", f"*VN*{code}-{partner.code}")
    answer = partner.upload(sample)
    assert answer.status_code == 202, answer.text
    interchange_message = wait_for_state(
        odoo, answer.json()["message_id"], SETTLED, ("state", "error_message")
    )
    assert interchange_message["state"] == "done", interchange_message["error_message"]

    [acknowledgement] = partner.wait_written("997")
    assert "AK1*PO*1421~" in acknowledgement and "AK2*850*000000010~" in acknowledgement
    assert "AK9*A*1*1*1~" in acknowledgement

    order = wait_for_order(odoo, partner.partner, "08292233294")
    assert order["state"] == "sale"
    lines = odoo.execute(
        "sale.order.line", "read", order["order_line"], fields=["product_id", "product_uom_qty"]
    )
    assert sorted((line["product_id"][0], line["product_uom_qty"]) for line in lines) == sorted(
        zip(partner.products.values(), (120, 220, 126, 76, 72, 696), strict=True)
    )
    [response] = partner.wait_written("855")
    assert "BAK*00*AD*08292233294*" in response, "every line accepted at the partner's prices"

    [picking] = odoo.execute(
        "stock.picking", "search_read", [["sale_id", "=", order["id"]]], fields=["move_ids"]
    )
    for move in odoo.execute("stock.move", "read", picking["move_ids"], fields=["product_uom_qty"]):
        odoo.execute("stock.move", "write", [move["id"]], {"quantity": move["product_uom_qty"]})
    odoo.execute("stock.picking", "button_validate", [picking["id"]])
    [advice] = partner.wait_written("856")
    assert "PRF*08292233294~" in advice
    assert advice.count("SN1**") == 6

    wizard = odoo.execute(
        "sale.advance.payment.inv",
        "create",
        {"advance_payment_method": "delivered"},
        context={"active_model": "sale.order", "active_ids": [order["id"]], "active_id": order["id"]},
    )
    odoo.execute(
        "sale.advance.payment.inv",
        "create_invoices",
        [wizard],
        context={"active_model": "sale.order", "active_ids": [order["id"]], "active_id": order["id"]},
    )
    [invoice] = odoo.execute(
        "account.move", "search_read", [["invoice_origin", "=", order["name"]]], fields=["id", "amount_total"]
    )
    odoo.execute("account.move", "action_post", [invoice["id"]])
    [sent_invoice] = partner.wait_written("810")
    assert "BIG*" in sent_invoice and "*08292233294~" in sent_invoice
    assert f"TDS*{round(invoice['amount_total'] * 100)}~" in sent_invoice

    awaiting = partner.register(direction="sent", state="awaiting")
    assert sorted(line["document"] for line in awaiting) == ["despatch_advice", "invoice", "order_response"]
    answer = partner.upload(acknowledging(awaiting))
    assert answer.status_code == 202, answer.text
    acknowledged = wait_for_state(odoo, answer.json()["message_id"], SETTLED, ("state", "error_message"))
    assert acknowledged["state"] == "done", acknowledged["error_message"]
    deadline = time.monotonic() + WAIT_SECONDS
    while partner.register(direction="sent", state="awaiting") and time.monotonic() < deadline:
        time.sleep(0.5)
    states = {line["document"]: line["state"] for line in partner.register(direction="sent")}
    assert states == {
        "acknowledgement": "not_expected",
        "order_response": "accepted",
        "despatch_advice": "accepted",
        "invoice": "accepted",
    }
    assert len(partner.written("997")) == 1, "the partner's 997s are not acknowledged back"


def wait_for_order(odoo, partner_id, number):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = odoo.execute(
            "sale.order",
            "search_read",
            [["partner_id", "=", partner_id], ["client_order_ref", "=", number]],
            fields=["id", "name", "state", "order_line"],
        )
        if found:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"no sale order for purchase order {number} within {WAIT_SECONDS} s")
