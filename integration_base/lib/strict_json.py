# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Strict JSON for bodies that come from outside.

Python's ``json`` accepts documents that the engine cannot store or should not
trust: ``NaN`` and ``Infinity`` (not JSON at all), strings with NUL characters
or lone surrogates (PostgreSQL text holds neither), numbers of thousands of
digits, keys of any length and nesting deep enough to exhaust the stack. This
module parses bytes into plain Python values and refuses each of those with a
:class:`JsonRefused` that names the problem and where it is (a JSON pointer),
so that the door can answer 400 instead of failing later.
"""

import json
import math
from dataclasses import dataclass

from .json_contract import to_pointer


@dataclass(frozen=True)
class JsonLimits:
    """What a body may hold. The defaults suit plant messages; they are far above real payloads."""

    max_depth: int = 32
    max_number_length: int = 40
    max_key_length: int = 256
    max_string_length: int = 1_000_000


DEFAULT_LIMITS = JsonLimits()


class JsonRefused(ValueError):
    """The body is not strict JSON within the limits; ``pointer`` says where, when known."""

    def __init__(self, reason, pointer=None):
        super().__init__(reason if pointer is None else f"{pointer or '/'}: {reason}")
        self.reason = reason
        self.pointer = pointer


def _refuse_constant(name):
    raise JsonRefused(f"{name} is not a JSON number")


def loads(body, limits=DEFAULT_LIMITS):
    """Parse ``body`` (bytes or str) as strict JSON; raise :class:`JsonRefused` with the reason."""
    if isinstance(body, bytes | bytearray):
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError as error:
            raise JsonRefused(f"the body is not UTF-8 (byte {error.start})") from None
    else:
        text = body
    if text.startswith("\ufeff"):
        raise JsonRefused("a byte order mark is not allowed before JSON")

    def number(literal, convert):
        if len(literal) > limits.max_number_length:
            raise JsonRefused(f"a number has more than {limits.max_number_length} characters")
        return convert(literal)

    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=lambda literal: number(literal, int),
            parse_float=lambda literal: number(literal, float),
        )
    except JsonRefused:
        raise
    except RecursionError:
        raise JsonRefused(f"the document is nested deeper than {limits.max_depth} levels") from None
    except json.JSONDecodeError as error:
        raise JsonRefused(
            f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except ValueError as error:  # int() of a literal beyond Python's own digit limit
        raise JsonRefused(f"not valid JSON: {error}") from None
    check(value, limits)
    return value


def check(value, limits=DEFAULT_LIMITS):
    """Walk a parsed document (without recursion) and refuse what cannot be stored or trusted."""
    stack = [(value, (), 1)]
    while stack:
        current, path, depth = stack.pop()
        if isinstance(current, dict | list):
            if depth > limits.max_depth:
                raise JsonRefused(f"nested deeper than {limits.max_depth} levels", to_pointer(path))
            items = current.items() if isinstance(current, dict) else enumerate(current)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key, path, limits.max_key_length, "a key")
                stack.append((item, (*path, key), depth + 1))
        elif isinstance(current, str):
            _check_text(current, path, limits.max_string_length, "a string")
        elif isinstance(current, float) and not math.isfinite(current):
            raise JsonRefused("the number is out of range", to_pointer(path))


def _check_text(text, path, max_length, what):
    if len(text) > max_length:
        raise JsonRefused(f"{what} is longer than {max_length} characters", to_pointer(path))
    if "\x00" in text:
        raise JsonRefused(f"{what} contains a NUL character", to_pointer(path))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonRefused(f"{what} contains a lone surrogate (\\ud800-\\udfff)", to_pointer(path)) from None


def dumps(value):
    """Compact canonical JSON (sorted keys, no spaces, UTF-8 kept): equal documents give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
