"""``GET /healthz``: each store and, where one runs, the worker; quick when a store is frozen."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from core.services import Services, open_services
from core.settings import Settings
from nser.web import WorkerHealth, create_app


@contextmanager
def frozen_server() -> Iterator[int]:
    """A port whose connections the kernel accepts and nobody ever answers: a frozen server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


async def get_health(
    app_settings: Settings, services: Services, **kwargs: WorkerHealth
) -> httpx.Response:
    app = create_app(app_settings, services=services, **kwargs)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        # Bounded here as well, so that a hanging check fails the test instead of stalling it.
        return await asyncio.wait_for(http.get("/healthz"), 10)


async def test_healthz_is_503_within_2_s_when_postgresql_and_redis_are_frozen(
    settings: Settings,
) -> None:
    with frozen_server() as postgres_port, frozen_server() as redis_port:
        frozen = settings.model_copy(
            update={
                "database_url": f"postgresql://postgres@127.0.0.1:{postgres_port}/nser",
                "redis_url": f"redis://127.0.0.1:{redis_port}/0",
            }
        )
        services = open_services(frozen)
        try:
            began = time.monotonic()
            response = await get_health(frozen, services)
            elapsed = time.monotonic() - began
        finally:
            await asyncio.wait_for(services.close(), 10)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    # "timeout" from the check's own limit; a client with a shorter one of its own says so.
    assert body["database"] in {"timeout", "TimeoutError"}
    assert body["redis"] in {"timeout", "TimeoutError"}
    assert "worker" not in body
    assert elapsed < 2


@pytest.mark.parametrize(
    ("worker", "status", "body"),
    [
        (None, 200, {"status": "ok", "database": "ok", "redis": "ok"}),
        (lambda: "ok", 200, {"status": "ok", "database": "ok", "redis": "ok", "worker": "ok"}),
        (
            lambda: "restarting after ConnectionError",
            503,
            {
                "status": "unavailable",
                "database": "ok",
                "redis": "ok",
                "worker": "restarting after ConnectionError",
            },
        ),
    ],
    ids=["web-alone", "worker-ok", "worker-down"],
)
async def test_healthz_reports_the_worker_only_where_one_runs(
    settings: Settings,
    services: Services,
    worker: WorkerHealth | None,
    status: int,
    body: dict[str, str],
) -> None:
    kwargs = {} if worker is None else {"worker_health": worker}
    response = await get_health(settings, services, **kwargs)
    assert response.status_code == status
    assert response.json() == body
