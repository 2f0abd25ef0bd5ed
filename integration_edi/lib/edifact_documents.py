# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The EDIFACT messages we exchange (D96A to D01B, EANCOM subsets), as tables (see ``tables``).

They read into the same canonical documents as X12 (``x12_documents``). The
segments named are those the EANCOM subsets use in all of D96A, D97A, D97B
and D01B, so one table serves the versions retail partners still send.
"""

from .tables import Document, Loop, Seg

ROLES = {
    "BY": "buyer",
    "SU": "seller",
    "SE": "seller",
    "DP": "ship_to",
    "ST": "ship_to",
    "IV": "bill_to",
    "SF": "ship_from",
}
BUYER_VENDOR = {"SA": "vendor_item", "IN": "buyer_item", "BP": "buyer_item"}
PARTIES = Loop(
    "parties", (Seg("NAD", {1: ("role", ROLES), (2, 1): "id", (2, 3): "id_qualifier", (4, 1): "name"}),)
)
LINE_ITEM = Seg(
    "LIN", {1: "line"}, idents=(3, "composites", {"EN": "gtin", "SRV": "gtin", **BUYER_VENDOR}, 1)
)
ITEM_CODES = Seg(
    "PIA",
    idents=(2, "composites", {**BUYER_VENDOR, "NB": "lot"}),
    sets=((1, "1"),),
)
DESCRIPTION = Seg("IMD", {(3, 4): "description"}, sets=((1, "F"),))
PRICE = Seg("PRI", {(1, 2): ("price", "number"), (1, 5): ("price_basis", "number")}, when=(((1, 1), "AAA"),))
CURRENCY = Seg("CUX", {(1, 2): "currency"}, when=(((1, 1), "2"),))
ORDER_REFERENCE = Seg("RFF", {(1, 2): "order_number"}, when=(((1, 1), "ON"),))
SECTION_END = Seg("UNS", sets=((1, "S"),), always=True)
LINE_COUNT = Seg("CNT", count=((1, 2), "lines"), sets=(((1, 1), "2"),))


def _date(qualifier, name):
    return Seg("DTM", {(1, 2): (name, "dtm")}, when=(((1, 1), qualifier),))


def _quantity(qualifier, name="quantity"):
    return Seg("QTY", {(1, 2): (name, "number"), (1, 3): "unit"}, when=(((1, 1), qualifier),))


ORDER = Document(
    "order",
    "ORDERS",
    (
        Seg(
            "BGM",
            {2: "number", 3: ("purpose", {"9": "original", "1": "cancellation", "5": "replace"})},
            sets=(((1, 1), "220"),),
        ),
        _date("137", "date"),
        _date("2", "requested_date"),
        PARTIES,
        CURRENCY,
        Loop("lines", (LINE_ITEM, ITEM_CODES, DESCRIPTION, _quantity("21"), PRICE)),
        SECTION_END,
        LINE_COUNT,
    ),
    required=("number", "lines"),
)

ORDER_RESPONSE = Document(
    "order_response",
    "ORDRSP",
    (
        Seg(
            "BGM",
            {2: "number", 3: ("status", {"29": "accepted", "4": "changed", "27": "rejected"})},
            sets=(((1, 1), "231"),),
        ),
        _date("137", "date"),
        ORDER_REFERENCE,
        PARTIES,
        CURRENCY,
        Loop(
            "lines",
            (
                Seg(
                    "LIN",
                    {1: "line", 2: ("status", {"5": "accepted", "3": "changed", "7": "rejected"})},
                    idents=LINE_ITEM.idents,
                ),
                ITEM_CODES,
                DESCRIPTION,
                _quantity("21"),
                Seg(
                    "QTY",
                    {(1, 2): ("accepted_quantity", "number"), (1, 3): "accepted_unit"},
                    when=(((1, 1), "113"),),
                ),
                PRICE,
            ),
        ),
        SECTION_END,
        LINE_COUNT,
    ),
    required=("order_number",),
)

DESPATCH_ADVICE = Document(
    "despatch_advice",
    "DESADV",
    (
        Seg("BGM", {2: "number"}, sets=(((1, 1), "351"), (3, "9"))),
        _date("137", "date"),
        _date("11", "shipped_date"),
        ORDER_REFERENCE,
        Seg("RFF", {(1, 2): "bill_of_lading"}, when=(((1, 1), "BM"),)),
        PARTIES,
        Loop(
            "packages",
            (
                Seg("CPS", always=True),  # numbered when written
                Seg("GIN", {(2, 1): "sscc"}, when=((1, "BJ"),)),
                Loop("lines", (LINE_ITEM, ITEM_CODES, DESCRIPTION, _quantity("12"))),
            ),
        ),
        LINE_COUNT,
    ),
    required=("number",),
)

INVOICE = Document(
    "invoice",
    "INVOIC",
    (
        Seg("BGM", {(1, 1): "document_code", 2: "number"}, sets=(((1, 1), "380"), (3, "9"))),
        _date("137", "date"),
        _date("35", "shipped_date"),
        ORDER_REFERENCE,
        PARTIES,
        CURRENCY,
        Loop(
            "lines",
            (
                LINE_ITEM,
                ITEM_CODES,
                DESCRIPTION,
                _quantity("47"),
                Seg("MOA", {(1, 2): ("amount", "number")}, when=(((1, 1), "203"),)),
                PRICE,
            ),
        ),
        SECTION_END,
        Seg("MOA", {(1, 2): ("total", "number")}, when=(((1, 1), "77"),)),
        Seg("MOA", {(1, 2): ("untaxed_total", "number")}, when=(((1, 1), "79"),)),
        Seg("MOA", {(1, 2): ("tax_amount", "number")}, when=(((1, 1), "124"),)),
        Seg("TAX", {2: "tax_type", (5, 4): ("tax_rate", "number")}, sets=((1, "7"),)),
        LINE_COUNT,
    ),
    required=("number", "lines"),
)

ACTIONS = {"7": "accepted", "4": "rejected", "8": "received"}
_MESSAGE_ACK = Seg("UCM", {1: "control_number", (2, 1): "type", 3: ("status", ACTIONS), 4: "code"})

CONTROL = Document(
    "acknowledgement",
    "CONTRL",
    (
        Seg(
            "UCI",
            {
                1: "interchange_control_number",
                (2, 1): "interchange_sender",
                (3, 1): "interchange_receiver",
                4: ("interchange_status", ACTIONS),
                5: "interchange_code",
            },
        ),
        Loop("transactions", (_MESSAGE_ACK,)),
        Loop(
            "groups",
            (
                Seg("UCF", {1: "control_number", 4: ("status", ACTIONS), 5: "code"}),
                Loop("transactions", (_MESSAGE_ACK,)),
            ),
        ),
    ),
    required=("interchange_control_number",),
)

BY_TYPE = {table.type: table for table in (ORDER, ORDER_RESPONSE, DESPATCH_ADVICE, INVOICE, CONTROL)}
BY_NAME = {table.name: table for table in BY_TYPE.values()}
