"""Writing entries: one INSERT at commit, queued for the sequencer by the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy import event, literal, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.errors import ConfigurationError
from core.services import Services
from tests.support.audit import count, write_entries
from tests.support.databases import RowFetcher


async def test_a_transactions_entries_are_one_insert_and_take_no_lock(services: Services) -> None:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement.split()[0] + " " + statement.split()[2])

    event.listen(services.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with services.db() as db:
            for n in range(3):
                await audit.append(db, actor="staff:test", action=f"test.{n}", entity="thing")
            await db.commit()
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", record)
    assert statements == ["INSERT audit_entry"]
    assert await count(services, "audit_entry") == 3
    assert await count(services, "audit_unsequenced") == 3  # queued by the trigger
    assert await count(services, "audit_leaf") == 0


async def test_entries_of_a_rolled_back_transaction_are_never_written(
    services: Services, rows: RowFetcher
) -> None:
    async with services.db() as db:
        await audit.append(db, actor="staff:test", action="test.lost", entity="thing:0")
        await db.rollback()
        await audit.append(db, actor="staff:test", action="test.kept", entity="thing:1")
        await db.commit()
    async with services.db() as db:
        await audit.append(db, actor="staff:test", action="test.unfinished", entity="thing:2")
        # leaving the block closes the session without a commit
    assert [row["action"] for row in await rows("audit_entry")] == ["test.kept"]
    assert await count(services, "audit_unsequenced") == 1


async def test_append_refuses_a_session_that_would_not_insert_its_entries(
    services: Services, rows: RowFetcher
) -> None:
    # Regression: a plain sessionmaker committed and silently stored no audit row.
    plain = async_sessionmaker(services.engine, class_=AsyncSession)
    async with plain() as db:
        with pytest.raises(ConfigurationError, match="session_factory"):
            await audit.append(db, actor="staff:test", action="test.entry", entity="thing:1")
    await write_entries(services, 1)
    assert len(await rows("audit_entry")) == 1


async def test_database_errors_never_show_statement_parameters(services: Services) -> None:
    secret = "a1b2c3d4e5f6-blind-index-of-someone"
    async with services.db() as db:
        with pytest.raises(DBAPIError) as failed:
            # Fails after binding (division by zero), with the identifier as a parameter.
            await db.exec(select(literal(secret), text("1/0")))
    assert "SQL parameters hidden" in str(failed.value)
    assert secret not in str(failed.value)
