"""Writing audit entries and running the sequencer in tests."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import text

from core import audit
from core.audit import sequencer
from core.audit.notes import NoteVerifier
from core.audit.verify import Report, verify
from core.services import Services
from core.settings import Settings
from tests.support.databases import RowFetcher, admin
from tests.support.keys import TEST_AUDIT_SIGNING_KEY, TEST_ENCRYPTION_KEYS, TEST_INDEX_KEY

EVERY = timedelta(seconds=5)


def nser(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``nser *args`` in a child process against the test's database and keys."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "NSER_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
        "NSER_INDEX_KEY": TEST_INDEX_KEY,
        "NSER_AUDIT_SIGNING_KEY": TEST_AUDIT_SIGNING_KEY,
        "NSER_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "nser", *args], env=env, capture_output=True, text=True, timeout=60
    )


async def write_entries(services: Services, count: int, *, per_commit: int = 1) -> None:
    """``count`` entries (``thing:0`` …), ``per_commit`` to a transaction."""
    for start in range(0, count, per_commit):
        async with services.db() as db:
            for n in range(start, min(start + per_commit, count)):
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


async def sequence(services: Services, *, limit: int = 5000) -> sequencer.Run:
    """One sequencer run at the services' clock, committed."""
    async with services.db() as db:
        run = await sequencer.sequence(
            db, signer=services.audit_signer, now=services.clock(), every=EVERY, limit=limit
        )
        await db.commit()
    return run


async def verify_log(services: Services, *, against: str | None = None, batch: int = 7) -> Report:
    """:func:`core.audit.verify.verify` over the service role's view, in small batches."""
    async with services.engine.connect() as conn:
        snapshot = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with snapshot.begin():
            return await verify(
                snapshot,
                verifier=NoteVerifier.parse(services.audit_signer.verifier.encode()),
                against=against,
                batch=batch,
            )


async def count(services: Services, table: str) -> int:
    """Rows in an audit table."""
    async with services.engine.connect() as conn:
        return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


async def as_superuser(settings: Settings, *statements: str) -> None:
    """Run ``statements`` as the database owner with every trigger off (the strongest insider)."""
    assert settings.database_owner_url is not None
    await admin(settings.database_owner_url, "SET session_replication_role = replica", *statements)


async def refused_actions(rows: RowFetcher) -> list[str]:
    """The actions staff were refused (``staff.refused`` entries' ``after.action``), in order."""
    return [
        e["after"]["action"] for e in await rows("audit_entry") if e["action"] == "staff.refused"
    ]
