# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""JSON: strict reading (no duplicate keys, no NaN, depth-limited) and compact, sorted writing."""

from .. import strict_json
from .errors import FormatError

CONTENT_TYPES = ("application/json",)


def decode(body, options):
    """One document per JSON object; an array is one document per item when ``options['split']``."""
    try:
        value = strict_json.loads(body)
    except strict_json.JsonRefused as error:
        raise FormatError(str(error)) from error
    documents = value if options.get("split") and isinstance(value, list) else [value]
    for index, document in enumerate(documents):
        if not isinstance(document, dict):
            where = f"item {index}" if len(documents) > 1 else None
            raise FormatError("a document must be a JSON object", where)
    return documents


def encode(payload, options):
    return strict_json.dumps(payload).encode()
