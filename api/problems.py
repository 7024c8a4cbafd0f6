"""RFC 9457 problem details, the operator API's one error convention, and request ids.

Every answer carries ``X-Request-Id``: the caller's own if it sent a usable one
(1–64 characters of ``A-Z a-z 0-9 . _ -``), else a new random one. Errors are
``application/problem+json``::

    {"type": "https://nser.go.ke/problems/invalid-input", "title": "Invalid input",
     "status": 422, "detail": "…", "request_id": "…",
     "errors": [{"field": "msisdn", "message": "not a valid phone number"}]}
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_KEY = "nser.request_id"
PROBLEM_BASE = "https://nser.go.ke/problems/"
_USABLE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class Problem(Exception):
    """An API error answered as problem details (raised by handlers, rendered by the app)."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def field_errors(errors: dict[str, str], *, prefix: str = "") -> list[dict[str, Any]]:
    """``{"msisdn": "bad"}`` as problem ``errors`` entries (``field`` names may be prefixed)."""
    return [{"field": prefix + name, "message": message} for name, message in errors.items()]


def request_id(scope: Scope) -> str:
    """The id of the request being served (set by :class:`RequestIds`)."""
    value: str = scope.get(REQUEST_ID_KEY, "")
    return value


def render(problem: Problem, scope: Scope) -> Response:
    """The ``application/problem+json`` response for ``problem``."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "request_id": request_id(scope),
    }
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=problem.status,
        media_type="application/problem+json",
        headers=problem.headers,
    )


class RequestIds:
    """ASGI wrapper: picks each request's id and puts ``X-Request-Id`` on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with ``scope[REQUEST_ID_KEY]`` set, echoing it in the answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = given.decode() if given and _USABLE_ID.fullmatch(given) else secrets.token_hex(12)
        scope[REQUEST_ID_KEY] = rid
        raw = rid.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", raw)]
            await send(message)

        await self.app(scope, receive, send_with_id)
