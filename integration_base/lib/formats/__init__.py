# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Formats turn bytes into canonical payloads and back, one module per format; no Odoo, no I/O.

A codec module offers:

- ``CONTENT_TYPES``: the media types it reads (the first is the one it writes);
- ``decode(body: bytes, options: dict) -> list[dict]``: the documents the bytes
  hold (one for a JSON object, one per row of a CSV file when the contract
  splits rows...), or :class:`FormatError` saying where the bytes are wrong;
- ``encode(payload: dict, options: dict) -> bytes``.

The contract validates the canonical payloads, whatever format carried them.
Installed here: ``json``, ``csv`` (:mod:`.csv_format`), ``xml`` (:mod:`.xml_format`).
CloudEvents (:mod:`.cloudevents`) is not a codec but an envelope around what a codec wrote.

The EDI connector plugs X12 and EDIFACT in with :func:`register`, from its own
``lib`` when its module loads (``formats.register("x12", x12_codec)``): a module
with the three names above, reading one interchange into one document per
transaction set / message, and raising :class:`FormatError` with the segment
as position (``"segment 14 (N1)"``).

Envelope facts (for EDI the interchange and group control numbers, sender and
receiver ids; whatever a format carries around the business data) travel under
the one reserved key :data:`ENVELOPE_KEY` (``"#envelope"``, a dict) of each
document: ``decode`` may return them there, ``encode`` may read them there (the
control numbers the engine assigned). No business field may use that name; the
engine takes the key off with :func:`split_envelope` before the contract
validates the payload, and keeps the facts beside it. A JSON body may carry the
key too: it is trusted no more than the rest of the body.
"""

from . import csv_format, json_format, xml_format
from .errors import FormatError

ENVELOPE_KEY = "#envelope"

_CODECS = {"json": json_format, "csv": csv_format, "xml": xml_format}


def register(name, module):
    """Make ``module`` the codec of format ``name`` (for example ``x12``)."""
    _CODECS[name] = module


def codec(name):
    """The codec of format ``name``; ``ValueError`` when no installed module offers it."""
    if name not in _CODECS:
        raise ValueError(f"no codec for format '{name}': installed are {', '.join(sorted(_CODECS))}")
    return _CODECS[name]


def names():
    return sorted(_CODECS)


def decode(name, body, options=None):
    """The canonical documents of ``body`` in format ``name``."""
    return codec(name).decode(body, options or {})


def encode(name, payload, options=None):
    """``payload`` rendered as bytes of format ``name``."""
    return codec(name).encode(payload, options or {})


def split_envelope(document):
    """``(payload, envelope)``: the document without :data:`ENVELOPE_KEY`, and the facts under it."""
    payload = dict(document)
    envelope = payload.pop(ENVELOPE_KEY, None)
    if envelope is None:
        return payload, {}
    if not isinstance(envelope, dict):
        raise FormatError(f"'{ENVELOPE_KEY}' is reserved for envelope facts and must be an object")
    return payload, envelope


def content_type(name):
    """The media type written for format ``name``."""
    return codec(name).CONTENT_TYPES[0]


__all__ = [
    "ENVELOPE_KEY",
    "FormatError",
    "codec",
    "content_type",
    "decode",
    "encode",
    "names",
    "register",
    "split_envelope",
]
