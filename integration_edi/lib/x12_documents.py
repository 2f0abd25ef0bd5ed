# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The X12 004010 transaction sets we exchange, as tables (see ``tables``).

The canonical documents are the same for EDIFACT (``edifact_documents``):
processors read an ``order`` or write a ``despatch_advice`` without knowing
the standard. Only the segments a supply chain uses are named; others are
skipped when read.
"""

from .tables import Document, Loop, Seg

ITEM_CODES = (
    6,
    "elements",
    {
        "BP": "buyer_item",
        "IN": "buyer_item",
        "VN": "vendor_item",
        "VP": "vendor_item",
        "EN": "gtin",
        "UP": "gtin",
        "UK": "gtin",
        "CB": "buyer_catalog",
        "LT": "lot",
    },
)
LINE_ITEM_CODES = (2, *ITEM_CODES[1:])
ROLES = {
    "BY": "buyer",
    "SE": "seller",
    "SU": "seller",
    "ST": "ship_to",
    "BT": "bill_to",
    "SF": "ship_from",
    "RE": "remit_to",
}
DESCRIPTION = Seg("PID", {5: "description"}, when=((1, "F"),))
PARTIES = Loop(
    "parties",
    (
        Seg("N1", {1: ("role", ROLES), 2: "name", 3: "id_qualifier", 4: "id"}),
        Seg("N3", {1: "street", 2: "street2"}),
        Seg("N4", {1: "city", 2: "state", 3: "zip", 4: "country"}),
    ),
)
CURRENCY = Seg("CUR", {1: "currency_entity", 2: "currency"})
LINE_STATUS = {"IA": "accepted", "IC": "changed", "IQ": "changed", "IR": "rejected", "IB": "backordered"}
ORDER_STATUS = {"AD": "accepted", "AC": "changed", "RD": "rejected", "AK": "accepted", "AT": "accepted"}
ACK_STATUS = {"A": "accepted", "E": "accepted_with_errors", "R": "rejected"}
GROUP_ACK_STATUS = {**ACK_STATUS, "P": "partially_accepted"}


def _line(tag):
    """PO1 / IT1: a line's number, quantity, unit, price and item codes, alike in 850, 855 and 810."""
    return Seg(
        tag, {1: "line", 2: ("quantity", "number"), 3: "unit", 4: ("price", "number")}, idents=ITEM_CODES
    )


ORDER = Document(
    "order",
    "850",
    (
        Seg(
            "BEG",
            {
                1: ("purpose", {"00": "original", "01": "cancellation", "05": "replace"}),
                2: "order_type",
                3: "number",
                5: ("date", "date"),
            },
        ),
        CURRENCY,
        Seg("DTM", {2: ("requested_date", "date")}, when=((1, "002"),)),
        PARTIES,
        Loop(
            "lines",
            (
                _line("PO1"),
                DESCRIPTION,
            ),
        ),
        Seg("CTT", count=(1, "lines")),
    ),
    functional_id="PO",
    required=("number", "lines"),
)

ORDER_RESPONSE = Document(
    "order_response",
    "855",
    (
        Seg(
            "BAK",
            {
                2: ("status", ORDER_STATUS),
                3: "order_number",
                4: ("order_date", "date"),
                8: "number",
                9: ("date", "date"),
            },
            sets=((1, "00"),),
        ),
        CURRENCY,
        PARTIES,
        Loop(
            "lines",
            (
                _line("PO1"),
                DESCRIPTION,
                Seg(
                    "ACK",
                    {1: ("status", LINE_STATUS), 2: ("accepted_quantity", "number"), 3: "accepted_unit"},
                ),
            ),
        ),
        Seg("CTT", count=(1, "lines")),
    ),
    functional_id="PR",
    required=("order_number",),
)

DESPATCH_ADVICE = Document(
    "despatch_advice",
    "856",
    (
        Seg("BSN", {2: "number", 3: ("date", "date"), 4: ("time", "time")}, sets=((1, "00"),)),
        Seg("DTM", {2: ("shipped_date", "date")}, when=((1, "011"),)),
        Seg("HL", {}, when=((3, "S"),), sets=((4, "1"),)),
        Seg("TD1", {1: "packaging", 2: ("package_count", "number")}),
        Seg("TD5", {3: "carrier"}, sets=((2, "2"),)),
        Seg("REF", {2: "bill_of_lading"}, when=((1, "BM"),)),
        Seg("REF", {2: "tracking_number"}, when=((1, "CN"),)),
        PARTIES,
        Seg("HL", {}, when=((3, "O"),), sets=((4, "1"),)),
        Seg("PRF", {1: "order_number", 4: ("order_date", "date")}),
        Loop(
            "packages",
            (
                Seg("HL", {}, when=((3, "P"),), sets=((4, "1"),)),
                Seg("MAN", {2: "sscc"}, when=((1, "GM"),)),
                Loop(
                    "lines",
                    (
                        Seg("HL", {}, when=((3, "I"),), sets=((4, "0"),)),
                        Seg("LIN", {1: "line"}, idents=LINE_ITEM_CODES),
                        Seg("SN1", {2: ("quantity", "number"), 3: "unit"}),
                        DESCRIPTION,
                    ),
                ),
            ),
        ),
    ),
    functional_id="SH",
    required=("number",),
)

INVOICE = Document(
    "invoice",
    "810",
    (
        Seg("BIG", {1: ("date", "date"), 2: "number", 3: ("order_date", "date"), 4: "order_number"}),
        CURRENCY,
        PARTIES,
        Seg("ITD", {12: "payment_terms"}),
        Seg("DTM", {2: ("shipped_date", "date")}, when=((1, "011"),)),
        Loop(
            "lines",
            (
                _line("IT1"),
                DESCRIPTION,
            ),
        ),
        Seg("TDS", {1: ("total", "n2")}),
        Seg("TXI", {1: "tax_type", 2: ("tax_amount", "number"), 3: ("tax_rate", "number")}),
        Seg("CTT", count=(1, "lines")),
    ),
    functional_id="IN",
    required=("number", "lines"),
)


def _acknowledgement(transaction_type, response_tag):
    return Document(
        "acknowledgement",
        transaction_type,
        (
            Loop(
                "groups",
                (
                    Seg("AK1", {1: "functional_id", 2: "control_number", 3: "version"}),
                    Loop(
                        "transactions",
                        (
                            Seg("AK2", {1: "type", 2: "control_number"}),
                            Seg(response_tag, {1: ("status", ACK_STATUS), 2: "code"}),
                        ),
                    ),
                    Seg(
                        "AK9",
                        {
                            1: ("status", GROUP_ACK_STATUS),
                            2: ("included", "number"),
                            3: ("received", "number"),
                            4: ("accepted", "number"),
                            5: "code",
                        },
                    ),
                ),
            ),
        ),
        functional_id="FA",
        required=("groups",),
    )


FUNCTIONAL_ACKNOWLEDGEMENT = _acknowledgement("997", "AK5")
IMPLEMENTATION_ACKNOWLEDGEMENT = _acknowledgement("999", "IK5")

BY_TYPE = {
    table.type: table
    for table in (
        ORDER,
        ORDER_RESPONSE,
        DESPATCH_ADVICE,
        INVOICE,
        FUNCTIONAL_ACKNOWLEDGEMENT,
        IMPLEMENTATION_ACKNOWLEDGEMENT,
    )
}
BY_NAME = {
    table.name: table
    for table in (ORDER, ORDER_RESPONSE, DESPATCH_ADVICE, INVOICE, FUNCTIONAL_ACKNOWLEDGEMENT)
}
