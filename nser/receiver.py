"""A webhook receiver as an operator would write one: verifies every delivery, then answers.

Used by ``nser operator-sim`` (:mod:`nser.operator_sim`), by the tests and by
``bench/propagation.py``. Each POST is verified with the official
``standardwebhooks`` package against the operator's signing secret (any of
several, as during a rotation); a delivery whose ``webhook-id`` was seen before
is a *replay*. The receiver answers ``204`` to a verified delivery and ``401``
to one that does not verify, unless an ``answer`` policy says otherwise (tests
use it to play a failing, rate-limited or gone endpoint).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp


@dataclass(frozen=True)
class Received:
    """One POST: its ``webhook-id``, the verified ``event`` (``None`` if it did not verify).

    ``at`` is ``time.time()`` on arrival; ``replay`` is true when the same
    ``webhook-id`` arrived before; ``headers`` and ``body`` are as sent.
    """

    webhook_id: str
    event: dict[str, Any] | None
    error: str | None
    replay: bool
    at: float
    headers: dict[str, str]
    body: bytes

    @property
    def verified(self) -> bool:
        """True when a signature matched one of the secrets and the timestamp was fresh."""
        return self.event is not None

    def line(self) -> str:
        """One line for a terminal, without any identifier of the person but the BST."""
        if self.event is None:
            return f"REJECTED webhook-id={self.webhook_id or '-'} ({self.error})"
        data = self.event.get("data", {})
        test = " test" if data.get("test") else ""
        return (
            f"verified{' replay' if self.replay else ''}{test} {self.event.get('type')} "
            f"webhook-id={self.webhook_id} customer_ref={data.get('customer_ref')} "
            f"bst={data.get('bst')} until={data.get('until') or 'permanent'} "
            f"event_id={data.get('event_id')}"
        )


#: Decides the answer to a delivery: a status code and extra headers.
Answer = Callable[[Received], Awaitable[tuple[int, dict[str, str]]]]


async def verified_or_401(received: Received) -> tuple[int, dict[str, str]]:
    """The default policy: ``204`` for a verified delivery, ``401`` otherwise."""
    return (204, {}) if received.verified else (401, {})


@dataclass
class WebhookReceiver:
    """Verifies deliveries signed with any of ``secrets`` and keeps them in ``received``."""

    secrets: list[str]
    answer: Answer = verified_or_401
    on_receive: Callable[[Received], None] | None = None
    received: list[Received] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    def verify(self, body: bytes, headers: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
        """The verified JSON payload, or ``None`` and why not."""
        error = "no secret"
        for secret in self.secrets:
            try:
                event: dict[str, Any] = Webhook(secret).verify(body, headers)
            except (WebhookVerificationError, ValueError) as exc:
                error = str(exc) or type(exc).__name__
                continue
            return event, ""
        return None, error

    async def handle(self, request: Request) -> Response:
        """``POST``: verify, record, then answer as the policy says."""
        body = await request.body()
        headers = dict(request.headers)
        event, error = self.verify(body, headers)
        webhook_id = headers.get("webhook-id", "")
        replay = any(r.webhook_id == webhook_id and r.verified for r in self.received)
        received = Received(
            webhook_id,
            event,
            error or None,
            replay and event is not None,
            time.time(),
            headers,
            body,
        )
        self.received.append(received)
        if self.on_receive is not None:
            self.on_receive(received)
        async with self._arrived:
            self._arrived.notify_all()
        status, extra = await self.answer(received)
        return Response(status_code=status, headers=extra)

    def app(self, path: str = "/webhooks") -> Starlette:
        """A Starlette app taking deliveries at ``path``."""
        return Starlette(routes=[Route(path, self.handle, methods=["POST"])])

    async def wait_for(
        self, condition: Callable[[list[Received]], bool], *, seconds: float
    ) -> list[Received]:
        """Wait until ``condition(received)`` holds; returns ``received``.

        Raises:
            TimeoutError: it did not hold within ``seconds``.
        """
        async with asyncio.timeout(seconds), self._arrived:
            await self._arrived.wait_for(lambda: condition(self.received))
        return self.received

    def verified(self) -> list[Received]:
        """The deliveries that verified, in arrival order."""
        return [r for r in self.received if r.verified]


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A bound TCP socket (``port`` 0: any free one).

    Raises:
        OSError: the address is taken or not on this machine.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signals alone (its host handles them)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, sock: socket.socket) -> AsyncIterator[str]:
    """Serve ``app`` on ``sock`` in this event loop; yields ``http://host:port``."""
    # A request still hanging at the end (a test's stuck endpoint) is cancelled after 1 s.
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()  # raises what stopped it
                await asyncio.sleep(0.01)
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        sock.close()
