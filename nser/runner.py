"""Running processes: the web app and the ARQ worker, together or apart.

:func:`serve` runs uvicorn on a socket the caller has already bound (so a taken
port fails before anything starts) and, for ``nser serve``, a supervised ARQ
worker, in one event loop; :func:`run_worker` runs the worker alone (``nser
worker``). SIGINT and SIGTERM stop them in order: HTTP first (in-flight requests
finish), then the worker (running jobs get a grace period), then the services.
A second signal stops waiting for open HTTP connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeVar

import uvicorn
from arq.worker import Worker
from redis.exceptions import RedisError

from core.services import Services, open_services
from core.settings import Settings
from gateway.guard import REDACTED
from nser.supervisor import WorkerSupervisor
from nser.web import create_app
from nser.worker import create_worker

log = logging.getLogger(__name__)
T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: Net allocations of container objects between two collections of the cyclic
#: collector's youngest generation in a web process (Python's default is 700).
YOUNG_GENERATION = 10_000


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port``, not yet listening (uvicorn listens on it).

    Raises:
        OSError: the address is in use, or cannot be assigned on this machine.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: accepted sockets inherit the protocol number, and the event
    # loop sets TCP_NODELAY only on sockets that say they are TCP. Without it every
    # keep-alive answer sent in two writes waits 40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # Lets a restart bind at once while the last run's connections sit in TIME_WAIT;
        # a port with a live listener is still refused.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop (as ``uvicorn.run`` would), or asyncio's loop without it."""
    try:
        import uvloop
    except ImportError:  # uvloop is optional (uvicorn[standard] brings it on Linux and macOS)
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to us and says where it serves once it does."""

    def __init__(self, config: uvicorn.Config, *, announce: str) -> None:
        super().__init__(config)
        self._announce = announce

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            log.info("%s", self._announce)


def callback_banner(url: str, settings: Settings) -> str:
    """The serving line: where the gateway posts callbacks (a path token shows as ``<token>``)."""
    token = f"/{REDACTED}" if settings.path_token else ""
    return (
        f"serving on {url} (callbacks: POST {url}/ussd{token}, {url}/sms{token}/inbound and "
        f"{url}/sms{token}/delivery-reports)"
    )


def _on_stop_signal(callback: Callable[[signal.Signals], None]) -> None:
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, callback, signum)
    loop.set_exception_handler(_orphan_failure)


def _orphan_failure(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """One line for a lost Redis write in a task nobody awaits; the default for the rest.

    ARQ records a job's result in a shielded task that outlives the job; if Redis
    is unreachable when the worker stops, that write fails with nobody to tell.
    """
    exc = context.get("exception")
    if isinstance(exc, RedisError | OSError):
        log.warning("lost a background Redis write: %s: %s", type(exc).__name__, exc)
        return
    loop.default_exception_handler(context)


def _supervisor(settings: Settings, services: Services) -> WorkerSupervisor:
    def factory() -> Worker:
        return create_worker(settings, services=services, handle_signals=False)

    return WorkerSupervisor(factory)


async def serve(settings: Settings, sock: socket.socket, *, worker: bool) -> None:
    """Serve HTTP on ``sock`` (and run the worker if ``worker``) until SIGINT or SIGTERM.

    ``settings`` must have both URLs resolved and the schema migrated. ``/healthz``
    reports the worker when there is one.
    """
    # Requests allocate many short-lived containers (the ASGI scope and messages,
    # header lists), nearly all freed by reference count. Under lookup load the
    # default threshold ran a young collection about 10 times a second, 10,000
    # about once; the web process then served 4-6 % more lookups in alternating
    # runs (identical code against itself: within 2 %). The collections' own time,
    # timed with gc.callbacks, was under 1 % either way, so the gain is not all
    # explained by it; the bound on uncollected young garbage stays small.
    gc.set_threshold(YOUNG_GENERATION, *gc.get_threshold()[1:])
    services = open_services(settings)
    supervisor = _supervisor(settings, services) if worker else None
    app = create_app(
        settings, services=services, worker_health=supervisor.health if supervisor else None
    )
    url = base_url(sock)
    server = _Server(
        # uvicorn's access log prints query strings; nser.access logs requests without them.
        uvicorn.Config(app, log_level=settings.log_level.lower(), lifespan="on", access_log=False),
        announce=callback_banner(url, settings),
    )
    received: list[signal.Signals] = []

    def stop(signum: signal.Signals) -> None:
        received.append(signum)
        server.force_exit = server.should_exit  # a second signal: stop waiting for connections
        server.should_exit = True

    _on_stop_signal(stop)
    try:
        if supervisor is not None:
            supervisor.start()
        await server.serve(sockets=[sock])
    finally:
        if supervisor is not None:
            await supervisor.stop(received[0] if received else signal.SIGTERM)
        await services.close()
        log.info("stopped")


async def run_worker(settings: Settings) -> None:
    """Run the supervised ARQ worker alone until SIGINT or SIGTERM (``nser worker``)."""
    services = open_services(settings)
    supervisor = _supervisor(settings, services)
    received: list[signal.Signals] = []
    stopped = asyncio.Event()

    def stop(signum: signal.Signals) -> None:
        received.append(signum)
        stopped.set()

    _on_stop_signal(stop)
    waiter = asyncio.create_task(stopped.wait())
    try:
        running = supervisor.start()
        await asyncio.wait([running, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        await supervisor.stop(received[0] if received else signal.SIGTERM)
        await services.close()
        log.info("stopped")
