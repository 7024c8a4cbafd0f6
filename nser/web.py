"""The web app: the health check, and each channel's sub-app with its own error convention."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import literal
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from api import app as api_app
from core.services import SCOPE_KEY, Services, open_services, services_in
from core.settings import Settings
from gateway.guard import path_redactor
from nser.accesslog import AccessLog
from sms import app as sms_app
from ussd import app as ussd_app

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
    async with services.db() as db:
        await db.exec(select(literal(1)))


async def _redis(services: Services) -> None:
    await services.redis.ping()


async def healthz(request: Request) -> Response:
    """``GET /healthz``: 200 when every check is ``"ok"``, else 503; within 2 s either way.

    Checks ``database`` and ``redis`` (each given 1.5 s), and ``worker`` in a
    process that runs one (``nser serve``): ``{"status": "ok", "database": "ok", ...}``.
    """
    services = services_in(request.scope)
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


class Channels:
    """ASGI dispatch by path prefix: each channel's sub-app gets its requests with full paths.

    A request whose path is a channel's prefix or lies under it (``/ussd``,
    ``/ussd/events``) goes to that channel's app, which keeps its own routes and
    error convention; everything else, and the lifespan, goes to ``root``.
    Unlike a Starlette ``Mount``, the bare prefix is served as it is (the gateway
    posts to ``/ussd``, which a mount would redirect to ``/ussd/``). Every HTTP
    request gets the process's services in its scope first (``services()``, read
    per request: an app that opens its own has them only once its lifespan began).
    """

    def __init__(
        self,
        root: ASGIApp,
        channels: dict[str, ASGIApp],
        services: Callable[[], Services | None],
    ) -> None:
        self.root = root
        self.channels = channels
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to the channel that owns its path, else to ``root``."""
        if scope["type"] == "http":
            scope[SCOPE_KEY] = self.services()
            path: str = scope["path"]
            for prefix, app in self.channels.items():
                if path == prefix or path.startswith(prefix + "/"):
                    await app(scope, receive, send)
                    return
        await self.root(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    worker_health: WorkerHealth | None = None,
) -> ASGIApp:
    """The NSER web app: ``/healthz`` and every channel's sub-app, behind the access log.

    ``settings`` must have both URLs resolved. Given ``services`` (tests, the
    ``nser serve`` runner), the app uses them and leaves closing to the caller;
    otherwise it opens its own at startup and closes them at shutdown. Either
    way each request carries them in its scope (:func:`core.services.services_in`).
    Given ``worker_health`` (a process that also runs the worker), ``/healthz``
    reports it.
    """
    current: dict[str, Services | None] = {"services": services}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if services is not None:
            yield
            return
        own = open_services(settings)
        current["services"] = own
        try:
            yield
        finally:
            await own.close()

    root = Starlette(routes=[Route("/healthz", healthz, methods=["GET"])], lifespan=lifespan)
    root.state.worker_health = worker_health
    channels = Channels(
        root,
        {
            ussd_app.PREFIX: ussd_app.create_app(settings),
            api_app.PREFIX: api_app.create_app(settings),
            sms_app.PREFIX: sms_app.create_app(settings),
        },
        lambda: current["services"],
    )
    return AccessLog(channels, redact=path_redactor(settings))
