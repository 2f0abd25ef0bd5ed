# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""X12 and EDIFACT read and written: the public sample files, envelopes, delimiters, round trips.

No database: these are the codecs the engine calls. The samples are the
fixtures of public EDI test suites kept in ``../shared/edi-samples`` (their
sources and licences in its SOURCES.md); several are malformed on purpose.
"""

from pathlib import Path

from odoo.tests import BaseCase, tagged

from odoo.addons.integration_base.lib import formats
from odoo.addons.integration_base.lib.formats import FormatError

from ..lib import edifact, x12

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "edi-samples"

ENVELOPE = {
    "sender": {"qualifier": "ZZ", "id": "OURPLANT"},
    "receiver": {"qualifier": "14", "id": "5400110000009"},
    "interchange": 7,
    "group": 7,
    "transactions": [7],
    "date": "2026-12-01T10:00",
    "test": True,
}
ORDER = {
    "document": "order",
    "purpose": "original",
    "number": "PO-1",
    "date": "2026-12-01",
    "requested_date": "2026-12-10",
    "currency": "EUR",
    "parties": [{"role": "buyer", "id": "5400110000009", "id_qualifier": "9", "name": "ACME Retail"}],
    "lines": [
        {
            "line": "1",
            "quantity": 12,
            "unit": "EA",
            "price": 9.25,
            "gtin": "5400111864181",
            "buyer_item": "B-1",
            "vendor_item": "V-1",
            "description": "Gear box",
        },
        {"line": "2", "quantity": 2.5, "unit": "KGM", "price": 0.125, "vendor_item": "V-2"},
    ],
}
ORDER_RESPONSE = {
    "document": "order_response",
    "number": "S00012",
    "status": "changed",
    "order_number": "PO-1",
    "date": "2026-12-02",
    "lines": [
        {
            "line": "1",
            "status": "changed",
            "quantity": 12,
            "accepted_quantity": 10,
            "unit": "EA",
            "price": 9.25,
            "gtin": "5400111864181",
        },
        {
            "line": "2",
            "status": "rejected",
            "quantity": 3,
            "accepted_quantity": 0,
            "unit": "EA",
            "vendor_item": "V-2",
        },
    ],
}
DESPATCH_ADVICE = {
    "document": "despatch_advice",
    "number": "WH/OUT/00007",
    "date": "2026-12-03",
    "shipped_date": "2026-12-03",
    "order_number": "PO-1",
    "packages": [
        {
            "sscc": "354001100000000019",
            "lines": [{"line": "1", "gtin": "5400111864181", "lot": "L-42", "quantity": 10, "unit": "EA"}],
        },
        {"lines": [{"line": "2", "vendor_item": "V-2", "quantity": 1, "unit": "EA"}]},
    ],
}
INVOICE = {
    "document": "invoice",
    "number": "INV/2026/0001",
    "date": "2026-12-04",
    "order_number": "PO-1",
    "currency": "EUR",
    "lines": [{"line": "1", "quantity": 10, "unit": "EA", "price": 9.25, "gtin": "5400111864181"}],
    "tax_amount": 18.5,
    "tax_rate": 20,
}


def sample(name):
    return (SAMPLES / name).read_bytes()


def transactions(interchange):
    return [transaction for group in interchange["groups"] for transaction in group["transactions"]]


class EdiCase(BaseCase):
    def only(self, codec, body):
        interchanges = codec.decode(body, {})
        self.assertEqual(len(interchanges), 1)
        return interchanges[0]


@tagged("post_install", "-at_install")
class TestSamples(EdiCase):
    """Every sample reads; what the SOURCES.md says is wrong with one is what we report, where it is."""

    def test_x12_samples_that_are_well_formed_read_whole(self):
        expected = {
            "x12_850_nodex12_1.edi": [("850", "order")],
            "x12_855_nodex12_1.edi": [("855", "order_response")],
            "x12_856_stupidedi_1.edi": [("856", "despatch_advice")],
            "x12_810_stupidedi_1.edi": [("810", "invoice")],
            "x12_810_staedi_1_multi_group.edi": [("810", "invoice"), ("810", "invoice"), ("850", "order")],
            "x12_997_staedi_1.edi": [("997", "acknowledgement")],
        }
        for name, documents in expected.items():
            with self.subTest(name):
                interchange = self.only(x12, sample(name))
                self.assertEqual(interchange["problems"], [])
                self.assertEqual(interchange["status"], "accepted")
                self.assertEqual(
                    [(t["type"], t["document"]["document"]) for t in transactions(interchange)], documents
                )

    def test_x12_purchase_order_reads_its_lines_and_parties(self):
        interchange = self.only(x12, sample("x12_850_nodex12_1.edi"))
        self.assertEqual(interchange["sender"], {"qualifier": "12", "id": "4405197800"})
        self.assertEqual(interchange["control_number"], "000003438")
        self.assertFalse(interchange["test"])
        order = transactions(interchange)[0]["document"]
        self.assertEqual(
            (order["number"], order["date"], order["requested_date"]),
            ("08292233294", "2010-11-27", "2010-12-14"),
        )
        self.assertEqual(order["parties"][0]["role"], "ship_to")
        self.assertEqual(order["parties"][0]["id"], "0003947268292")
        self.assertEqual(len(order["lines"]), 6)
        self.assertEqual(
            order["lines"][0],
            {
                "line": "1",
                "quantity": 120,
                "unit": "EA",
                "price": 9.25,
                "buyer_catalog": "065322-117",
                "other_codes": {"PR": "RO"},
                "vendor_item": "AB3542",
                "description": "SMALL WIDGET",
            },
        )

    def test_x12_pipe_separator_and_two_groups_of_other_versions(self):
        invoice = transactions(self.only(x12, sample("x12_810_stupidedi_1.edi")))[0]["document"]
        self.assertEqual(invoice["lines"][0]["gtin"], "9781501331978")
        self.assertEqual(invoice["total"], 285.66)  # TDS 28566: two implied decimals
        multi = self.only(x12, sample("x12_810_staedi_1_multi_group.edi"))
        self.assertEqual(
            [(g["functional_id"], g["version"]) for g in multi["groups"]],
            [("IN", "004010"), ("PO", "003010")],
        )

    def test_x12_rejecting_997_with_a_repetition_separator(self):
        interchange = self.only(x12, sample("x12_997_staedi_1.edi"))
        self.assertEqual(interchange["version"], "00501")
        ack = transactions(interchange)[0]["document"]
        self.assertEqual(
            ack["groups"],
            [
                {
                    "functional_id": "HC",
                    "control_number": "000001",
                    "status": "rejected",
                    "included": 1,
                    "received": 1,
                    "accepted": 0,
                    "transactions": [
                        {"type": "837", "control_number": "0021", "status": "rejected", "code": "5"}
                    ],
                }
            ],
        )

    def test_x12_missing_iea_and_wrong_segment_count_are_reported_where_they_are(self):
        interchange = self.only(x12, sample("x12_810_edifabric_1_missing_iea.edi"))
        self.assertEqual(interchange["status"], "rejected")
        self.assertEqual(
            interchange["problems"],
            [
                "segment 47 (SE): the trailer counts 44 segments, there are 45",
                "segment 49 (end of file): interchange 810000263 has no IEA trailer",
            ],
        )
        self.assertEqual(interchange["errors"][0]["code"], "023")
        self.assertEqual(transactions(interchange)[0]["errors"][0]["code"], "4")

    def test_edifact_samples(self):
        cases = {
            "edifact_invoic_pydifact_1.edi": ("accepted", []),
            "edifact_invoic_staedi_1_custom_una.edi": (
                "rejected",
                ["segment 26 (UNT): the trailer counts 23 segments, there are 24"],
            ),
            "edifact_orders_pydifact_1.edi": (
                "rejected",
                ["segment 19 (end of file): interchange 807 has no UNZ trailer"],
            ),
            "edifact_orders_staedi_1_ung.edi": (
                "rejected",
                ["segment 20 (UNT): the trailer counts 21 segments, there are 18"],
            ),
        }
        for name, (status, problems) in cases.items():
            with self.subTest(name):
                interchange = self.only(edifact, sample(name))
                self.assertEqual((interchange["status"], interchange["problems"]), (status, problems))

    def test_edifact_una_release_character_and_decimal_comma(self):
        invoice = self.only(edifact, sample("edifact_invoic_staedi_1_custom_una.edi"))
        self.assertEqual(invoice["receiver"]["id"], "006415160", "the release character escapes data")
        document = transactions(invoice)[0]["document"]
        self.assertEqual(document["parties"][0]["name"], "CUMMINS MID-RANGE ENGINE PLANT")
        self.assertEqual(document["lines"][0]["quantity"], 1020)
        order = transactions(self.only(edifact, sample("edifact_orders_pydifact_1.edi")))[0]["document"]
        self.assertEqual(order["date"], "2015-08-03T00:00")
        self.assertEqual([line["gtin"] for line in order["lines"]], ["5020436373085", "5020436373108"])

    def test_edifact_group_and_price(self):
        interchange = self.only(edifact, sample("edifact_orders_staedi_1_ung.edi"))
        self.assertTrue(interchange["test"])
        self.assertEqual(interchange["groups"][0]["functional_id"], "ORDERS")
        self.assertTrue(interchange["groups"][0]["explicit"])
        line = transactions(interchange)[0]["document"]["lines"][0]
        self.assertEqual(
            (line["gtin"], line["buyer_item"], line["price"], line["quantity"]),
            ("5400111864181", "8641800", 12.8, 288),
        )
        invoice = transactions(self.only(edifact, sample("edifact_invoic_pydifact_1.edi")))[0]["document"]
        self.assertEqual((invoice["lines"][0]["price"], invoice["lines"][0]["price_basis"]), (3630.1724, 100))
        self.assertEqual(
            invoice["date"], "1999-10-06T00:00", "a 12-digit date under format 102 is read by its length"
        )


@tagged("post_install", "-at_install")
class TestLayout(EdiCase):
    """What files look like in the wild: BOMs, CRLF, no line breaks, several interchanges."""

    def test_bom_crlf_and_no_line_breaks_read_the_same(self):
        plain = sample("x12_850_nodex12_1.edi")
        expected = self.only(x12, plain)
        for variant in (b"\xef\xbb\xbf" + plain, plain.replace(b"\n", b"\r\n"), plain.replace(b"\n", b"")):
            self.assertEqual(self.only(x12, variant), expected)

    def test_several_interchanges_with_their_own_delimiters(self):
        body = sample("x12_850_nodex12_1.edi") + b"\n" + sample("x12_810_stupidedi_1.edi")
        first, second = x12.decode(body, {})
        self.assertEqual((first["control_number"], second["control_number"]), ("000003438", "005639689"))
        self.assertEqual(
            transactions(second)[0]["position"], "segment 40 (ST)", "positions count through the file"
        )
        self.assertEqual(second["problems"], [])
        una = sample("edifact_invoic_staedi_1_custom_una.edi")
        plain = sample("edifact_invoic_pydifact_1.edi")
        self.assertEqual(
            [i["control_number"] for i in edifact.decode(plain + una, {})],
            ["PAYO0012101221", "00000000000778"],
        )

    def test_what_is_not_an_interchange_is_refused(self):
        with self.assertRaisesRegex(FormatError, "starts with an ISA"):
            x12.decode(b"GS*PO*1~", {})
        with self.assertRaisesRegex(FormatError, "16 elements"):
            x12.decode(b"ISA*00*short~", {})
        with self.assertRaisesRegex(FormatError, "UNA or UNB"):
            edifact.decode(b"UNH+1+ORDERS:D:96A:UN'", {})

    def test_envelope_problems_are_each_reported(self):
        body = (
            "ISA*00*          *00*          *ZZ*A              *ZZ*B              "
            "*261201*1000*U*00401*000000001*0*P*>~"
            "GS*PO*A*B*20261201*1000*5*X*004010~"
            "ST*850*0001~BEG*00*SA*PO-9**20261201~PO1*1*1*EA*1**VN*X~SE*9*0002~"
            "ST*850*0003~BEG*00*SA*PO-10**20261201~"
            "GE*3*6~"
            "ST*850*0004~BEG*00*SA*PO-11**20261201~PO1*1*1*EA*1**VN*X~SE*4*0004~"
            "IEA*2*000000002~"
        )
        interchange = self.only(x12, body.encode())
        self.assertEqual(
            interchange["problems"],
            [
                "segment 6 (SE): the trailer counts 9 segments, there are 4",
                "segment 6 (SE): the trailer's reference 0002 is not the header's 0001",
                "segment 7 (ST): the 850 gives no lines",
                "segment 9 (GE): the trailer counts 3 messages, there are 2",
                "segment 9 (GE): the trailer's reference 6 is not the header's 5",
                "segment 9 (GE): message 0003 has no SE trailer",
                "segment 10 (ST): this header stands outside any group (GS)",
                "segment 14 (IEA): the trailer counts 2 groups, there are 1",
                "segment 14 (IEA): the trailer's control reference 000000002 is not the header's 000000001",
            ],
        )

    def test_edifact_messages_inside_and_outside_groups(self):
        body = (
            b"UNB+UNOC:3+A:14+B:14+261201:1000+9'UNH+1+ORDERS:D:96A:UN'BGM+220+P1+9'UNT+3+1'"
            b"UNG+ORDERS+A+B+261201:1000+4+UN+D:96A'UNH+2+ORDERS:D:96A:UN'BGM+220+P2+9'UNT+3+2'UNE+1+4'UNZ+1+9'"
        )
        interchange = self.only(edifact, body)
        self.assertIn(
            "segment 2 (UNH): messages stand both inside and outside groups", interchange["problems"]
        )
        self.assertIn("the ORDERS gives no lines", transactions(interchange)[0]["errors"][0]["reason"])


@tagged("post_install", "-at_install")
class TestRoundTrip(EdiCase):
    """What we write reads back as it was, through our own parser, in both standards."""

    def test_documents_round_trip(self):
        for codec in (x12, edifact):
            for document in (ORDER, ORDER_RESPONSE, DESPATCH_ADVICE, INVOICE):
                with self.subTest(codec=codec.__name__, document=document["document"]):
                    body = formats.encode(
                        codec.__name__.rsplit(".", 1)[1], {**document, "#envelope": ENVELOPE}
                    )
                    interchange = self.only(codec, body)
                    self.assertEqual(interchange["problems"], [])
                    self.assertTrue(interchange["test"])
                    self.assertEqual(interchange["sender"]["id"], "OURPLANT")
                    read = transactions(interchange)[0]["document"]
                    read.pop("document_code", None)  # EDIFACT's BGM code is written for invoices
                    self.assertEqual(read, document)

    def test_x12_envelope_as_the_partner_profile_says(self):
        body = x12.encode(
            {
                **ORDER,
                "#envelope": {**ENVELOPE, "delimiters": {"element": "|", "segment": "\n"}, "test": False},
            },
            {},
        ).decode()
        isa = body.split("\n")[0]
        self.assertEqual(len(isa), 105, "ISA is fixed width (without its terminator)")
        self.assertTrue(
            isa.startswith(
                "ISA|00|          |00|          |ZZ|OURPLANT       |14|5400110000009  "
                "|261201|1000|U|00401|000000007|1|P|>"
            )
        )
        self.assertIn("\nST|850|7\n", body)
        self.assertIn("\nSE|", body)
        self.assertTrue(body.endswith("IEA|1|000000007\n"))

    def test_edifact_escapes_and_writes_its_una_when_needed(self):
        party = {**ORDER["parties"][0], "name": "ACME: Retail+Co's ?"}
        body = edifact.encode({**ORDER, "parties": [party], "#envelope": ENVELOPE}, {})
        self.assertIn(b"ACME?: Retail?+Co?'s ??'", body)
        self.assertFalse(body.startswith(b"UNA"), "default delimiters need no UNA")
        read = transactions(self.only(edifact, body))[0]["document"]
        self.assertEqual(read["parties"][0]["name"], "ACME: Retail+Co's ?")
        custom = edifact.encode(
            {**ORDER, "#envelope": {**ENVELOPE, "delimiters": {"decimal": ",", "segment": "~"}}}, {}
        )
        self.assertTrue(custom.startswith(b"UNA:+,? ~"))
        self.assertIn(b"PRI+AAA:9,25~", custom)
        self.assertEqual(transactions(self.only(edifact, custom))[0]["document"]["lines"][1]["price"], 0.125)

    def test_x12_refuses_data_holding_a_delimiter(self):
        party = {**ORDER["parties"][0], "name": "ACME*Retail"}
        with self.assertRaisesRegex(FormatError, "holds one of the interchange's delimiters"):
            x12.encode({**ORDER, "parties": [party], "#envelope": ENVELOPE}, {})

    def test_acknowledgements_round_trip(self):
        groups = [
            {
                "functional_id": "PO",
                "control_number": "165",
                "status": "rejected",
                "included": 2,
                "received": 2,
                "accepted": 1,
                "transactions": [
                    {"type": "850", "control_number": "0001", "status": "accepted"},
                    {"type": "850", "control_number": "0002", "status": "rejected", "code": "4"},
                ],
            },
            {
                "functional_id": "IN",
                "control_number": "166",
                "status": "accepted",
                "included": 1,
                "received": 1,
                "accepted": 1,
                "transactions": [{"type": "810", "control_number": "0003", "status": "accepted"}],
            },
        ]
        ack = {
            "document": "acknowledgement",
            "interchange_control_number": "000000020",
            "interchange_status": "accepted",
            "groups": groups,
        }
        body = x12.encode({**ack, "#envelope": {**ENVELOPE, "transactions": [7, 8]}}, {})
        interchange = self.only(x12, body)
        self.assertEqual([t["type"] for t in transactions(interchange)], ["997", "997"], "one 997 per group")
        self.assertEqual([t["document"]["groups"][0] for t in transactions(interchange)], groups)
        self.assertEqual(
            interchange["interchange_acknowledgements"][0]["interchange_control_number"], "000000020"
        )
        implementation = x12.encode(
            {**ack, "#envelope": {**ENVELOPE, "transactions": [7, 8], "acknowledgement_type": "999"}}, {}
        )
        self.assertEqual([t["type"] for t in transactions(self.only(x12, implementation))], ["999", "999"])
        with self.assertRaisesRegex(FormatError, "need as many control numbers"):
            x12.encode({**ack, "#envelope": ENVELOPE}, {})
        control = {
            "document": "acknowledgement",
            "interchange_control_number": "807",
            "interchange_status": "rejected",
            "interchange_code": "13",
            "interchange_sender": "12345678",
            "interchange_receiver": "WBDZDD",
            "transactions": [{"control_number": "1", "type": "ORDERS", "status": "accepted"}],
        }
        read = transactions(self.only(edifact, edifact.encode({**control, "#envelope": ENVELOPE}, {})))[0]
        self.assertEqual(read["type"], "CONTRL")
        self.assertEqual(read["document"], control)

    def test_a_ta1_alone_rejects_an_interchange_that_had_no_group(self):
        ta1 = {
            "document": "acknowledgement",
            "interchange_control_number": "000000042",
            "interchange_status": "rejected",
            "interchange_code": "006",
        }
        body = x12.encode({**ta1, "#envelope": {**ENVELOPE, "transactions": []}}, {}).decode()
        self.assertNotIn("GS*", body)
        self.assertIn("\nTA1*000000042***R*006~\nIEA*0*000000007~", body)
        interchange = self.only(x12, body.encode())
        self.assertEqual((interchange["problems"], interchange["groups"]), ([], []))
        self.assertEqual(interchange["interchange_acknowledgements"][0]["interchange_code"], "006")
        with self.assertRaisesRegex(FormatError, "at least one transaction set or a TA1"):
            x12.encode(
                {"document": "acknowledgement", "groups": [], "#envelope": {**ENVELOPE, "transactions": []}},
                {},
            )

    def test_codecs_are_registered(self):
        self.assertIn("x12", formats.names())
        self.assertIn("edifact", formats.names())
        self.assertEqual(formats.content_type("edifact"), "application/edifact")
