# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What X12 and EDIFACT share: segments of elements of components, cut by delimiters.

Both standards write a file as segments (``BEG*00*SA*4500``, ``BGM+220+4500'``),
each a tag and elements, an element possibly of components; they differ in
where the delimiters are declared (ISA, UNA), in EDIFACT's release character
that lets data hold a delimiter, and in their envelopes, which their own
modules read. A segment is kept as a :class:`Segment`: its tag, its elements
(a string, or a list of strings when the element has components) and its
position in the file, which every error names.
"""

from dataclasses import dataclass, field

from odoo.addons.integration_base.lib.formats import FormatError

LINE_BREAKS = "\r\n"


class Literal(str):
    """A value written as it is, delimiters included: ISA11 and ISA16 declare delimiters by holding them."""


@dataclass(frozen=True)
class Delimiters:
    """The service characters of one interchange; ``release`` is EDIFACT's only."""

    segment: str
    element: str
    component: str
    repetition: str = ""
    release: str = ""
    decimal: str = "."

    def specials(self):
        return {c for c in (self.segment, self.element, self.component, self.repetition, self.release) if c}


@dataclass
class Segment:
    tag: str
    elements: list
    number: int = 0  # 1-based place in the file
    text: str = field(default="", repr=False)

    @property
    def position(self):
        return f"segment {self.number} ({self.tag})"

    def element(self, index, component=None):
        """Element ``index`` (1-based, as the standards count), or its ``component``; ``""`` if absent."""
        if index > len(self.elements):
            return ""
        value = self.elements[index - 1]
        if component is None:
            return value[0] if isinstance(value, list) else value
        if not isinstance(value, list):
            return value if component == 1 else ""
        return value[component - 1] if component <= len(value) else ""


def cut(text, separator, release=""):
    """``text`` cut at each ``separator`` not escaped by ``release`` (escapes kept for :func:`unescape`)."""
    if not release or release not in text:
        return text.split(separator)
    parts, current, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == release and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def unescape(text, release):
    if not release or release not in text:
        return text
    out, index = [], 0
    while index < len(text):
        if text[index] == release and index + 1 < len(text):
            index += 1
        out.append(text[index])
        index += 1
    return "".join(out)


def parse_segment(text, delimiters, number):
    """One segment's text (without its terminator) as a :class:`Segment`."""
    release = delimiters.release
    raw_elements = cut(text, delimiters.element, release)
    tag = unescape(raw_elements[0], release)
    if not tag.isalnum():
        raise FormatError(f"'{text[:20]}' does not start with a segment tag", f"segment {number}")
    elements = []
    for raw in raw_elements[1:]:
        components = cut(raw, delimiters.component, release) if delimiters.component else [raw]
        values = [unescape(component, release) for component in components]
        elements.append(values if len(values) > 1 else values[0])
    return Segment(tag=tag, elements=elements, number=number, text=text)


def split_segments(text, terminator, release=""):
    """``[(offset, segment text)]`` of ``text``; line breaks around terminators are no part of segments."""
    pieces, offset = [], 0
    for piece in cut(text, terminator, release):
        stripped = piece.lstrip(LINE_BREAKS + " \t")
        start = offset + len(piece) - len(stripped)
        stripped = stripped.rstrip(LINE_BREAKS)
        if stripped:
            pieces.append((start, stripped))
        offset += len(piece) + len(terminator)
    return pieces


def render_segment(tag, elements, delimiters):
    """``tag`` and ``elements`` written with ``delimiters``, trailing empty elements left out.

    EDIFACT escapes a delimiter in data with its release character; X12 has
    none, so data holding one of its delimiters is refused rather than
    written into a segment the partner would read wrongly.
    """
    written = []
    for element in elements:
        values = element if isinstance(element, list | tuple) else [element]
        components = [_escape(_text(value), delimiters, tag) for value in values]
        while len(components) > 1 and not components[-1]:
            components.pop()
        written.append(delimiters.component.join(components))
    while written and not written[-1]:
        written.pop()
    return delimiters.element.join([tag, *written]) + delimiters.segment


def _text(value):
    if value is None or value is False:
        return ""
    return value if isinstance(value, str) else str(value)


def _escape(value, delimiters, tag):
    specials = delimiters.specials()
    if isinstance(value, Literal) or not any(char in specials for char in value):
        return value
    if not delimiters.release:
        raise FormatError(f"the value '{value}' holds one of the interchange's delimiters", f"segment {tag}")
    return "".join(delimiters.release + char if char in specials else char for char in value)


def text_of(body, encoding=None):
    """The text of ``body``: the declared encoding, else UTF-8, else Latin-1; a byte order mark skipped."""
    if isinstance(body, str):
        return body.lstrip("\ufeff")
    for candidate in [encoding] if encoding else ["utf-8", "latin-1"]:
        try:
            return body.decode(candidate).lstrip("\ufeff")
        except (UnicodeDecodeError, LookupError) as error:
            last = error
    raise FormatError(f"the bytes are not {encoding}: {last}", "byte 0")
