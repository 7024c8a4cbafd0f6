"""The Starlette application: channel routes, health check and error mapping."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import literal
from sqlmodel import select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from core.errors import InvalidInput
from core.services import Services, open_services
from core.settings import Settings
from gateway.guard import path_redactor
from nser.accesslog import AccessLog
from ussd.routes import routes as ussd_routes

log = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    """``GET /healthz``: 200 when PostgreSQL and Redis answer, else 503, with each check."""
    services: Services = request.app.state.services
    checks: dict[str, str] = {}
    try:
        async with services.sessions() as db:
            await db.exec(select(literal(1)))
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports failures, it does not raise them
        checks["database"] = type(exc).__name__
    try:
        await services.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = type(exc).__name__
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", **checks},
        status_code=200 if healthy else 503,
    )


async def invalid_input(request: Request, exc: Exception) -> Response:
    """Map :class:`core.errors.InvalidInput` to ``400`` with a plain-text reason."""
    return PlainTextResponse(f"{exc}\n", status_code=400)


def create_app(settings: Settings, *, services: Services | None = None) -> Starlette:
    """The NSER web app.

    ``settings`` must have both URLs resolved. Given ``services`` (tests, the
    ``nser serve`` runner), the app uses them and leaves closing to the caller;
    otherwise it opens its own at startup and closes them at shutdown.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if services is not None:
            yield
            return
        own = open_services(settings)
        app.state.services = own
        try:
            yield
        finally:
            await own.close()

    app = Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), *ussd_routes(settings)],
        exception_handlers={InvalidInput: invalid_input},
        middleware=[Middleware(AccessLog, redact=path_redactor(settings))],
        lifespan=lifespan,
    )
    if services is not None:
        app.state.services = services
    return app
