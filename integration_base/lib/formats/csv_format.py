# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""CSV (RFC 4180): a header row names the columns, every other row is one record.

Reading is strict because a file that is read "somehow" puts values in the wrong
fields without anyone noticing: a row with more or fewer cells than the header,
a header with an empty or repeated name, bad quoting, a NUL character (the
database cannot store it) are refused with the line they are on. Blank lines are
skipped. Cells are kept as strings, untouched, except in the columns that
``options["types"]`` types, so that the contract's JSON Schema sees numbers and
booleans where the file only has text.

Options read:

- ``encoding``: of the bytes, UTF-8 by default; a UTF-8 byte order mark is skipped;
- ``delimiter``: one character; when absent it is sniffed among ``, ; TAB |``;
- ``split``: one document per row (``{column: value}``); otherwise one document
  ``{"rows": [...]}`` holding them all;
- ``types``: ``{column: "integer" | "number" | "boolean"}``; an empty cell is ``None``,
  a cell that is not of its type is refused with its line and column;
- ``columns`` (writing): the columns in their order; by default the keys of the first row.

Writing gives a header and the rows with CRLF line ends, quoting only where needed,
so that decoding what was encoded gives the rows back.
"""

import codecs
import csv
import io
import itertools
import math
import re

from ..json_contract import to_pointer
from .errors import FormatError

CONTENT_TYPES = ("text/csv",)

SNIFFED_DELIMITERS = (",", ";", "\t", "|")
SNIFFED_LINES = 20
MAX_NUMBER_LENGTH = 40

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def decode(body, options):
    text = _text_of(body, options.get("encoding"))
    delimiter = options.get("delimiter") or sniff_delimiter(text)
    records = _records(text, delimiter)
    header_line, header = next(records, (1, None))
    if header is None:
        raise FormatError("the file has no header row", "line 1")
    _check_header(header, header_line)
    converters = _converters(header, options.get("types") or {})
    rows = []
    for line, cells in records:
        if len(cells) != len(header):
            raise FormatError(f"the row has {len(cells)} cells, the header has {len(header)}", f"line {line}")
        rows.append(
            {
                name: convert(cell, line, index) if convert else cell
                for index, (name, cell, convert) in enumerate(zip(header, cells, converters, strict=True), 1)
            }
        )
    return rows if options.get("split") else [{"rows": rows}]


def encode(payload, options):
    in_rows = isinstance(payload.get("rows"), list)
    rows = payload["rows"] if in_rows else [payload]
    first = rows[0] if rows else {}
    if not isinstance(first, dict):
        raise FormatError("a row must be an object", to_pointer(("rows", 0)))
    columns = list(options.get("columns") or first)
    if not columns:
        raise FormatError("no columns to write: there is no row and options['columns'] is not set")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=options.get("delimiter") or ",", lineterminator="\r\n")
    writer.writerow(columns)
    for number, row in enumerate(rows):
        path = ("rows", number) if in_rows else ()
        writer.writerow(_cells_of(row, columns, path))
    encoding = options.get("encoding") or "utf-8"
    text = buffer.getvalue()
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        raise FormatError(f"{text[error.start]!r} cannot be written in {encoding}", f"line {line}") from None


def sniff_delimiter(text):
    """The candidate that splits the first lines into the same number (>1) of cells, the most cells.

    When no candidate is consistent, the one giving the header the most cells wins (the
    rows will then be refused with their line); a one-column file reads with a comma.
    """
    sample_lines = list(itertools.islice(io.StringIO(text, newline=""), SNIFFED_LINES))
    sample = "".join(sample_lines)
    truncated = len(sample) < len(text)
    best, best_score = ",", (False, 1)
    for candidate in SNIFFED_DELIMITERS:
        counts = [len(cells) for cells in csv.reader(io.StringIO(sample, newline=""), delimiter=candidate)]
        counts = [count for count in counts if count]
        if truncated and len(counts) > 1:
            counts.pop()  # the last sampled record may be cut in the middle
        if not counts or counts[0] < 2:
            continue
        score = (all(count == counts[0] for count in counts), counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def _text_of(body, encoding):
    encoding = encoding or "utf-8"
    try:
        canonical = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding '{encoding}'") from None
    try:
        text = bytes(body).decode("utf-8-sig" if canonical == "utf-8" else encoding)
    except UnicodeDecodeError as error:
        line = bytes(body).count(b"\n", 0, error.start) + 1
        raise FormatError(f"the bytes are not {encoding} (byte {error.start})", f"line {line}") from None
    nul = text.find("\x00")
    if nul >= 0:
        raise FormatError("a NUL character cannot be stored", f"line {text.count(chr(10), 0, nul) + 1}")
    return text


def _records(text, delimiter):
    """``(line where the record starts, cells)`` for every record that is not a blank line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise FormatError(f"not valid CSV: {error}", f"line {reader.line_num}") from None
        if cells:
            yield line, cells
        line = reader.line_num + 1


def _check_header(header, line):
    seen = {}
    for index, name in enumerate(header, 1):
        if not name.strip():
            raise FormatError(f"column {index} of the header has no name", f"line {line}")
        if name in seen:
            raise FormatError(
                f"the header names '{name}' twice (columns {seen[name]} and {index})", f"line {line}"
            )
        seen[name] = index


def _converters(header, types):
    """One converter per column (``None``: the cell stays a string). A typed column the file lacks
    is left to the contract, which says whether it is required."""
    for name, kind in types.items():
        if kind not in _CONVERTERS:
            raise ValueError(f"unknown type '{kind}' for column '{name}': use {', '.join(_CONVERTERS)}")
    return [_typed(name, *_CONVERTERS[types[name]]) if name in types else None for name in header]


def _typed(name, convert, expected):
    def converter(cell, line, index):
        text = cell.strip()
        if not text:
            return None
        value = convert(text)
        if value is None:
            shown = text if len(text) <= MAX_NUMBER_LENGTH else text[:MAX_NUMBER_LENGTH] + "..."
            raise FormatError(f"'{shown}' is not {expected}", f"line {line}, column {index} '{name}'")
        return value

    return converter


def _to_integer(text):
    if len(text) <= MAX_NUMBER_LENGTH and _INTEGER.fullmatch(text):
        return int(text)
    return None


def _to_number(text):
    if len(text) > MAX_NUMBER_LENGTH or not _DECIMAL.fullmatch(text):
        return None
    if _INTEGER.fullmatch(text):
        return int(text)
    value = float(text)
    return value if math.isfinite(value) else None


def _to_boolean(text):
    return _BOOLEANS.get(text.lower())


_CONVERTERS = {
    "integer": (_to_integer, "an integer"),
    "number": (_to_number, "a number"),
    "boolean": (_to_boolean, "a boolean (true, false, 1 or 0)"),
}


def _cells_of(row, columns, path):
    if not isinstance(row, dict):
        raise FormatError("a row must be an object", to_pointer(path))
    unknown = [key for key in row if key not in columns]
    if unknown:
        raise FormatError(f"'{unknown[0]}' is not one of the columns {columns}", to_pointer(path))
    return [_cell_text(row.get(column), (*path, column)) for column in columns]


def _cell_text(value, path):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, float):
        raise FormatError(f"{value} is not a number a CSV file can carry", to_pointer(path))
    raise FormatError(f"a CSV cell holds one value, not a {type(value).__name__}", to_pointer(path))
