"""Test databases: made fresh per test session, emptied per test, read back as rows.

The app runs as a restricted service role, as in production (:mod:`core.privileges`):
:func:`service_role_url` makes one per test database (roles are cluster-wide, and
several test sessions may share a server), :func:`drop_service_role` removes it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.db import async_url
from core.models import metadata
from core.privileges import ensure_login_role, grant_statements

#: Every table of the models, children first; derived, so a new table is never forgotten.
TABLES = tuple(table.name for table in reversed(metadata.sorted_tables))

RowFetcher = Callable[[str], Awaitable[list[dict[str, Any]]]]


async def admin(url: str, *statements: str) -> None:
    """Run ``statements`` on ``url`` outside any transaction (CREATE/DROP DATABASE)."""
    engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


def fresh_database(server_url: str, prefix: str = "nser_test") -> str:
    """Create an empty database on ``server_url``; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin(server_url, f'CREATE DATABASE "{name}"'))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    """Drop a database made by :func:`fresh_database`."""
    name = make_url(url).database
    asyncio.run(admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def service_role_url(owner_url: str) -> str:
    """Create the database's own service role (``<database>_svc``), grant it; returns its URL."""
    parsed = make_url(owner_url)
    role = f"{parsed.database}_svc"
    ensure_login_role(owner_url, role)
    asyncio.run(admin(owner_url, *grant_statements(role)))
    return parsed.set(username=role, password=None).render_as_string(hide_password=False)


def drop_service_role(server_url: str, service_url: str) -> None:
    """Drop a role made by :func:`service_role_url` (after its database was dropped)."""
    role = make_url(service_url).username
    asyncio.run(admin(server_url, f'DROP ROLE IF EXISTS "{role}"'))


async def empty_tables(owner_url: str) -> None:
    """TRUNCATE every table of the models, restarting their ids (as a superuser).

    On a connection of its own, without the service's 2 s statement timeout: a
    TRUNCATE creates new files for every table and can take longer on a busy disk.
    The audit tables refuse TRUNCATE by trigger; a superuser's session in
    ``replica`` mode fires no triggers.
    """
    await admin(
        owner_url,
        "SET session_replication_role = replica",
        f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE",
    )


def row_fetcher(engine: AsyncEngine) -> RowFetcher:
    """``await fetch("exclusion")``: every row of a model table as dicts, in id order."""

    async def fetch(table: str) -> list[dict[str, Any]]:
        assert table in TABLES, f"{table} is not a table of the models"
        async with engine.connect() as conn:
            result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))
            return [dict(row._mapping) for row in result]

    return fetch
