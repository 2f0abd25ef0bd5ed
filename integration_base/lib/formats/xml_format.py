# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""XML read into the same plain dicts as JSON, so that one contract (a JSON Schema) checks both.

The mapping, element by element:

- an element with neither attributes nor child elements is its text, a string
  (``""`` when empty): ``<qty>2</qty>`` gives ``"qty": "2"``;
- any other element is a dict: each attribute under ``"@name"``, each child
  element under its name, and its text under ``"#text"`` when there is text
  (stripped when the element has children: that text is indentation or mixed
  content, whose interleaving with the children is not kept);
- a child name that repeats gives a list, in document order; the names in
  ``options["lists"]`` are lists wherever they appear, even with one item, so
  that the contract sees the same shape for one order line as for ten;
- names are local names (``options["strip_namespaces"]``, true by default) or
  ``{uri}name`` when namespaces are kept;
- comments and processing instructions are dropped; siblings of different names
  come back grouped by name (the mapping is a tree of fields, not a document).

Writing is the inverse; numbers and booleans are written as text (``true``/``false``),
``None`` and an empty dict as an empty element, an empty list as no element. So
``decode(encode(d)) == [d]`` for every ``d`` that decoding gives.

``options["root"]`` names the root element: decoding checks it and returns the
root's content, encoding wraps the payload in it. Without it, decoding returns
``{root name: content}`` and encoding takes the payload's single key as the root.

Security: bodies come from outside. A DOCTYPE is refused before its declarations
are read (no entity is ever expanded, no DTD or external entity is fetched, so
neither "billion laughs" nor XXE apply), the network is off, the body is at most
``options["max_bytes"]`` and the tree at most ``options["max_depth"]`` levels deep.
"""

import math
import re

from lxml import etree

from ..json_contract import to_pointer
from .errors import FormatError

CONTENT_TYPES = ("application/xml", "text/xml")

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
TEXT_KEY = "#text"
ATTRIBUTE_PREFIX = "@"

NEWLINE = b"\n"
_WHERE_IN_MESSAGE = re.compile(r", line \d+, column \d+$")


def decode(body, options):
    body = bytes(body)
    max_bytes = options.get("max_bytes", MAX_BYTES)
    if len(body) > max_bytes:
        raise FormatError(f"the document is larger than {max_bytes} bytes")
    _refuse_doctype(body)
    root = _parse(body)
    reading = _Reading(
        strip_namespaces=options.get("strip_namespaces", True),
        lists=frozenset(options.get("lists") or ()),
        max_depth=options.get("max_depth", MAX_DEPTH),
    )
    name, content = reading.name(root.tag), reading.value(root, 1)
    expected_root = options.get("root")
    if expected_root is None:
        return [{name: content}]
    if name != expected_root:
        raise FormatError(f"the root element is <{name}>, not <{expected_root}>", f"line {root.sourceline}")
    if not isinstance(content, dict):
        raise FormatError(f"<{name}> holds only text, no fields", f"line {root.sourceline}")
    return [content]


def encode(payload, options):
    if options.get("root"):
        name, content = options["root"], payload
    elif isinstance(payload, dict) and len(payload) == 1:
        ((name, content),) = payload.items()
    else:
        raise FormatError("an XML document has one root: give options['root'] or a payload with one key")
    if isinstance(content, list):
        raise FormatError("the root element cannot repeat", to_pointer([name]))
    root = _new_element(None, name, ())
    _fill(root, content, () if options.get("root") else (name,))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class _DoctypeFound(Exception):
    pass


class _RootReached(Exception):
    pass


class _PrologWatch:
    """Parser target that stops at the DOCTYPE, before its declarations are read, or at the root."""

    def doctype(self, name, public_id, system_url):
        raise _DoctypeFound(name)

    def start(self, tag, attributes):
        raise _RootReached

    def end(self, tag):
        pass

    def data(self, text):
        pass

    def close(self):
        return None


def _hardened_parser(**extra):
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        **extra,
    )


def _refuse_doctype(body):
    try:
        etree.fromstring(body, _hardened_parser(target=_PrologWatch()))
    except _DoctypeFound:
        at = body.find(b"<!DOCTYPE")
        line = f"line {body.count(NEWLINE, 0, at) + 1}" if at >= 0 else None
        raise FormatError("a DOCTYPE is refused: no DTD, no entity declarations", line) from None
    except (_RootReached, etree.XMLSyntaxError):
        return  # a syntax error is reported by the real parse, with its line


def _parse(body):
    try:
        root = etree.fromstring(body, _hardened_parser(remove_comments=True, remove_pis=True))
    except etree.XMLSyntaxError as error:
        line, column = error.position
        message = _WHERE_IN_MESSAGE.sub("", error.msg or "")
        raise FormatError(f"not well-formed XML: {message}", f"line {line}, column {column}") from None
    if root.getroottree().docinfo.doctype:  # stopped by _refuse_doctype already; kept as the last word
        raise FormatError("a DOCTYPE is refused: no DTD, no entity declarations")
    return root


class _Reading:
    def __init__(self, strip_namespaces, lists, max_depth):
        self.strip_namespaces = strip_namespaces
        self.lists = lists
        self.max_depth = max_depth

    def name(self, tag):
        return etree.QName(tag).localname if self.strip_namespaces else tag

    def value(self, element, depth):
        if depth > self.max_depth:
            raise FormatError(f"nested deeper than {self.max_depth} levels", f"line {element.sourceline}")
        children = list(element)
        if not children and not element.attrib:
            return element.text or ""
        node = {}
        for key, text in element.attrib.items():
            name = ATTRIBUTE_PREFIX + self.name(key)
            if name in node:
                raise FormatError(
                    f"two attributes are named '{name[1:]}' once namespaces are stripped",
                    f"line {element.sourceline}",
                )
            node[name] = text
        text = _own_text(element, children)
        if text:
            node[TEXT_KEY] = text
        for child in children:
            name, value = self.name(child.tag), self.value(child, depth + 1)
            if name not in node:
                node[name] = [value] if name in self.lists else value
            elif isinstance(node[name], list):
                node[name].append(value)
            else:
                node[name] = [node[name], value]
        return node


def _own_text(element, children):
    """The element's text: verbatim for a leaf with attributes, stripped around child elements."""
    if not children:
        return element.text or ""
    pieces = [element.text, *(child.tail for child in children)]
    return "".join(piece for piece in pieces if piece).strip()


def _new_element(parent, name, path):
    try:
        return etree.Element(name) if parent is None else etree.SubElement(parent, name)
    except (ValueError, TypeError):
        raise FormatError(f"{name!r} is not an XML element name", to_pointer(path)) from None


def _fill(element, value, path):
    if not isinstance(value, dict):
        _set_text(element, value, path)
        return
    for key, item in value.items():
        where = (*path, key)
        if key == TEXT_KEY:
            _set_text(element, item, where)
        elif isinstance(key, str) and key.startswith(ATTRIBUTE_PREFIX):
            _set_attribute(element, key[len(ATTRIBUTE_PREFIX) :], item, where)
        elif isinstance(item, list):
            for index, member in enumerate(item):
                if isinstance(member, list):
                    raise FormatError("a list inside a list has no XML form", to_pointer((*where, index)))
                _fill(_new_element(element, key, where), member, (*where, index))
        else:
            _fill(_new_element(element, key, where), item, where)


def _set_text(element, value, path):
    text = _scalar_text(value, path)
    if text is not None:
        try:
            element.text = text
        except ValueError as error:
            raise FormatError(f"the text cannot be written in XML: {error}", to_pointer(path)) from None


def _set_attribute(element, name, value, path):
    text = _scalar_text(value, path)
    if text is None:
        return
    try:
        element.set(name, text)
    except (ValueError, TypeError) as error:
        raise FormatError(f"the attribute cannot be written in XML: {error}", to_pointer(path)) from None


def _scalar_text(value, path):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise FormatError(f"{value!r} cannot be written as XML text", to_pointer(path))
