"""What an insider can do to the log, and what catches it.

As a database superuser (the strongest insider: triggers off with
``session_replication_role = replica``), each tampering of the issue's table
is done after a checkpoint was saved outside the database, and
``nser audit verify --against FILE`` must exit 1 naming it. The service role
itself cannot even try: it may not UPDATE, DELETE or TRUNCATE the log, nor
switch its triggers off.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.privileges import APPEND_ONLY, table_privileges
from core.services import Services
from core.settings import Settings
from tests.support.audit import as_superuser, count, nser, sequence, verify_log, write_entries
from tests.support.clock import Clock
from tests.support.databases import admin


@pytest.fixture
async def saved(services: Services, settings: Settings, clock: Clock, tmp_path: Path) -> Path:
    """Six entries under a checkpoint saved in a file, then two more entries and a checkpoint."""
    await write_entries(services, 6, per_commit=2)
    await sequence(services)
    shown = nser(settings, "audit", "checkpoint")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("test.nser.invalid/audit\n6\n")
    path = tmp_path / "checkpoint.txt"
    path.write_text(shown.stdout)
    await write_entries(services, 2)
    clock.advance(seconds=10)
    await sequence(services)
    return path


async def test_an_untouched_log_verifies_against_the_saved_checkpoint(
    settings: Settings, saved: Path
) -> None:
    result = nser(settings, "audit", "verify", "--against", str(saved))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == (
        f"audit log OK: 8 entries, 3 checkpoints verified; extends the checkpoint in {saved}\n"
    )


REHASH = (
    "DELETE FROM audit_hash",
    "DELETE FROM audit_leaf",
    "DELETE FROM audit_checkpoint",
    "INSERT INTO audit_unsequenced (entry_id) SELECT id FROM audit_entry",
)
CUT_TO_FOUR = (
    "DELETE FROM audit_checkpoint",
    "DELETE FROM audit_hash WHERE position >= 7",  # stored_count(4)
    "DELETE FROM audit_leaf WHERE leaf_index >= 4",
    "DELETE FROM audit_entry WHERE id > 4",
)


@pytest.mark.parametrize(
    ("statements", "rebuild", "problem"),
    [
        pytest.param(
            ("UPDATE audit_entry SET actor = 'staff:mallory' WHERE id = 3",),
            False,
            "entry 3 (leaf 2) does not match its leaf hash: it was changed after it was sequenced",
            id="edit one entry",
        ),
        pytest.param(
            ("DELETE FROM audit_leaf WHERE entry_id = 3", "DELETE FROM audit_entry WHERE id = 3"),
            False,
            "leaf 2 is missing (the next stored leaf is 3)",
            id="delete a middle entry",
        ),
        pytest.param(
            ("UPDATE audit_entry SET after = '{\"n\": 99}' WHERE id = 2", *REHASH),
            True,
            "the checkpoint in {file}: the log's first 6 entries no longer hash to its root "
            "(an entry among them was changed, removed or reordered)",
            id="edit an entry and re-hash everything after it",
        ),
        pytest.param(
            CUT_TO_FOUR,
            False,
            "the checkpoint in {file}: it covers 6 entries but the log has only 4 "
            "(entries were removed)",
            id="delete the newest entries",
        ),
        pytest.param(
            ("TRUNCATE audit_entry, audit_leaf, audit_hash, audit_checkpoint, audit_unsequenced",),
            False,
            "the checkpoint in {file}: it covers 6 entries but the log has only 0 "
            "(entries were removed)",
            id="truncate the log",
        ),
    ],
)
async def test_verify_against_a_saved_checkpoint_catches_each_tampering(
    services: Services,
    settings: Settings,
    saved: Path,
    statements: tuple[str, ...],
    rebuild: bool,
    problem: str,
) -> None:
    await as_superuser(settings, *statements)
    if rebuild:  # the insider even re-sequences and re-signs (with the real key)
        assert (await sequence(services)).added == 8
        assert (await verify_log(services)).ok  # consistent in itself: only the outside copy tells
    result = nser(settings, "audit", "verify", "--against", str(saved))
    assert result.stdout == f"audit log MISMATCH: {problem.format(file=saved)}\n"
    assert result.returncode == 1


async def test_verify_names_a_checkpoint_whose_signature_was_forged(
    services: Services, settings: Settings, saved: Path
) -> None:
    await as_superuser(
        settings, "UPDATE audit_checkpoint SET note = replace(note, '\n8\n', '\n9\n') WHERE id = 2"
    )
    result = nser(settings, "audit", "verify")
    assert result.returncode == 1
    assert result.stdout == (
        "audit log MISMATCH: checkpoint 2 (size 8): the signature by test.nser.invalid/audit "
        "does not verify\n"
    )


async def test_an_entry_removed_from_the_queue_is_named(services: Services) -> None:
    await write_entries(services, 2)
    async with services.engine.begin() as conn:  # the service role may dequeue
        await conn.execute(text("DELETE FROM audit_unsequenced WHERE entry_id = 2"))
    await sequence(services)
    report = await verify_log(services)
    assert report.problem == "entry 2 is neither in the log nor waiting to be sequenced"


@pytest.mark.parametrize("table", sorted(APPEND_ONLY))
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET {column} = {column}",
        "DELETE FROM {table}",
        "TRUNCATE {table} CASCADE",
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
    ],
)
async def test_the_service_role_cannot_change_the_log(
    services: Services, table: str, statement: str
) -> None:
    await write_entries(services, 2)
    await sequence(services)
    column = {"audit_entry": "actor", "audit_leaf": "entry_id"}.get(table, "hash")
    column = "note" if table == "audit_checkpoint" else column
    sql = statement.format(table=table, column=column)
    with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
        async with services.engine.begin() as conn:
            await conn.execute(text(sql))
    assert table_privileges(table) == ("SELECT", "INSERT")


@pytest.mark.parametrize("statement", ["UPDATE audit_leaf SET entry_id = 1", "TRUNCATE audit_hash"])
async def test_even_the_owner_is_refused_by_the_triggers(
    services: Services, settings: Settings, statement: str
) -> None:
    await write_entries(services, 2)
    await sequence(services)
    assert settings.database_owner_url is not None
    with pytest.raises(DBAPIError, match="is append-only"):
        await admin(settings.database_owner_url, statement)
    assert await count(services, "audit_hash") == 3
