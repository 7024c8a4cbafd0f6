"""The hash-chained audit log: appends, verification, tamper detection, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import literal, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.errors import ConfigurationError
from core.services import Services
from core.settings import Settings
from tests.support.databases import RowFetcher
from tests.support.keys import TEST_ENCRYPTION_KEYS, TEST_INDEX_KEY


async def write_entries(services: Services, count: int) -> None:
    async with services.db() as db:
        for n in range(count):
            await audit.append(
                db,
                actor="staff:test",
                action="test.entry",
                entity=f"thing:{n}",
                subject="BST-TEST",
                before={"n": n},
                after={"n": n + 1, "note": "Kiswahili: ng'ombe"},
                occurred_at=services.clock(),
            )
        await db.commit()


async def verify(services: Services) -> audit.ChainReport:
    async with services.db() as db:
        return await audit.verify(db, batch=3)


@asynccontextmanager
async def trigger_off(services: Services) -> AsyncIterator[None]:
    """What a DBA with table-owner rights could do: switch off append-only protection."""
    async with services.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
    try:
        yield
    finally:
        async with services.engine.begin() as conn:
            await conn.execute(
                text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only")
            )


async def test_chain_links_every_entry(services: Services) -> None:
    await write_entries(services, 7)
    report = await verify(services)
    assert report.ok
    assert report.checked == 7
    async with services.engine.connect() as conn:
        first_prev = await conn.scalar(
            text("SELECT prev_hash FROM audit_entry ORDER BY id LIMIT 1")
        )
    assert first_prev == audit.GENESIS


async def test_database_refuses_update_and_delete(services: Services) -> None:
    await write_entries(services, 1)
    for statement in ("UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with services.engine.begin() as conn:
                await conn.execute(text(statement))


@pytest.mark.parametrize(
    ("tamper", "broken", "reason"),
    [
        (
            "UPDATE audit_entry SET actor = 'staff:mallory' WHERE id = 4",
            4,
            "content does not match",
        ),
        ("UPDATE audit_entry SET after = '{\"n\": 99}' WHERE id = 5", 5, "content does not match"),
        ("DELETE FROM audit_entry WHERE id = 3", 4, "does not link"),
        (
            "UPDATE audit_entry SET occurred_at = occurred_at + interval '1 second' WHERE id = 6",
            6,
            "content does not match",
        ),
    ],
)
async def test_verify_names_the_first_broken_entry(
    services: Services, tamper: str, broken: int, reason: str
) -> None:
    await write_entries(services, 7)
    async with trigger_off(services), services.engine.begin() as conn:
        await conn.execute(text(tamper))
    report = await verify(services)
    assert not report.ok
    assert report.broken_id == broken
    assert report.reason is not None
    assert reason in report.reason


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "NSER_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
        "NSER_INDEX_KEY": TEST_INDEX_KEY,
        "NSER_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "nser", *args], env=env, capture_output=True, text=True, timeout=60
    )


async def test_cli_audit_verify_passes_then_names_the_break(
    services: Services, settings: Settings
) -> None:
    await write_entries(services, 3)
    good = run_cli(settings, "audit", "verify")
    assert good.returncode == 0, good.stderr
    assert good.stdout == "audit chain OK: 3 entries verified\n"
    async with trigger_off(services), services.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_entry SET action = 'x' WHERE id = 2"))
    bad = run_cli(settings, "audit", "verify")
    assert bad.returncode == 1
    assert bad.stdout == (
        "audit chain BROKEN at entry 2: content does not match its hash "
        "(1 entries verified before it)\n"
    )


async def test_entries_of_a_rolled_back_transaction_never_join_the_chain(
    services: Services,
) -> None:
    async with services.db() as db:
        await audit.append(db, actor="staff:test", action="test.lost", entity="thing:0")
        await db.rollback()
        await audit.append(db, actor="staff:test", action="test.kept", entity="thing:1")
        await db.commit()
    async with services.db() as db:
        await audit.append(db, actor="staff:test", action="test.unfinished", entity="thing:2")
        # leaving the block closes the session without a commit
    async with services.engine.connect() as conn:
        actions = (await conn.execute(text("SELECT action FROM audit_entry ORDER BY id"))).all()
    assert [row.action for row in actions] == ["test.kept"]
    assert (await verify(services)).ok


async def test_one_transaction_chains_its_entries_in_order(services: Services) -> None:
    async with services.db() as db:
        for n in range(3):
            await audit.append(db, actor="staff:test", action=f"test.{n}", entity="thing")
        await db.commit()
    async with services.engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT action, prev_hash, hash FROM audit_entry ORDER BY id"))
        ).all()
    assert [row.action for row in rows] == ["test.0", "test.1", "test.2"]
    assert rows[1].prev_hash == rows[0].hash
    assert rows[2].prev_hash == rows[1].hash


async def test_append_refuses_a_session_that_would_not_chain_its_entries(
    services: Services, rows: RowFetcher
) -> None:
    # Regression: a plain sessionmaker committed and silently stored no audit row.
    plain = async_sessionmaker(services.engine, class_=AsyncSession)
    async with plain() as db:
        with pytest.raises(ConfigurationError, match="session_factory"):
            await audit.append(db, actor="staff:test", action="test.entry", entity="thing:1")
    async with services.db() as db:
        await audit.append(db, actor="staff:test", action="test.entry", entity="thing:1")
        await db.commit()
    assert len(await rows("audit_entry")) == 1


async def test_database_errors_never_show_statement_parameters(services: Services) -> None:
    secret = "a1b2c3d4e5f6-blind-index-of-someone"
    async with services.db() as db:
        with pytest.raises(DBAPIError) as failed:
            # Fails after binding (division by zero), with the identifier as a parameter.
            await db.exec(select(literal(secret), text("1/0")))
    assert "SQL parameters hidden" in str(failed.value)
    assert secret not in str(failed.value)
