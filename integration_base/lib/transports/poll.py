# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Polling in: read an HTTP JSON API page by page, from a cursor the caller keeps.

``fetch(source, cursor)`` asks for the page after ``cursor`` and gives back a
:class:`Page`: its items, the cursor to store once they are safely stored, and
whether another page waits. It changes nothing anywhere, so the rule against
gaps and duplicates is the caller's order of work: store the items, then the
cursor, in one transaction. A poll that fails halfway leaves the cursor where
the last stored page put it; the page is asked for again later and its items
come back with the same keys, which the engine's idempotency drops.

Options of the source (all optional):

- ``cursor_param``: the query parameter of the cursor (``cursor``);
- ``items_pointer``: JSON pointer to the list of items in an answer (``/items``);
- ``next_cursor_pointer``: JSON pointer to the next cursor (``/next_cursor``);
  an answer without one keeps the cursor it was asked with;
- ``more_pointer``: JSON pointer to a "has more" flag, for the APIs whose
  cursor is a watermark given on every page; without it another page waits
  when the answer has items and a new cursor;
- ``id_pointer``: JSON pointer in each item to its id, the item's key; without
  it the key is the SHA-256 of the item's canonical JSON;
- ``page_size_param`` and ``page_size``: ask for pages of that size;
- ``oauth``, or the ``token`` secret: as for the HTTP transport.
"""

import hashlib
from dataclasses import dataclass, field

import requests

from .. import oauth2, strict_json
from ..json_contract import resolve_pointer
from .base import Incoming, TransportError
from .http import authorized_request

ITEM_EXCERPT_LIMIT = 100


@dataclass
class Page:
    """One page of a polled API: ``cursor`` is to be stored only after ``items`` are."""

    items: list[Incoming] = field(default_factory=list)
    cursor: str | None = None
    more: bool = False


def fetch(source, cursor=None):
    """The page after ``cursor`` (the first page without one); :class:`TransportError` if none can be had."""
    options = source.options or {}
    answer = _get(source, _query(options, cursor))
    items_pointer = options.get("items_pointer", "/items")
    items = _at(answer, items_pointer)
    if not isinstance(items, list):
        raise TransportError(
            f"the answer of {source.url} has no list at {items_pointer}: check the items pointer"
        )
    next_cursor = _cursor_text(_at(answer, options.get("next_cursor_pointer", "/next_cursor")))
    new_cursor = next_cursor if next_cursor is not None else cursor
    more = bool(_at(answer, options["more_pointer"])) if options.get("more_pointer") else bool(items)
    return Page(
        items=[_incoming(item, index, options, cursor) for index, item in enumerate(items)],
        cursor=new_cursor,
        # A page that does not move the cursor cannot be followed by another: asking again would repeat it.
        more=more and new_cursor != cursor,
    )


def _at(document, pointer):
    """The value at ``pointer`` (None when absent); a malformed pointer is a :class:`TransportError`."""
    try:
        return resolve_pointer(document, pointer)
    except ValueError as error:
        raise TransportError(f"{error} (in the options of the source)") from None


def _query(options, cursor):
    query = {}
    if cursor is not None:
        query[options.get("cursor_param", "cursor")] = cursor
    if options.get("page_size_param") and options.get("page_size"):
        query[options["page_size_param"]] = options["page_size"]
    return query


def _get(source, query):
    """The answer of the API as a document; every way it can fail is a :class:`TransportError`."""
    headers = {"Accept": "application/json", **source.headers}
    try:
        response = authorized_request(
            "GET",
            source.url,
            source.options,
            source.secrets,
            headers,
            (source.connect_timeout, source.read_timeout),
            params=query,
        )
    except oauth2.TokenError as error:
        raise TransportError(str(error)) from None
    except requests.Timeout:
        raise TransportError(f"{source.url} did not answer in time") from None
    except requests.RequestException as error:
        raise TransportError(f"{source.url} is unreachable ({type(error).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise TransportError(f"{source.url} answered {response.status_code}{_said(response, source)}")
    try:
        return strict_json.loads(response.content)
    except strict_json.JsonRefused as error:
        said = _said(response, source)
        raise TransportError(
            f"{source.url} answered {response.status_code} with what is not JSON ({error}){said}"
        ) from None


def _said(response, source):
    secrets = [value for value in source.secrets.values() if isinstance(value, str)]
    excerpt = oauth2.redacted_excerpt(response.text, secrets)
    return f": {excerpt}" if excerpt else ""


def _cursor_text(value):
    """A cursor as the text to send back: a string or a number; None when there is none."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TransportError(f"the next cursor is a {type(value).__name__}: it must be a text or a number")
    return str(value)


def _incoming(item, index, options, cursor):
    body = strict_json.dumps(item)
    id_pointer = options.get("id_pointer")
    if id_pointer:
        key = _at(item, id_pointer)
        if isinstance(key, bool) or not isinstance(key, str | int) or key == "":
            raise TransportError(
                f"item {index} of the page has no id at {id_pointer} "
                f"(it starts {body[:ITEM_EXCERPT_LIMIT]}): check the id pointer"
            )
        key = str(key)
    else:
        key = "sha256:" + hashlib.sha256(body.encode()).hexdigest()
    return Incoming(
        key=key,
        body=body.encode(),
        name=key,
        content_type="application/json",
        meta={"cursor": cursor},
    )
