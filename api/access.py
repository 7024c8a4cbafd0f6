"""Who is calling and what they sent: API key, allowlist, rate limit and bounded JSON bodies.

Status codes, in the order checked: ``503`` when the register cannot be loaded,
``401`` for a missing, malformed, unknown or revoked key (with
``WWW-Authenticate: Bearer``), ``403`` for a suspended operator or a source
address outside its allowlist, ``429`` with ``Retry-After`` past the key's rate;
then ``413`` for a body over the endpoint's limit and ``422`` for a body that is
not the expected JSON (per-field ``errors``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from api.problems import Problem
from core.api_access import Principal
from core.desk import OperatorDesk
from core.services import Services, services_in
from gateway.guard import client_address

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of one request, with the process's services and desk."""

    services: Services
    desk: OperatorDesk
    principal: Principal


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def caller(request: Request, *, cost: int = 1) -> Caller:
    """Authenticate the request's ``Authorization: Bearer <key>`` and spend ``cost`` of its rate.

    Raises:
        Problem: 401, 403 or 429 as the module docstring says.
    """
    services = services_in(request.scope)
    desk = await services.operator_desk()
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise _unauthorized("send the API key as 'Authorization: Bearer <key>'")
    principal = desk.keys.authenticate(key.strip())
    if principal is None:
        raise _unauthorized("unknown or revoked API key")
    if not principal.active:
        raise Problem(403, "suspended", "Operator suspended", "this operator may not use the API")
    # The address is worked out only for an operator with an allowlist (most have none): it
    # parses the peer and the trusted proxies' networks, a few per cent of a lookup's CPU.
    if principal.networks and not principal.allows(
        client_address(request, services.settings.proxy_networks)
    ):
        raise Problem(403, "address-refused", "Address not allowed", "source address not allowed")
    wait = desk.keys.take(principal, cost)
    if wait:
        raise Problem(
            429,
            "rate-limited",
            "Too many requests",
            f"this key may make {desk.keys.rate:g} requests per second",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return Caller(services, desk, principal)


async def read_body(request: Request, model: type[Model], limit: int) -> Model:
    """The request body (at most ``limit`` bytes) parsed as JSON into ``model``.

    Raises:
        Problem: 413 over ``limit``; 422 not JSON or not the model (per-field errors).
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    # ASGI's receive read directly: Starlette's ``request.stream()`` is an async generator
    # around the same loop, a measurable share of a lookup's CPU (bench/README.md).
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await request.receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    try:
        return model.model_validate_json(b"".join(chunks))
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(part) for part in error["loc"]) or "body",
                "message": error["msg"],
            }
            for error in exc.errors(include_url=False)
        ]
        raise Problem(422, "invalid-input", "Invalid input", errors=errors) from exc


def _too_large(limit: int) -> Problem:
    return Problem(413, "too-large", "Body too large", f"at most {limit} bytes")
