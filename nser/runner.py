"""Running processes: the web app and the ARQ worker, together or apart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Generator

import uvicorn

from core.jobs import create_worker
from core.services import open_services
from core.settings import Settings
from nser.web import create_app

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to :func:`serve_all`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve_all(settings: Settings, *, host: str, port: int) -> None:
    """Serve HTTP and run the ARQ worker in this process until SIGINT or SIGTERM.

    ``settings`` must have both URLs resolved and the schema migrated.
    """
    services = open_services(settings)
    app = create_app(settings, services=services)
    server = _Server(
        uvicorn.Config(
            app, host=host, port=port, log_level=settings.log_level.lower(), lifespan="on"
        )
    )
    worker = create_worker(settings, services=services, handle_signals=False)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    worker_task = asyncio.create_task(worker.async_run())
    try:
        await server.serve()
    finally:
        worker_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker_task
        await worker.close()
        await services.close()
        log.info("stopped")
