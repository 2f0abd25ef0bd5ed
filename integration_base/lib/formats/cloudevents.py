# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""CloudEvents 1.0: an optional envelope around outbound events, so that event routers and
subscribers that speak CloudEvents can route and deduplicate them (``source`` + ``id``).

Two ways to send the same event over HTTP:

- structured: :func:`structured` gives the whole event as one JSON object, sent with
  :data:`STRUCTURED_CONTENT_TYPE`;
- binary: the body is the payload as the subscription's format writes it and
  :func:`binary_headers` gives the ``ce-*`` headers (``datacontenttype`` becomes
  ``Content-Type``), values percent-encoded as the HTTP binding says.

Every attribute is checked before anything is sent: ``specversion`` is ``1.0``; ``id``
and ``type`` are non-empty strings; ``source`` is a URI-reference, ``dataschema`` an
absolute URI, ``time`` an RFC 3339 timestamp (a naive ``datetime`` is taken as UTC,
as Odoo stores them), ``datacontenttype`` a media type; extension names are lower-case
ASCII letters and digits and their values booleans, 32-bit integers, strings, bytes
or timestamps. :func:`parse_structured` reads a structured event with the same checks.
This is not a codec (it is not in the registry): it wraps what a codec wrote.
"""

import base64
import datetime
import re

from .. import strict_json
from .errors import FormatError

SPECVERSION = "1.0"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
CORE_ATTRIBUTES = ("specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time")

_ATTRIBUTE_NAME = re.compile(r"[a-z0-9]+")
_URI_CHARACTERS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_TOKEN = r"[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(\s*;\s*{_TOKEN}=({_TOKEN}|\"([^\"\\]|\\.)*\"))*")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_FORBIDDEN_IN_STRINGS = re.compile("[\x00-\x1f\x7f-\x9f\ufdd0-\ufdef\ud800-\udfff]")
_INTEGER_RANGE = range(-(2**31), 2**31)


# The keyword arguments bear the attributes' names in the spec, ``id`` and ``type`` included.
def structured(
    data,
    *,
    id,
    source,
    type,
    subject=None,
    dataschema=None,
    time=None,
    datacontenttype="application/json",
    extensions=None,
):
    """The event as the bytes of a JSON object; ``data`` of ``None`` is an event without data.

    ``bytes`` go to ``data_base64``; with a JSON media type (``*/json``, ``*/*+json``) any JSON
    value goes to ``data`` as is; with another media type ``data`` must be a string.
    """
    event = _attributes(id, source, type, subject, dataschema, time, datacontenttype, extensions)
    if isinstance(data, bytes | bytearray):
        event["data_base64"] = base64.b64encode(bytes(data)).decode("ascii")
    elif data is not None:
        if not _is_json(datacontenttype) and not isinstance(data, str):
            raise FormatError(f"data for {datacontenttype} must be bytes or a string", "data")
        event["data"] = data
    try:
        return strict_json.dumps(event).encode()
    except (TypeError, ValueError) as error:
        raise FormatError(f"data is not a JSON value: {error}", "data") from None


def binary_headers(
    *,
    id,
    source,
    type,
    subject=None,
    dataschema=None,
    time=None,
    datacontenttype="application/json",
    extensions=None,
):
    """The HTTP headers of a binary-mode event; the body is the data, encoded as ``datacontenttype``."""
    event = _attributes(id, source, type, subject, dataschema, time, datacontenttype, extensions)
    content_type = event.pop("datacontenttype", None)
    headers = {f"ce-{name}": percent_encode(_canonical_string(value)) for name, value in event.items()}
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def parse_structured(body):
    """The attributes and ``data`` of a structured event (``data_base64`` decoded into ``data``).

    A ``null`` attribute is unset, as the JSON format says; anything else that breaks the
    spec is a :class:`FormatError` whose position is the attribute's name.
    """
    try:
        event = strict_json.loads(body)
    except strict_json.JsonRefused as error:
        raise FormatError(f"not a JSON event: {error}") from None
    if not isinstance(event, dict):
        raise FormatError("a structured event is a JSON object")
    has_data = "data" in event
    data = event.pop("data", None)
    encoded = event.pop("data_base64", None)
    attributes = {name: value for name, value in event.items() if value is not None}
    if attributes.get("specversion") != SPECVERSION:
        raise FormatError(f"specversion must be {SPECVERSION}", "specversion")
    _check_attributes(attributes)
    if encoded is not None:
        if has_data:
            raise FormatError("data and data_base64 cannot both be present", "data_base64")
        try:
            attributes["data"] = base64.b64decode(encoded, validate=True)
        except (TypeError, ValueError):
            raise FormatError("data_base64 is not Base64", "data_base64") from None
    elif has_data:
        content_type = attributes.get("datacontenttype", "application/json")
        if not _is_json(content_type) and not isinstance(data, str):
            raise FormatError(f"data for {content_type} must be a string", "data")
        attributes["data"] = data
    return attributes


def percent_encode(text):
    """Percent-encode space, double quote, percent and every character outside printable ASCII."""
    return "".join(
        "".join(f"%{byte:02X}" for byte in character.encode("utf-8"))
        if character in ' "%' or not "\x21" <= character <= "\x7e"
        else character
        for character in text
    )


def _attributes(id, source, type, subject, dataschema, time, datacontenttype, extensions):
    event = {"specversion": SPECVERSION, "id": id, "source": source, "type": type}
    optional = {
        "subject": subject,
        "dataschema": dataschema,
        "time": time,
        "datacontenttype": datacontenttype,
    }
    event.update({name: value for name, value in optional.items() if value is not None})
    if "time" in event and isinstance(event["time"], datetime.datetime):
        event["time"] = _timestamp_of(event["time"])
    for name, value in (extensions or {}).items():
        if name in CORE_ATTRIBUTES:
            raise FormatError(f"'{name}' is a core attribute, not an extension", name)
        event[name] = _timestamp_of(value) if isinstance(value, datetime.datetime) else value
    _check_attributes(event)
    for name, value in event.items():
        if isinstance(value, bytes | bytearray):
            event[name] = base64.b64encode(bytes(value)).decode("ascii")
    return event


def _check_attributes(attributes):
    for name in ("id", "source", "type"):
        if name not in attributes:
            raise FormatError(f"{name} is required", name)
    for name, value in attributes.items():
        check = _CHECKS.get(name, _check_extension)
        check(name, value)


def _check_name(name):
    if not isinstance(name, str) or not _ATTRIBUTE_NAME.fullmatch(name) or name == "data":
        raise FormatError(
            f"{name!r} is not a CloudEvents attribute name: lower-case ASCII letters and digits, not 'data'",
            str(name),
        )


def _check_specversion(name, value):
    if value != SPECVERSION:
        raise FormatError(f"specversion must be {SPECVERSION}", name)


def _check_string(name, value):
    if not isinstance(value, str) or not value:
        raise FormatError(f"{name} must be a non-empty string", name)
    forbidden = _FORBIDDEN_IN_STRINGS.search(value)
    if forbidden or any((ord(character) & 0xFFFE) == 0xFFFE for character in value):
        raise FormatError(f"{name} holds a character CloudEvents strings cannot hold", name)


def _check_uri_reference(name, value):
    if not isinstance(value, str) or not _is_uri_reference(value):
        raise FormatError(f"{name} must be a non-empty URI-reference (RFC 3986)", name)


def _check_absolute_uri(name, value):
    if not isinstance(value, str) or not _is_absolute_uri(value):
        raise FormatError(f"{name} must be an absolute URI (RFC 3986, with a scheme, no fragment)", name)


def _check_timestamp(name, value):
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise FormatError(f"{name} must be an RFC 3339 timestamp", name)
    try:
        datetime.datetime.fromisoformat(value.upper())
    except ValueError:
        raise FormatError(f"{name} is not a real date and time", name) from None


def _check_media_type(name, value):
    if not isinstance(value, str) or not _MEDIA_TYPE.fullmatch(value):
        raise FormatError(f"{name} must be a media type (RFC 2046), such as application/json", name)


def _check_extension(name, value):
    _check_name(name)
    if isinstance(value, bool | bytes | bytearray):
        return
    if isinstance(value, int):
        if value not in _INTEGER_RANGE:
            raise FormatError(f"{name} is outside the 32-bit integers of CloudEvents", name)
        return
    if isinstance(value, str):
        _check_string(name, value)
        return
    raise FormatError(f"{name} is a {value.__class__.__name__}, which is not a CloudEvents type", name)


_CHECKS = {
    "specversion": _check_specversion,
    "id": _check_string,
    "source": _check_uri_reference,
    "type": _check_string,
    "subject": _check_string,
    "dataschema": _check_absolute_uri,
    "time": _check_timestamp,
    "datacontenttype": _check_media_type,
}


def _is_uri_reference(value):
    """RFC 3986 characters, and a valid scheme when a colon comes before any ``/ ? #``."""
    if not _URI_CHARACTERS.fullmatch(value):
        return False
    head = re.split(r"[/?#]", value, maxsplit=1)[0]
    return ":" not in head or bool(_SCHEME.fullmatch(head.split(":", 1)[0]))


def _is_absolute_uri(value):
    """A URI-reference with a scheme and no fragment (RFC 3986, section 4.3)."""
    head = re.split(r"[/?#]", value, maxsplit=1)[0]
    return _is_uri_reference(value) and ":" in head and "#" not in value


def _is_json(media_type):
    essence = (media_type or "application/json").split(";", 1)[0].strip().lower()
    subtype = essence.partition("/")[2]
    return subtype == "json" or subtype.endswith("+json")


def _timestamp_of(moment):
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _canonical_string(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
