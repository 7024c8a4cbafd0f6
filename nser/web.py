"""The Starlette application: channel routes, health check and error mapping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
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


#: Seconds each health check may take, so that a frozen store gets a 503 within 2 s.
HEALTH_TIMEOUT = 1.5

#: Reports the worker running in this process: ``"ok"`` or what it is doing instead.
WorkerHealth = Callable[[], str]


async def _probe(check: Awaitable[object]) -> str:
    """``"ok"``, ``"timeout"`` or the failure's exception name."""
    try:
        await asyncio.wait_for(check, HEALTH_TIMEOUT)
    except TimeoutError:
        return "timeout"
    except Exception as exc:  # a health check reports failures, it does not raise them
        return type(exc).__name__
    return "ok"


async def _database(services: Services) -> None:
    async with services.sessions() as db:
        await db.exec(select(literal(1)))


async def _redis(services: Services) -> None:
    await services.redis.ping()


async def healthz(request: Request) -> Response:
    """``GET /healthz``: 200 when every check is ``"ok"``, else 503; within 2 s either way.

    Checks ``database`` and ``redis`` (each given 1.5 s), and ``worker`` in a
    process that runs one (``nser serve``): ``{"status": "ok", "database": "ok", ...}``.
    """
    services: Services = request.app.state.services
    database, redis = await asyncio.gather(_probe(_database(services)), _probe(_redis(services)))
    checks = {"database": database, "redis": redis}
    worker_health: WorkerHealth | None = request.app.state.worker_health
    if worker_health is not None:
        checks["worker"] = worker_health()
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", **checks},
        status_code=200 if healthy else 503,
    )


async def invalid_input(request: Request, exc: Exception) -> Response:
    """Map :class:`core.errors.InvalidInput` to ``400`` with a plain-text reason."""
    return PlainTextResponse(f"{exc}\n", status_code=400)


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    worker_health: WorkerHealth | None = None,
) -> Starlette:
    """The NSER web app.

    ``settings`` must have both URLs resolved. Given ``services`` (tests, the
    ``nser serve`` runner), the app uses them and leaves closing to the caller;
    otherwise it opens its own at startup and closes them at shutdown. Given
    ``worker_health`` (a process that also runs the worker), ``/healthz`` reports it.
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
    app.state.worker_health = worker_health
    if services is not None:
        app.state.services = services
    return app
