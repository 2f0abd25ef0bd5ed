# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Formats turn bytes into canonical payloads and back, one module per format; no Odoo, no I/O.

A codec module offers:

- ``CONTENT_TYPES``: the media types it reads (the first is the one it writes);
- ``decode(body: bytes, options: dict) -> list[dict]``: the documents the bytes
  hold (one for a JSON object, one per row of a CSV file when the contract
  splits rows...), or :class:`FormatError` saying where the bytes are wrong;
- ``encode(payload: dict, options: dict) -> bytes``.

The contract validates the canonical payloads, whatever format carried them.
The EDI connector plugs X12 and EDIFACT in with :func:`register`.
"""

from . import json_format
from .errors import FormatError

_CODECS = {"json": json_format}


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


def content_type(name):
    """The media type written for format ``name``."""
    return codec(name).CONTENT_TYPES[0]


__all__ = ["FormatError", "codec", "content_type", "decode", "encode", "names", "register"]
