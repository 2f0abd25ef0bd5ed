# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Documents described as tables of segments, read and written by the same description.

A document (an order, a despatch advice...) is a list of :class:`Seg` and
:class:`Loop` entries saying which element of which segment holds which field
of the canonical document. Reading walks the transaction's segments and fills
the fields; writing walks the table and renders the segments. One table per
document and standard (``x12_documents``, ``edifact_documents``) keeps the
two directions in step, so what we write reads back as it was
(round trip, tested), and a new document is a new table, not new code.

Positions count as the standards do: ``3`` is the third element, ``(3, 2)``
the second component of it. A field is a name, or ``(name, kind)`` where kind
is ``"number"``, ``"n2"`` (X12's amount with two implied decimals), ``"date"``
(X12 CCYYMMDD / YYMMDD), ``"time"`` (HHMM),
``"dtm"`` (an EDIFACT date whose format code, 102 or 203, is the next
component) or a dict from the standard's codes to canonical values (the first
code of a value is the one written).
"""

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Seg:
    """One segment kind: ``when`` are qualifiers it must carry, ``sets`` constants it is written with.

    ``idents`` reads product or party identifiers that come as qualified
    pairs: ``(first element, "elements" | "composites", {qualifier: field}[, how many written])``;
    X12 writes them as element pairs (``VN*AB3542*UP*0123``), EDIFACT as
    ``code:qualifier`` composites; a segment with room for one identifier
    (EDIFACT's LIN) writes the first one present.
    """

    tag: str
    fields: dict = field(default_factory=dict)
    when: tuple = ()
    sets: tuple = ()
    idents: tuple = ()
    count: tuple = ()  # (position, list field): written as the number of items of that list
    always: bool = False  # written even when no field fills it (EDIFACT's UNS section separator)

    def matches(self, segment):
        return segment.tag == self.tag and all(
            _value(segment, position) == value for position, value in self.when
        )


@dataclass(frozen=True)
class Loop:
    """A repeated group of segments whose first segment starts each item of the list ``name``."""

    name: str
    entries: tuple


@dataclass(frozen=True)
class Document:
    """A table: the canonical ``name`` (``order``), the standard's type (``850``, ``ORDERS``) and entries."""

    name: str
    type: str
    entries: tuple
    functional_id: str = ""  # X12 GS01 (PO, PR, SH, IN, FA)
    required: tuple = ()  # fields without which the document means nothing


def _positions(position):
    return position if isinstance(position, tuple) else (position, None)


def _value(segment, position):
    element, component = _positions(position)
    return segment.element(element, component)


# ----------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------


def read(document, segments, decimal="."):
    """The canonical dict of ``segments`` (a transaction's body) by ``document``; ``(dict, problems)``.

    Segments the table does not name are skipped: partners send more than a
    document needs. A required field that no segment gave is a problem,
    reported at the transaction's first segment.
    """
    values = {"document": document.name}
    stack = [(document.entries, values)]
    for segment in segments:
        for depth in range(len(stack) - 1, -1, -1):
            entry = _find(stack[depth][0], segment)
            if entry is not None:
                break
        else:
            continue
        del stack[depth + 1 :]
        target = stack[depth][1]
        if isinstance(entry, Loop):
            item = {}
            target.setdefault(entry.name, []).append(item)
            _read_segment(entry.entries[0], segment, item, decimal)
            stack.append((entry.entries[1:], item))
        else:
            _read_segment(entry, segment, target, decimal)
    missing = [name for name in document.required if values.get(name) in (None, "", [])]
    return values, [f"the {document.type} gives no {name.replace('_', ' ')}" for name in missing]


def _find(entries, segment):
    for entry in entries:
        first = entry.entries[0] if isinstance(entry, Loop) else entry
        if first.matches(segment):
            return entry
    return None


def _read_segment(spec, segment, target, decimal):
    for position, name_kind in spec.fields.items():
        name, kind = name_kind if isinstance(name_kind, tuple) else (name_kind, None)
        raw = _value(segment, position)
        if raw == "":
            continue
        target[name] = _read_value(raw, kind, segment, position, decimal)
    if spec.idents:
        start, layout, names, *_room = spec.idents
        for qualifier, code in _ident_pairs(segment, start, layout):
            if not code:
                continue
            if qualifier in names:
                target.setdefault(names[qualifier], code)
            else:
                target.setdefault("other_codes", {})[qualifier] = code


def _ident_pairs(segment, start, layout):
    if layout == "elements":
        for index in range(start, len(segment.elements) + 1, 2):
            yield segment.element(index), segment.element(index + 1)
    else:
        for index in range(start, len(segment.elements) + 1):
            yield segment.element(index, 2), segment.element(index, 1)


def _read_value(raw, kind, segment, position, decimal):
    if kind is None:
        return raw.strip()
    if isinstance(kind, dict):
        return kind.get(raw, raw)
    if kind == "dtm":
        element, component = _positions(position)
        return _edifact_datetime(raw, segment.element(element, (component or 1) + 1))
    return _READERS[kind](raw, decimal)


def _read_n2(raw, decimal):
    number = _number(raw, decimal)
    return round(number / 100, 2) if isinstance(number, int) else number


def _read_time(raw, _decimal):
    return f"{raw[:2]}:{raw[2:4]}" if len(raw) >= 4 and raw.isdigit() else raw


def _number(raw, decimal):
    text = raw.strip().replace(decimal, ".") if decimal != "." else raw.strip()
    try:
        number = float(text)
    except ValueError:
        return raw
    return int(number) if number.is_integer() and "." not in text else number


def _date(raw):
    layout = {8: "%Y%m%d", 6: "%y%m%d"}.get(len(raw))
    try:
        return datetime.strptime(raw, layout).date().isoformat() if layout else raw
    except ValueError:
        return raw


EDIFACT_DATE_FORMATS = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S", "101": "%y%m%d"}
EDIFACT_FORMAT_BY_LENGTH = {8: "102", 12: "203", 14: "204", 6: "101"}


_READERS = {
    "number": _number,
    "n2": _read_n2,
    "date": lambda raw, _decimal: _date(raw),
    "time": _read_time,
}


def _edifact_datetime(raw, format_code):
    """An EDIFACT date by its format code; a value of another length is read by its length, as partners
    do write ``199910060000`` under code 102."""
    declared = format_code or "102"
    if len(raw) != len(datetime(2000, 1, 1).strftime(EDIFACT_DATE_FORMATS.get(declared, "%Y%m%d"))):
        declared = EDIFACT_FORMAT_BY_LENGTH.get(len(raw), declared)
    try:
        moment = datetime.strptime(raw, EDIFACT_DATE_FORMATS.get(declared, ""))
    except ValueError:
        return raw
    if declared in ("203", "204"):
        return moment.isoformat(timespec="minutes" if declared == "203" else "seconds")
    return moment.date().isoformat()


# ----------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------


def write(document, values, decimal="."):
    """The segments ``[(tag, elements)]`` of the canonical ``values`` by ``document``."""
    return _write_entries(document.entries, values, decimal)


def _write_entries(entries, values, decimal):
    rows = []
    for entry in entries:
        if isinstance(entry, Loop):
            for item in values.get(entry.name) or []:
                rows.append(_write_segment(entry.entries[0], item, decimal, always=True))
                rows += _write_entries(entry.entries[1:], item, decimal)
        else:
            row = _write_segment(entry, values, decimal)
            if row is not None:
                rows.append(row)
    return rows


def _write_segment(spec, values, decimal, always=False):
    cells = {}
    filled = False
    for position, name_kind in spec.fields.items():
        name, kind = name_kind if isinstance(name_kind, tuple) else (name_kind, None)
        value = values.get(name)
        if value in (None, ""):
            continue
        filled = True
        cells.update(_write_value(value, kind, position, decimal))
    if spec.idents:
        start, layout, names, *room = spec.idents
        index = start
        written = set()
        for qualifier, name in names.items():
            code = values.get(name)
            if not code or name in written or (room and len(written) >= room[0]):
                continue
            written.add(name)
            filled = True
            if layout == "elements":
                cells[(index, None)], cells[(index + 1, None)] = qualifier, code
                index += 2
            else:
                cells[(index, 1)], cells[(index, 2)] = code, qualifier
                index += 1
    if spec.count:
        position, list_name = spec.count
        cells[_positions(position)] = str(len(values.get(list_name) or []))
        filled = True
    if not filled and not (always or spec.always):
        return None
    for position, value in (*spec.when, *spec.sets):
        cells.setdefault(_positions(position), value)
    return spec.tag, _elements(cells)


def _write_value(value, kind, position, decimal):
    element, component = _positions(position)
    if isinstance(kind, dict):
        code = next((code for code, canonical in kind.items() if canonical == value), value)
        return {(element, component): code}
    if kind == "dtm":
        text = str(value)
        with_time = "T" in text
        moment = datetime.fromisoformat(text) if with_time else _iso_date(text)
        return {
            (element, component): moment.strftime("%Y%m%d%H%M" if with_time else "%Y%m%d"),
            (element, (component or 1) + 1): "203" if with_time else "102",
        }
    writer = _WRITERS.get(kind, lambda value, _decimal: str(value))
    return {(element, component): writer(value, decimal)}


def _iso_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def format_number(value, decimal="."):
    """A number as EDI writes it: no exponent, no trailing zeros, the interchange's decimal mark."""
    if isinstance(value, str):
        return value
    text = f"{value:.6f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return text.replace(".", decimal) if decimal != "." else text


_WRITERS = {
    "number": format_number,
    "n2": lambda value, _decimal: str(round(float(value) * 100)),
    "date": lambda value, _decimal: _iso_date(value).strftime("%Y%m%d"),
    "time": lambda value, _decimal: str(value).replace(":", "")[:4],
}


def _elements(cells):
    """Cells ``{(element, component): value}`` as the element list of a segment."""
    if not cells:
        return []
    count = max(element for element, _component in cells)
    elements = []
    for index in range(1, count + 1):
        components = {c: v for (e, c), v in cells.items() if e == index}
        if not components:
            elements.append("")
        elif None in components:
            elements.append(components[None])
        else:
            elements.append([components.get(c, "") for c in range(1, max(components) + 1)])
    return elements
