"""Fixtures of the operator API tests: a registered operator and a client carrying its key."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from core import operators
from core.models import KeyMode
from core.services import Services


@dataclass(frozen=True)
class Registered:
    """An operator made for a test, with its credentials."""

    id: int
    key: str
    key_id: int
    secret: str

    @property
    def auth(self) -> dict[str, str]:
        """The ``Authorization`` header of its live key."""
        return {"Authorization": f"Bearer {self.key}"}


async def register(
    services: Services, name: str = "Bet Test Ltd", licence: str = "GRAK-0001", **extra: object
) -> Registered:
    """Register an operator through core, as the CLI does."""
    async with services.db() as db:
        made = await operators.register(
            db,
            keyring=services.keyring,
            name=name,
            licence=licence,
            actor="test",
            now=services.clock(),
            **extra,  # type: ignore[arg-type]
        )
        await db.commit()
    return Registered(made.id, made.api_key.key, made.api_key.id, made.webhook_secret)


async def make_test_key(services: Services, operator_id: int) -> str:
    """A ``nser_test_`` key for ``operator_id``."""
    async with services.db() as db:
        key = await operators.create_key(
            db, operator_id=operator_id, mode=KeyMode.TEST, actor="test", now=services.clock()
        )
        await db.commit()
    return key.key


@pytest.fixture
async def operator(services: Services) -> Registered:
    """One active operator with a live key and a webhook secret."""
    return await register(services)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 3.0, step: float = 0.05
) -> None:
    """Wait until ``check()`` is true (background refreshes run every 0.25-1 s).

    Raises:
        AssertionError: still false after ``within`` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(step)


async def lookup(client: httpx.AsyncClient, who: Registered, **body: object) -> httpx.Response:
    """``POST /v1/lookups`` with ``who``'s key."""
    return await client.post("/v1/lookups", json=body, headers=who.auth)
