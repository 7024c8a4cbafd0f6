"""An access log that never writes a citizen's identifiers.

uvicorn's own access log prints the full request line, query string included,
so ``GET /ussd?phoneNumber=%2B2547…`` would put a number in the log in clear.
NSER turns it off (``access_log=False``) and logs here instead: method, path
without the query string and with the callback token redacted
(:meth:`gateway.guard.CallbackGuard.redact`), status and duration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("nser.access")


class AccessLog:
    """ASGI middleware: one ``INFO`` line per HTTP request on logger ``nser.access``.

    ``redact`` maps a path to what may be logged (e.g. with a secret token replaced).
    """

    def __init__(self, app: ASGIApp, *, redact: Callable[[str], str] = lambda path: path) -> None:
        self.app = app
        self.redact = redact

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and log it once answered (status 500 if it raised).

        With ``nser.access`` not logging ``INFO`` (``NSER_LOG_LEVEL=WARNING``) the
        request goes straight through: no line would be written, so nothing is timed.
        """
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                self.redact(scope["path"]),
                status,
                (time.perf_counter() - started) * 1000,
            )
