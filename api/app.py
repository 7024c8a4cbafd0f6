"""The operator API as a Starlette sub-app under ``/v1``, answering errors as problem details.

Its convention (RFC 9457 ``application/problem+json`` with a request id) is set
here and nowhere else: domain errors and failures of the stores are mapped in one
table of exception handlers, so no handler formats an error by itself, and no
input gets a 5xx.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from api.openapi import document
from api.problems import Problem, RequestIds, field_errors, render
from api.routes import routes
from api.transparency import routes as audit_routes
from core.errors import InvalidInput, NotFound
from core.register_cache import RegisterUnavailable
from core.settings import Settings
from core.subscriptions import FieldErrors

log = logging.getLogger(__name__)

#: The path prefix the composition root dispatches to this app.
PREFIX = "/v1"


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return render(exc, request.scope)


async def _fields(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FieldErrors)
    problem = Problem(422, "invalid-input", "Invalid input", errors=field_errors(exc.errors))
    return render(problem, request.scope)


async def _invalid(request: Request, exc: Exception) -> Response:
    return render(Problem(422, "invalid-input", "Invalid input", str(exc)), request.scope)


async def _not_found(request: Request, exc: Exception) -> Response:
    return render(Problem(404, "not-found", "Not found", str(exc)), request.scope)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    problem = Problem(exc.status_code, slug, exc.detail, headers=dict(exc.headers or {}))
    return render(problem, request.scope)


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("operator API unavailable: %s", type(exc).__name__)
    problem = Problem(
        503,
        "unavailable",
        "Register temporarily unavailable",
        "try again shortly; do not treat this as 'not excluded'",
        headers={"Retry-After": "1"},
    )
    return render(problem, request.scope)


async def _bug(request: Request, exc: Exception) -> Response:
    log.error("operator API failure", exc_info=exc)
    return render(Problem(500, "internal", "Internal error"), request.scope)


async def openapi(request: Request) -> Response:
    """``GET /v1/openapi.json``: the OpenAPI 3.1 document of this API (no key needed)."""
    return JSONResponse(document())


def create_app(settings: Settings) -> ASGIApp:
    """The ``/v1`` sub-app (``settings`` is accepted for symmetry with the other channels)."""
    del settings
    app = Starlette(
        routes=[
            *routes(),
            *audit_routes(),
            Route("/v1/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={
            Problem: _problem,
            FieldErrors: _fields,
            InvalidInput: _invalid,
            NotFound: _not_found,
            HTTPException: _http,
            RegisterUnavailable: _unavailable,
            SQLAlchemyError: _unavailable,
            OSError: _unavailable,
            TimeoutError: _unavailable,
            Exception: _bug,
        },
    )
    return RequestIds(app)
