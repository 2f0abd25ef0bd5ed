# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ASC X12 interchanges: ISA/GS/ST envelopes read, checked and written; the codec ``x12``.

The delimiters are the ISA's own, as the standard says: the element
separator is its fourth character, the component separator its sixteenth
element and the segment terminator the character after it; from version
00402 on, ISA11 is the repetition separator. Line breaks after terminators,
a byte order mark and several interchanges in one file are accepted.

Why our own layer: no maintained, permissive Python library reads and writes
the supply-chain documents (850, 855, 856, 810); ``pyx12`` validates
envelopes and healthcare maps only. X12 syntax is small, so this module is
too, and the documents are tables (``x12_documents``) read and written by
``tables``.
"""

from datetime import datetime

from odoo.addons.integration_base.lib.formats import ENVELOPE_KEY, FormatError

from . import tables
from .interchange import Interchange, Syntax, check_structure, error
from .syntax import Delimiters, Literal, parse_segment, render_segment, split_segments, text_of
from .x12_documents import BY_NAME, BY_TYPE, FUNCTIONAL_ACKNOWLEDGEMENT, IMPLEMENTATION_ACKNOWLEDGEMENT

CONTENT_TYPES = ("application/edi-x12",)

ISA_ELEMENTS = 16
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
DEFAULT_DELIMITERS = Delimiters(segment="~", element="*", component=">", repetition="^")

TA1_CONTROL_STRUCTURE = "022"


SYNTAX = Syntax(
    interchange_trailer="IEA",
    group_header="GS",
    group_trailer="GE",
    transaction_header="ST",
    transaction_trailer="SE",
    group_fields={
        "functional_id": (1,),
        "control_number": (6,),
        "sender": (2,),
        "receiver": (3,),
        "version": (8,),
    },
    transaction_fields={"type": (1,), "control_number": (2,), "version": (3,)},
    # The codes of TA105 (interchange), AK905 (group) and AK502 (transaction set) of X12 004010.
    codes={
        "interchange_count": "021",
        "interchange_reference": "001",
        "interchange_trailer": "023",
        "structure": TA1_CONTROL_STRUCTURE,
        "group_count": "5",
        "group_reference": "4",
        "group_trailer": "3",
        "transaction_count": "4",
        "transaction_reference": "3",
        "transaction_trailer": "2",
        "not_supported": "1",
        "document": "5",
    },
    ignored=("TA1",),
)


def decode(body, options):
    """One document per interchange of ``body``: its envelopes, problems and documents read."""
    return [found.decoded(BY_TYPE, SYNTAX) for found in read(body, options)]


def read(body, options=None):
    """The :class:`~.interchange.Interchange` objects of ``body``, their envelopes checked."""
    text = text_of(body, (options or {}).get("encoding"))
    start = len(text) - len(text.lstrip())
    if not text.startswith("ISA", start):
        raise FormatError("an X12 interchange starts with an ISA segment", "segment 1")
    interchanges, number = [], 0
    while start < len(text):
        delimiters = read_delimiters(text, start, number + 1)
        segments, start = _segments_of_interchange(text, start, delimiters, number)
        number += len(segments)
        interchanges.append(_checked(segments, delimiters, number))
        rest = text[start:].lstrip()
        if rest and not rest.startswith("ISA"):
            found = interchanges[-1]
            found.errors.append(
                error(
                    None,
                    "interchange",
                    "the file goes on after the IEA without an ISA",
                    TA1_CONTROL_STRUCTURE,
                    number + 1,
                )
            )
            break
        start = len(text) - len(rest)
    return interchanges


def read_delimiters(text, start, number):
    """The delimiters an ISA at ``start`` declares."""
    position = f"segment {number} (ISA)"
    if len(text) < start + 4:
        raise FormatError("the ISA segment is cut short", position)
    element = text[start + 3]
    index = start
    for _ in range(ISA_ELEMENTS):
        index = text.find(element, index + 1)
        if index < 0:
            raise FormatError(f"the ISA segment does not have its {ISA_ELEMENTS} elements", position)
    if len(text) < index + 3:
        raise FormatError("the ISA segment ends before its segment terminator", position)
    component, terminator = text[index + 1], text[index + 2]
    isa = text[start:index].split(element)
    repetition = isa[11] if isa[12] >= "00402" and not isa[11].isalnum() else ""
    if len({element, component, terminator, repetition} - {""}) < (4 if repetition else 3):
        raise FormatError("the ISA declares the same character for two delimiters", position)
    return Delimiters(segment=terminator, element=element, component=component, repetition=repetition)


def _segments_of_interchange(text, start, delimiters, number):
    """The segments from the ISA at ``start`` to its IEA (or to the next ISA, or the end of the file)."""
    segments = []
    offset = start
    for piece_offset, piece in split_segments(text[start:], delimiters.segment):
        if segments and piece.startswith("ISA") and not piece[3:4].isalnum():
            return segments, start + piece_offset  # a new interchange: this one had no IEA
        segment = parse_segment(piece, delimiters, number + len(segments) + 1)
        segments.append(segment)
        offset = start + piece_offset + len(piece) + len(delimiters.segment)
        if segment.tag == "IEA":
            return segments, offset
    return segments, len(text)


def _checked(segments, delimiters, last_number):
    """The interchange of ``segments``, every envelope problem recorded where it is."""
    isa = segments[0]
    found = Interchange(
        standard="x12",
        control_number=isa.element(13).strip(),
        header=isa,
        sender={"qualifier": isa.element(5).strip(), "id": isa.element(6).strip()},
        receiver={"qualifier": isa.element(7).strip(), "id": isa.element(8).strip()},
        version=isa.element(12),
        test=isa.element(15) == "T",
        date=_isa_moment(isa),
    )
    found.delimiters = delimiters
    problems = found.errors
    if len(isa.elements) != ISA_ELEMENTS:
        problems.append(
            error(
                isa, "interchange", f"the ISA has {len(isa.elements)} elements, not 16", TA1_CONTROL_STRUCTURE
            )
        )
    if not (found.control_number.isdigit() and len(found.control_number) == 9):
        problems.append(error(isa, "interchange", "ISA13 must be a nine-digit control number", "018"))
    if isa.element(15) not in ("P", "T"):
        problems.append(error(isa, "interchange", "ISA15 must be P (production) or T (test)", "020"))
    found.acknowledgements = [
        {
            "interchange_control_number": segment.element(1),
            "interchange_status": {"A": "accepted", "E": "accepted_with_errors", "R": "rejected"}.get(
                segment.element(4), segment.element(4)
            ),
            "interchange_code": segment.element(5),
        }
        for segment in segments
        if segment.tag == "TA1"
    ]
    return check_structure(found, segments[1:], SYNTAX, last_number + 1)


def _isa_moment(isa):
    try:
        return datetime.strptime(isa.element(9) + isa.element(10), "%y%m%d%H%M").isoformat(timespec="minutes")
    except ValueError:
        return ""


# ----------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------


def encode(payload, options):
    """One interchange holding ``payload``'s document, enveloped as its ``#envelope`` says.

    The envelope gives the partner's profile and the control numbers the
    engine assigned: ``sender``/``receiver`` (``{"qualifier", "id"}``),
    ``interchange``, ``group`` and ``transactions`` (one control number per
    transaction set written), ``test``, ``version`` (ISA12, ``00401``),
    ``group_version`` (GS08, ``004010``), ``date`` (ISO date and time) and
    ``delimiters``. An acknowledgement of several groups is one 997 per group.
    """
    document = {key: value for key, value in payload.items() if key != ENVELOPE_KEY}
    facts = payload.get(ENVELOPE_KEY) or {}
    table = BY_NAME.get(document.get("document"))
    if table is FUNCTIONAL_ACKNOWLEDGEMENT and facts.get("acknowledgement_type") == "999":
        table = IMPLEMENTATION_ACKNOWLEDGEMENT
    if table is None:
        raise FormatError(f"X12 cannot carry a '{document.get('document')}' document", "document")
    delimiters = _delimiters(facts.get("delimiters"), options)
    bodies = [document] if table.name != "acknowledgement" else _acknowledged_groups(document)
    numbers = [str(number) for number in facts.get("transactions") or []]
    if len(numbers) != len(bodies):
        raise FormatError(
            f"{len(bodies)} transaction set(s) need as many control numbers, got {len(numbers)}", "#envelope"
        )
    moment = datetime.fromisoformat(facts["date"]) if facts.get("date") else datetime.now()
    interchange_number = str(facts.get("interchange") or "").zfill(9)
    group_number = str(facts.get("group") or "")
    if not bodies and not document.get("interchange_status"):
        raise FormatError("an interchange holds at least one transaction set or a TA1", "document")
    if not (
        interchange_number.isdigit()
        and len(interchange_number) == 9
        and (group_number.isdigit() or not bodies)
    ):
        raise FormatError("the interchange and group control numbers must be numbers", "#envelope")
    sender, receiver = facts.get("sender") or {}, facts.get("receiver") or {}
    rows = [
        ("ISA", _isa_elements(sender, receiver, moment, interchange_number, facts, delimiters)),
        (
            "GS",
            [
                table.functional_id,
                sender.get("id", ""),
                receiver.get("id", ""),
                moment.strftime("%Y%m%d"),
                moment.strftime("%H%M"),
                group_number,
                "X",
                facts.get("group_version") or "004010",
            ],
        ),
    ]
    if document.get("interchange_status"):
        rows.insert(1, ("TA1", _ta1_elements(document)))
    for number, body in zip(numbers, bodies, strict=True):
        segments = _number_hierarchy(tables.write(table, body))
        rows.append(("ST", [table.type, number]))
        rows += segments
        rows.append(("SE", [str(len(segments) + 2), number]))
    if bodies:
        rows.append(("GE", [str(len(bodies)), group_number]))
    else:
        del rows[-1]  # a TA1 alone: an interchange that had no group to acknowledge (no GS, no GE)
    rows.append(("IEA", ["1" if bodies else "0", interchange_number]))
    line_end = "\n" if facts.get("line_breaks", True) and delimiters.segment not in "\r\n" else ""
    return "".join(render_segment(tag, elements, delimiters) + line_end for tag, elements in rows).encode(
        "ascii", "replace"
    )


def _delimiters(given, options):
    values = {
        **{"segment": "~", "element": "*", "component": ">", "repetition": "^"},
        **(options.get("delimiters") or {}),
        **(given or {}),
    }
    return Delimiters(
        segment=values["segment"],
        element=values["element"],
        component=values["component"],
        repetition=values["repetition"],
    )


def _isa_elements(sender, receiver, moment, number, facts, delimiters):
    version = facts.get("version") or "00401"
    values = [
        "00",
        "",
        "00",
        "",
        sender.get("qualifier") or "ZZ",
        sender.get("id", ""),
        receiver.get("qualifier") or "ZZ",
        receiver.get("id", ""),
        moment.strftime("%y%m%d"),
        moment.strftime("%H%M"),
        delimiters.repetition if version >= "00402" else "U",
        version,
        number,
        "1" if facts.get("ask_acknowledgement", True) else "0",
        "T" if facts.get("test") else "P",
    ]
    for index, (value, width) in enumerate(zip(values, ISA_WIDTHS, strict=False)):
        if len(value) > width:
            raise FormatError(
                f"ISA{index + 1:02d} '{value}' is longer than {width} characters", "segment ISA"
            )
    padded = [value.ljust(width) for value, width in zip(values, ISA_WIDTHS, strict=False)]
    padded[10] = Literal(padded[10])
    return [*padded, Literal(delimiters.component)]


def _ta1_elements(document):
    """TA1: the interchange acknowledged as a whole (accepted, or rejected with the TA105 code)."""
    acknowledged = document.get("interchange_date") or ""
    moment = datetime.fromisoformat(acknowledged) if acknowledged else None
    return [
        str(document.get("interchange_control_number") or "").zfill(9),
        moment.strftime("%y%m%d") if moment else "",
        moment.strftime("%H%M") if moment else "",
        "A" if document["interchange_status"] == "accepted" else "R",
        document.get("interchange_code") or "000",
    ]


HIERARCHY = ("S", "O", "P", "I")


def _number_hierarchy(rows):
    """HL01 and HL02 filled in: each level's parent is the last HL of the level above it (856)."""
    numbered, last_of_level, count = [], {}, 0
    for tag, written in rows:
        elements = written
        if tag == "HL":
            level = elements[2]
            count += 1
            number = str(count)
            above = [
                last_of_level[code] for code in HIERARCHY[: HIERARCHY.index(level)] if code in last_of_level
            ]
            elements = [number, above[-1] if above else "", *elements[2:]]
            last_of_level[level] = number
            for code in HIERARCHY[HIERARCHY.index(level) + 1 :]:
                last_of_level.pop(code, None)
        numbered.append((tag, elements))
    return numbered


def _acknowledged_groups(document):
    """An acknowledgement document split into one body per acknowledged group (one 997 each)."""
    return [{**document, "groups": [group]} for group in document.get("groups") or []]
