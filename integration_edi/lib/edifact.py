# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""UN/EDIFACT interchanges: UNA/UNB/UNG/UNH envelopes read, checked and written; the codec ``edifact``.

The delimiters are the UNA's when the interchange starts with one (component,
element, decimal mark, release, repetition, terminator, in that order), else
the standard's defaults ``:+.? '``. The release character lets data hold a
delimiter (``006?+415`` reads ``006+415``) and is written wherever data needs
it. Groups (UNG/UNE) are optional; an interchange uses them for all its
messages or for none.

Why not ``pydifact``: its 0.2.3 tokenizer reads UNA and the release character,
but it checked none of the envelope problems of our samples (a wrong UNT
count, a missing UNZ), refused UNG/UNE groups, and ships no directories for
D96A / D97A / D97B, the versions retail partners send. The syntax it would
save us is the part we share with X12 (``syntax``); the envelopes must be
ours for either standard, so the suite has no alpha dependency.
"""

from datetime import datetime

from odoo.addons.integration_base.lib.formats import ENVELOPE_KEY, FormatError

from . import tables
from .edifact_documents import BY_NAME, BY_TYPE
from .interchange import Interchange, Syntax, check_structure, error
from .syntax import Delimiters, parse_segment, render_segment, split_segments, text_of

CONTENT_TYPES = ("application/edifact",)

DEFAULT_DELIMITERS = Delimiters(segment="'", element="+", component=":", release="?", decimal=".")
UNA_LENGTH = 9
# The character sets of UNB S001 and the Python codec that writes each.
ENCODINGS = {"UNOA": "ascii", "UNOB": "ascii", "UNOC": "latin-1", "UNOW": "utf-8", "UNOY": "utf-8"}
MISSING = "13"


SYNTAX = Syntax(
    interchange_trailer="UNZ",
    group_header="UNG",
    group_trailer="UNE",
    transaction_header="UNH",
    transaction_trailer="UNT",
    group_fields={
        "functional_id": (1,),
        "control_number": (5,),
        "sender": (2, 1),
        "receiver": (3, 1),
        "version": [(7, 1), (7, 2)],
    },
    transaction_fields={"type": (2, 1), "control_number": (1,), "version": [(2, 2), (2, 3)]},
    # Syntax error codes (0085): 2 not supported, 13 missing, 28 references do not match,
    # 29 control count does not match, 33 invalid occurrence outside message, group or interchange.
    codes={
        "interchange_count": "29",
        "interchange_reference": "28",
        "interchange_trailer": MISSING,
        "structure": "33",
        "group_count": "29",
        "group_reference": "28",
        "group_trailer": MISSING,
        "transaction_count": "29",
        "transaction_reference": "28",
        "transaction_trailer": MISSING,
        "not_supported": "2",
        "document": MISSING,
    },
    implicit_groups=True,
)


def decode(body, options):
    """One document per interchange of ``body``: its envelopes, problems and documents read."""
    return [found.decoded(BY_TYPE, SYNTAX) for found in read(body, options)]


def read(body, options=None):
    """The :class:`~.interchange.Interchange` objects of ``body``, their envelopes checked."""
    text = text_of(body, (options or {}).get("encoding"))
    interchanges, number, start = [], 0, 0
    while True:
        rest = text[start:].lstrip()
        if not rest:
            break
        start = len(text) - len(rest)
        delimiters = DEFAULT_DELIMITERS
        if rest.startswith("UNA"):
            delimiters = read_una(rest, number + 1)
            start += UNA_LENGTH
            number += 1
        segments, start = _segments_of_interchange(text, start, delimiters, number)
        if not segments or segments[0].tag != "UNB":
            where = segments[0].position if segments else f"segment {number + 1}"
            raise FormatError("an EDIFACT interchange starts with UNA or UNB", where)
        number += len(segments)
        interchanges.append(_checked(segments, delimiters, number))
    if not interchanges:
        raise FormatError("the file holds no EDIFACT interchange", "segment 1")
    return interchanges


def read_una(text, number):
    position = f"segment {number} (UNA)"
    if len(text) < UNA_LENGTH:
        raise FormatError("the UNA service string advice is cut short", position)
    component, element, decimal, release, repetition, terminator = text[3:UNA_LENGTH]
    declared = [component, element, release, terminator] + ([repetition] if repetition != " " else [])
    if len(set(declared)) < len(declared) or decimal not in ".,":
        raise FormatError(f"the UNA '{text[:UNA_LENGTH]}' declares one character for two purposes", position)
    return Delimiters(
        segment=terminator,
        element=element,
        component=component,
        release=release if release != " " else "",
        repetition=repetition if repetition != " " else "",
        decimal=decimal,
    )


def _segments_of_interchange(text, start, delimiters, number):
    segments = []
    for piece_offset, piece in split_segments(text[start:], delimiters.segment, delimiters.release):
        if segments and piece[:3] in ("UNA", "UNB"):
            return segments, start + piece_offset  # a new interchange: this one had no UNZ
        segment = parse_segment(piece, delimiters, number + len(segments) + 1)
        segments.append(segment)
        if segment.tag == "UNZ":
            return segments, start + piece_offset + len(piece) + len(delimiters.segment)
    return segments, len(text)


def _checked(segments, delimiters, last_number):
    unb = segments[0]
    found = Interchange(
        standard="edifact",
        control_number=unb.element(5),
        header=unb,
        sender={"id": unb.element(2, 1), "qualifier": unb.element(2, 2)},
        receiver={"id": unb.element(3, 1), "qualifier": unb.element(3, 2)},
        version=":".join(part for part in (unb.element(1, 1), unb.element(1, 2)) if part),
        test=unb.element(11) == "1",
        date=_unb_moment(unb),
    )
    found.delimiters = delimiters
    if not found.control_number:
        found.errors.append(
            error(unb, "interchange", "the UNB gives no interchange control reference", MISSING)
        )
    return check_structure(found, segments[1:], SYNTAX, last_number + 1)


def _unb_moment(unb):
    day, time = unb.element(4, 1), unb.element(4, 2)
    layout = "%Y%m%d%H%M" if len(day) == 8 else "%y%m%d%H%M"
    try:
        return datetime.strptime(day + time, layout).isoformat(timespec="minutes")
    except ValueError:
        return ""


# ----------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------


def encode(payload, options):
    """One interchange holding ``payload``'s document (a message), enveloped as its ``#envelope`` says.

    The envelope gives ``sender``/``receiver`` (``{"id", "qualifier"}``),
    ``interchange`` (UNB 0020) and ``transactions`` (one UNH 0062 per message
    written), ``syntax`` (UNB S001, ``UNOC:3``), ``version`` (the message's
    ``D:96A:UN``) and ``association`` (``EAN008``), ``test``, ``date`` and
    ``delimiters``; the UNA is written when they are not the defaults.
    """
    document = {key: value for key, value in payload.items() if key != ENVELOPE_KEY}
    facts = payload.get(ENVELOPE_KEY) or {}
    table = BY_NAME.get(document.get("document"))
    if table is None:
        raise FormatError(f"EDIFACT cannot carry a '{document.get('document')}' document", "document")
    delimiters = _delimiters(facts.get("delimiters"), options)
    numbers = [str(number) for number in facts.get("transactions") or []]
    if len(numbers) != 1 or not facts.get("interchange"):
        raise FormatError(
            "an EDIFACT interchange needs its control reference and one message reference", "#envelope"
        )
    moment = datetime.fromisoformat(facts["date"]) if facts.get("date") else datetime.now()
    syntax = facts.get("syntax") or "UNOC:3"
    encoding = ENCODINGS.get(syntax.split(":")[0], "latin-1")
    version = (facts.get("version") or "D:96A:UN").split(":")
    if table.name == "acknowledgement":
        version = ["4", "1", "UN"]  # CONTRL belongs to the syntax directory, not to the partner's
    message_id = [table.type, *version] + (
        [facts["association"]] if facts.get("association") and table.name != "acknowledgement" else []
    )
    sender, receiver = facts.get("sender") or {}, facts.get("receiver") or {}
    body = _number_packages(tables.write(table, document, delimiters.decimal))
    rows = [
        (
            "UNB",
            [
                syntax.split(":"),
                [sender.get("id", ""), sender.get("qualifier", "")],
                [receiver.get("id", ""), receiver.get("qualifier", "")],
                [moment.strftime("%y%m%d"), moment.strftime("%H%M")],
                str(facts["interchange"]),
                "",
                "",
                "",
                "",
                "",
                "1" if facts.get("test") else "",
            ],
        ),
        ("UNH", [numbers[0], message_id]),
        *body,
        ("UNT", [str(len(body) + 2), numbers[0]]),
        ("UNZ", ["1", str(facts["interchange"])]),
    ]
    line_end = "\n" if facts.get("line_breaks", True) else ""
    text = "".join(render_segment(tag, elements, delimiters) + line_end for tag, elements in rows)
    if delimiters != DEFAULT_DELIMITERS:
        text = _una(delimiters) + line_end + text
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as problem:
        raise FormatError(
            f"'{problem.object[problem.start : problem.end]}' cannot be written in {syntax}", "#envelope"
        ) from problem


def _number_packages(rows):
    """CPS 7164: each package of a despatch advice numbered in turn, under the consignment (1)."""
    count = 1
    numbered = []
    for tag, elements in rows:
        if tag == "CPS":
            count += 1
        numbered.append((tag, [str(count), "1"] if tag == "CPS" else elements))
    return numbered


def _delimiters(given, options):
    values = {
        "segment": "'",
        "element": "+",
        "component": ":",
        "release": "?",
        "decimal": ".",
        **(options.get("delimiters") or {}),
        **(given or {}),
    }
    return Delimiters(
        segment=values["segment"],
        element=values["element"],
        component=values["component"],
        release=values["release"],
        decimal=values["decimal"],
    )


def _una(delimiters):
    return "UNA" + "".join(
        [
            delimiters.component,
            delimiters.element,
            delimiters.decimal,
            delimiters.release or " ",
            delimiters.repetition or " ",
            delimiters.segment,
        ]
    )
