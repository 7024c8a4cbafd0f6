"""The OpenAPI 3.1 document of the operator API, built from the same pydantic models it parses.

Request and answer schemas come from :mod:`api.schemas` (``models_json_schema``),
so the document cannot drift from what the handlers accept. Built once per
process and cached.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic.json_schema import models_json_schema

from api import schemas

_REF = "#/components/schemas/{model}"
_MODELS = (
    schemas.Person,
    schemas.BatchLookup,
    schemas.BulkSubscribe,
    schemas.Standing,
    schemas.BatchAnswer,
    schemas.SubscriptionAnswer,
    schemas.BulkAnswer,
    schemas.SubscriptionsPage,
    schemas.EventsPage,
    schemas.WebhookTest,
    schemas.WebhookTestAnswer,
)

_PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "request_id"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=ref)}}}


def _problems(*codes: int) -> dict[str, Any]:
    reasons = {
        401: "Missing, unknown or revoked API key",
        403: "Operator suspended, or source address outside its allowlist",
        404: "Not found",
        413: "Body too large",
        422: "Invalid input, with per-field errors",
        429: "Rate limit or daily quota reached; see Retry-After",
        503: "Register temporarily unavailable; retry, never read it as 'not excluded'",
    }
    content = {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}
    return {str(c): {"description": reasons[c], "content": content} for c in codes}


_AUTH = (401, 403, 429, 503)
_PAGE_PARAMS = [
    {
        "name": "after",
        "in": "query",
        "description": "Cursor: the `next` of the previous page (0 = from the start).",
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 0},
    },
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
    },
]
_REF_PARAM = {
    "name": "customer_ref",
    "in": "path",
    "required": True,
    "description": "Your own reference for the customer: 1-128 printable ASCII characters.",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,128}$"},
}


def _query(*names: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "query",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**62},
        }
        for name in names
    ]


_PROOF = {
    "type": "object",
    "properties": {"proof": {"type": "array", "items": {"type": "string", "format": "byte"}}},
    "required": ["proof"],
}


def _audit_paths() -> dict[str, Any]:
    return {
        "/v1/audit/checkpoint": {
            "get": {
                "operationId": "auditCheckpoint",
                "summary": "The audit log's latest signed checkpoint (C2SP signed note)",
                "responses": {
                    "200": {
                        "description": "The note",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_problems(*_AUTH, 404),
                },
            }
        },
        "/v1/audit/proofs/inclusion": {
            "get": {
                "operationId": "auditInclusionProof",
                "summary": "RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves",
                "parameters": _query("index", "size"),
                "responses": {
                    "200": {
                        "description": "The proof",
                        "content": {"application/json": {"schema": _PROOF}},
                    },
                    **_problems(*_AUTH, 422),
                },
            }
        },
        "/v1/audit/proofs/consistency": {
            "get": {
                "operationId": "auditConsistencyProof",
                "summary": "RFC 9162 proof that tree `first` is a prefix of tree `second`",
                "parameters": _query("first", "second"),
                "responses": {
                    "200": {
                        "description": "The proof",
                        "content": {"application/json": {"schema": _PROOF}},
                    },
                    **_problems(*_AUTH, 422),
                },
            }
        },
    }


def _paths() -> dict[str, Any]:
    return {
        **_audit_paths(),
        "/v1/lookups": {
            "post": {
                "operationId": "lookup",
                "summary": "Is this person excluded?",
                "requestBody": {"required": True, "content": _json("Person")},
                "responses": {
                    "200": {"description": "The standing", "content": _json("Standing")},
                    **_problems(*_AUTH, 413, 422),
                },
            }
        },
        "/v1/lookups/batch": {
            "post": {
                "operationId": "lookupBatch",
                "summary": "Up to 1,000 people; per-item answers or errors",
                "requestBody": {"required": True, "content": _json("BatchLookup")},
                "responses": {
                    "200": {"description": "Per-item answers", "content": _json("BatchAnswer")},
                    **_problems(*_AUTH, 413, 422),
                },
            }
        },
        "/v1/subscriptions/{customer_ref}": {
            "parameters": [_REF_PARAM],
            "put": {
                "operationId": "subscribe",
                "summary": "Hold this customer: receive its events; answers its standing",
                "requestBody": {"required": True, "content": _json("Person")},
                "responses": {
                    "200": {"description": "Subscribed", "content": _json("SubscriptionAnswer")},
                    **_problems(*_AUTH, 413, 422),
                },
            },
            "delete": {
                "operationId": "unsubscribe",
                "summary": "Stop holding this customer (idempotent)",
                "responses": {"204": {"description": "Gone"}, **_problems(*_AUTH, 422)},
            },
        },
        "/v1/subscriptions/bulk": {
            "post": {
                "operationId": "subscribeBulk",
                "summary": "Up to 10,000 customers in one call",
                "requestBody": {"required": True, "content": _json("BulkSubscribe")},
                "responses": {
                    "200": {"description": "Per-item outcomes", "content": _json("BulkAnswer")},
                    **_problems(*_AUTH, 413, 422),
                },
            }
        },
        "/v1/subscriptions": {
            "get": {
                "operationId": "listSubscriptions",
                "summary": "What the register holds for you, to reconcile",
                "parameters": _PAGE_PARAMS,
                "responses": {
                    "200": {"description": "A page", "content": _json("SubscriptionsPage")},
                    **_problems(*_AUTH, 422),
                },
            }
        },
        "/v1/events": {
            "get": {
                "operationId": "events",
                "summary": "Your customers' exclusion events after a cursor, oldest first",
                "parameters": _PAGE_PARAMS,
                "responses": {
                    "200": {"description": "A page", "content": _json("EventsPage")},
                    **_problems(*_AUTH, 422),
                },
            }
        },
        "/v1/webhooks/test": {
            "post": {
                "operationId": "testWebhook",
                "summary": "Test keys: send a signed sample exclusion.created to your webhook URL",
                "requestBody": {"required": True, "content": _json("WebhookTest")},
                "responses": {
                    "200": {
                        "description": "What your endpoint answered",
                        "content": _json("WebhookTestAnswer"),
                    },
                    **_problems(*_AUTH, 413, 422),
                },
            }
        },
    }


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a JSON-ready dict)."""
    _, defs = models_json_schema([(m, "validation") for m in _MODELS], ref_template=_REF)
    components = {**defs.get("$defs", {}), "Problem": _PROBLEM}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "NSER operator API",
            "version": "1.0.0",
            "description": (
                "Look up customers against Kenya's National Self-Exclusion Register, "
                "subscribe the customers you hold, and read their exclusion events."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "nser_live_… key"}
            },
        },
    }
