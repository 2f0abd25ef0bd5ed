# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""OpenAPI 3.1 description of a backend's inbound webhooks, built from its contracts.

OpenAPI 3.1 takes JSON Schema 2020-12 as it is, so each contract's schema is
published unchanged; plant teams can generate clients from the document and
validate payloads before they send them.
"""

import re

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "Machine-readable code, e.g. schema_violation."},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"pointer": {"type": "string"}, "error": {"type": "string"}},
            },
        },
    },
}
MESSAGE_STATUS_SCHEMA = {
    "type": "object",
    "required": ["message_id", "state", "status_url"],
    "properties": {
        "message_id": {"type": "integer"},
        "state": {"type": "string"},
        "duplicate": {"type": "boolean"},
        "correlation_id": {"type": "string"},
        "idempotency_key": {"type": "string"},
        "reason": {"type": ["string", "null"]},
        "status_url": {"type": "string"},
    },
}
REFUSALS = {
    "400": "Not strict JSON (NaN, NUL, lone surrogates, too deep, too long), or a bad key header.",
    "401": "Unknown backend, or missing or wrong credentials (one answer for all).",
    "403": "Backend suspended, or contract not in force.",
    "404": "Unknown contract.",
    "409": "The webhook-id (or Idempotency-Key) already names a message of another contract: nothing stored.",
    "413": "Body too large.",
    "415": "Wrong content type.",
    "422": "The payload breaks its contract (details by JSON pointer).",
    "429": "Rate limit exceeded: retry after the Retry-After header's seconds.",
    "503": "The server is busy and stored nothing: retry after the Retry-After header's seconds.",
}


def _schema_name(code):
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", code) if part)


def _error_responses():
    return {
        status: {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status, text in REFUSALS.items()
    }


def build_document(backend_name, backend_code, server_url, auth_method, contracts):
    """The OpenAPI document; ``contracts`` are dicts with code, version, name, description, schema."""
    security = [{"bearerToken": []}] if auth_method == "token" else [{"webhookSignature": []}]
    schemas = {"Error": ERROR_SCHEMA, "MessageStatus": MESSAGE_STATUS_SCHEMA}
    paths = {}
    status_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/MessageStatus"}}}
    for contract in contracts:
        name = f"{_schema_name(contract['code'])}V{contract['version']}"
        schemas[name] = contract["schema"]
        operation = _schema_name(contract["code"])
        paths[f"/integration/v1/{backend_code}/{contract['code']}"] = {
            "post": {
                "operationId": f"send{operation}",
                "summary": f"{contract['name']} (contract v{contract['version']})",
                "description": contract.get("description") or "",
                "security": security,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                },
                "responses": {
                    "202": {"description": "Accepted.", "content": status_ref},
                    "200": {"description": "Already received: the original message.", "content": status_ref},
                    **_error_responses(),
                },
            }
        }
        paths[f"/integration/v1/{backend_code}/{contract['code']}/batch"] = {
            "post": {
                "operationId": f"send{operation}Batch",
                "summary": f"Many {contract['name']} messages at once (JSON array or NDJSON)",
                "security": security,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}
                        },
                        "application/x-ndjson": {"schema": {"type": "string"}},
                    },
                },
                "responses": {"200": {"description": "One answer per item, in order."}, **_error_responses()},
            }
        }
    paths[f"/integration/v1/{backend_code}/messages/{{message_id}}"] = {
        "get": {
            "operationId": "getMessageStatus",
            "summary": "Where a message sent by this backend stands",
            "security": security,
            "parameters": [
                {"name": "message_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": {"description": "The message.", "content": status_ref},
                **_error_responses(),
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{backend_name}: integration webhooks",
            "version": backend_code,
            "description": "Messages are signed as the Standard Webhooks specification says "
            "(webhook-id, webhook-timestamp, webhook-signature), or carry a bearer token.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "webhookSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "webhook-signature",
                    "description": "v1,<base64 HMAC-SHA256 of '<webhook-id>.<webhook-timestamp>.<body>'>",
                },
                "bearerToken": {"type": "http", "scheme": "bearer"},
            },
        },
    }
