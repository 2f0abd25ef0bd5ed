# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""JSON Schema validation and JSON pointers for message contracts.

Format keywords (``date-time``, ``date``, ``email``, ``uuid``...) are
enforced, not just annotations: a plant that sends "yesterday" as a
``date-time`` is told so at the door. Validators are compiled once per schema
text and kept, because the same few contracts check every message.
"""

import json
from functools import lru_cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


def parse_schema(text):
    """Parse and check a contract's JSON Schema; raise ValueError with the reason."""
    try:
        schema = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise ValueError(f"the schema is not valid JSON: {error}") from error
    if not isinstance(schema, dict):
        raise ValueError("the schema must be a JSON object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise ValueError(f"the schema is not a valid JSON Schema: {error.message}") from error
    return schema


def to_pointer(path):
    """The RFC 6901 JSON pointer of a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


@lru_cache(maxsize=512)
def compiled_validator(schema_text):
    """The checked, compiled validator of a schema text (cached: contracts change rarely)."""
    return Draft202012Validator(parse_schema(schema_text), format_checker=FORMAT_CHECKER)


def validation_errors(payload, schema):
    """Every way ``payload`` breaks ``schema`` (a dict, or a schema text), as sorted ``(pointer, reason)``."""
    if isinstance(schema, str):
        validator = compiled_validator(schema)
    else:
        validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    return sorted(
        (to_pointer(error.absolute_path), error.message) for error in validator.iter_errors(payload)
    )


def format_errors(errors):
    """Validation errors as lines a person can read: '/pointer: reason'."""
    return "\n".join(f"{pointer or '/'}: {reason}" for pointer, reason in errors)


def resolve_pointer_text(document, pointer):
    """The value at ``pointer`` as text, for keys; None when there is no pointer or no value."""
    if not pointer:
        return None
    value = resolve_pointer(document, pointer)
    return None if value is None else str(value)


def resolve_pointer(document, pointer):
    """The value at RFC 6901 ``pointer`` in ``document``, or None when absent."""
    if not pointer:
        return document
    if not pointer.startswith("/"):
        raise ValueError(f"'{pointer}' is not a JSON pointer: it must start with '/'")
    value = document
    for raw_token in pointer[1:].split("/"):
        token = raw_token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return None
    return value
