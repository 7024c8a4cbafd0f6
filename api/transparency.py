"""The audit log's publication on the operator API: operators are its witnesses.

``GET /v1/audit/checkpoint`` is the latest signed checkpoint (C2SP signed note,
``text/plain``); ``/v1/audit/proofs/inclusion?index=I&size=N`` and
``/v1/audit/proofs/consistency?first=N&second=M`` are RFC 9162 proofs, each a
JSON list of base64 SHA-256 hashes in the order the RFC's verifiers read them.
A witness keeps every checkpoint it sees and checks each new one is consistent
with the last (see docs/operators.md).
"""

from __future__ import annotations

import base64

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from api.access import caller
from api.problems import Problem, field_errors
from core.audit import proofs

_MAX = 2**62


def _whole(request: Request, *names: str) -> list[int]:
    values, errors = [], {}
    for name in names:
        raw = request.query_params.get(name, "")
        if raw.isdigit() and int(raw) <= _MAX:
            values.append(int(raw))
        else:
            errors[name] = f"a whole number from 0 to {_MAX}"
    if errors:
        raise Problem(422, "invalid-input", "Invalid input", errors=field_errors(errors))
    return values


def _hashes(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


async def checkpoint(request: Request) -> Response:
    """``GET /v1/audit/checkpoint``: the latest signed checkpoint note, or 404 before the first."""
    call = await caller(request)
    async with call.services.db() as db:
        latest = await proofs.latest_checkpoint(db)
    if latest is None:
        raise Problem(404, "not-found", "No checkpoint yet", "the log has not been signed yet")
    return PlainTextResponse(latest.note)


async def inclusion(request: Request) -> Response:
    """``GET /v1/audit/proofs/inclusion?index=I&size=N``: leaf I's audit path in tree N."""
    call = await caller(request)
    index, size = _whole(request, "index", "size")
    async with call.services.db() as db:
        proof = await proofs.inclusion_proof(db, index=index, size=size)
    return JSONResponse({"index": index, "size": size, "proof": _hashes(proof)})


async def consistency(request: Request) -> Response:
    """``GET /v1/audit/proofs/consistency?first=N&second=M``: tree N is a prefix of tree M."""
    call = await caller(request)
    first, second = _whole(request, "first", "second")
    async with call.services.db() as db:
        proof = await proofs.consistency_proof(db, first=first, second=second)
    return JSONResponse({"first": first, "second": second, "proof": _hashes(proof)})


def routes() -> list[Route]:
    """The ``/v1/audit`` routes."""
    return [
        Route("/v1/audit/checkpoint", checkpoint, methods=["GET"]),
        Route("/v1/audit/proofs/inclusion", inclusion, methods=["GET"]),
        Route("/v1/audit/proofs/consistency", consistency, methods=["GET"]),
    ]
