"""The driver path (:class:`core.db.Driver`): inside the session's transaction, bounded, hidden."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import Driver, create_engine, session_factory
from core.models import SmsReminderOptOut
from core.services import Services
from core.settings import Settings
from tests.support.databases import RowFetcher
from tests.support.stores import Process, migrated_private_postgres

OPT_OUT = SmsReminderOptOut.__table__  # type: ignore[attr-defined]
NOW = datetime(2026, 11, 21, 9, tzinfo=UTC)
_ADD = Driver(
    insert(OPT_OUT)
    .values(msisdn_bidx=bindparam("bidx"), created_at=bindparam("now"))
    .returning(OPT_OUT.c.id, OPT_OUT.c.msisdn_bidx, literal("fixed").label("tag"))
)


async def test_driver_writes_roll_back_with_the_session(
    services: Services, rows: RowFetcher
) -> None:
    async with services.db() as db:
        # The first statement of the transaction: the driver path must begin it.
        added = await _ADD.first(db, {"bidx": "b-1", "now": NOW})
        assert added is not None
        assert (added["msisdn_bidx"], added["tag"]) == ("b-1", "fixed")
        await db.rollback()
        await _ADD.fetch(db, {"bidx": "b-2", "now": NOW})
        await db.commit()
    async with services.db() as db:
        await _ADD.fetch(db, {"bidx": "b-3", "now": NOW})
        # leaving the block closes the session without a commit
    assert [row["msisdn_bidx"] for row in await rows("sms_reminder_opt_out")] == ["b-2"]


async def test_the_driver_follows_the_session_from_one_transaction_to_the_next(
    services: Services, rows: RowFetcher
) -> None:
    async with services.db() as db:
        await _ADD.fetch(db, {"bidx": "b-1", "now": NOW})
        await db.commit()
        await _ADD.fetch(db, {"bidx": "b-2", "now": NOW})  # a new transaction, undone below
        await db.rollback()
        await _ADD.fetch(db, {"bidx": "b-3", "now": NOW})
        await db.commit()
    kept = sorted(row["msisdn_bidx"] for row in await rows("sms_reminder_opt_out"))
    assert kept == ["b-1", "b-3"]


async def test_driver_and_session_statements_share_one_transaction(services: Services) -> None:
    async with services.db() as db:
        await db.exec(select(literal(1)))  # type: ignore[call-overload]
        await _ADD.fetch(db, {"bidx": "b-1", "now": NOW})
        seen = await db.exec(  # type: ignore[call-overload]
            select(OPT_OUT.c.msisdn_bidx).where(OPT_OUT.c.msisdn_bidx == "b-1")
        )
        assert seen.all() == [("b-1",)]
        await db.rollback()
    async with services.db() as db:
        left = await db.exec(select(OPT_OUT.c.id))  # type: ignore[call-overload]
        assert left.all() == []


async def test_driver_errors_are_dbapi_errors_without_parameters(services: Services) -> None:
    secret = "a1b2c3d4e5f6-blind-index-of-someone"
    fails = Driver(select(bindparam("secret", type_=OPT_OUT.c.msisdn_bidx.type), text("1/0")))
    async with services.db() as db:
        with pytest.raises(DBAPIError) as failed:
            await fails.fetch(db, {"secret": secret})
    assert "SQL parameters hidden" in str(failed.value)
    assert secret not in str(failed.value)
    async with services.db() as db:
        await _ADD.fetch(db, {"bidx": "b-1", "now": NOW})
        with pytest.raises(DBAPIError, match="UniqueViolation"):
            await _ADD.fetch(db, {"bidx": "b-1", "now": NOW})


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Process]]:
    """A migrated database on a PostgreSQL server of this module's own."""
    with migrated_private_postgres(tmp_path_factory.mktemp("pg")) as made:
        yield made


async def test_a_frozen_server_fails_a_driver_statement_within_the_timeout(
    own_postgres: tuple[str, Process],
) -> None:
    url, postgres = own_postgres
    engine = create_engine(url, pool_size=1, timeout=1.0)
    try:
        async with session_factory(engine)() as db:
            await _ADD.fetch(db, {"bidx": "b-1", "now": NOW})
            with postgres.frozen():
                started = time.monotonic()
                with pytest.raises(TimeoutError):
                    await _ADD.fetch(db, {"bidx": "b-2", "now": NOW})
                assert time.monotonic() - started < 2.0
    finally:
        await engine.dispose()


_BACKEND = select(func.pg_backend_pid())


async def _backend(db: AsyncSession) -> int:
    pid = await (await db.connection()).scalar(_BACKEND)
    assert isinstance(pid, int)
    return pid


async def _kill(services: Services, pid: int) -> None:
    async with services.db() as db:
        await db.exec(select(func.pg_terminate_backend(pid)))  # type: ignore[call-overload]


async def test_a_connection_idle_past_the_limit_is_pinged_and_replaced_when_dead(
    services: Services, settings: Settings
) -> None:
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1, ping_after_idle=0.0)
    try:
        async with session_factory(engine)() as db:
            first = await _backend(db)
        await _kill(services, first)
        async with session_factory(engine)() as db:
            assert await _backend(db) != first  # the ping failed: a new connection
    finally:
        await engine.dispose()


async def test_a_connection_just_used_is_not_pinged(services: Services, settings: Settings) -> None:
    # The other side of the trade: no round trips before a recently used connection's
    # transaction, so a server that dies meanwhile costs that one transaction.
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as db:
            first = await _backend(db)
        await _kill(services, first)
        async with session_factory(engine)() as db:
            with pytest.raises(DBAPIError):
                await _backend(db)
        async with session_factory(engine)() as db:
            assert await _backend(db) != first  # and the pool has replaced it
    finally:
        await engine.dispose()
