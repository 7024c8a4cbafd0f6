"""The sequencer: entries become leaves in commit order, checkpoints are signed on time,
and the proofs it makes verify with an independent RFC 9162 verifier."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from arq import create_pool
from sqlalchemy import text

from core.audit import proofs
from core.audit.entries import canonical, canonical_json
from core.audit.merkle import leaf_hash
from core.audit.notes import NoteVerifier, open_checkpoint
from core.errors import ProofRangeError
from core.queue import QUEUE
from core.services import Services
from core.settings import Settings
from nser.worker import create_worker, redis_settings
from tests.support import rfc9162
from tests.support.audit import count, sequence, verify_log, write_entries
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.keys import TEST_AUDIT_VERIFIER_KEY

VERIFIER = NoteVerifier.parse(TEST_AUDIT_VERIFIER_KEY)


def content(entry: dict[str, Any]) -> bytes:
    """An entry's leaf bytes from a fetched row (whose JSON columns came back decoded)."""
    stored = {
        k: None if entry[k] is None else canonical_json(entry[k]) for k in ("before", "after")
    }
    return canonical({**entry, **stored})


async def leaves(services: Services) -> list[tuple[int, int]]:
    async with services.engine.connect() as conn:
        result = await conn.execute(text("SELECT leaf_index, entry_id FROM audit_leaf ORDER BY 1"))
        return [(row.leaf_index, row.entry_id) for row in result]


async def test_the_worker_job_sequences_entries_and_signs_a_checkpoint(
    services: Services, settings: Settings, rows: RowFetcher
) -> None:
    await write_entries(services, 5, per_commit=2)
    pool = await create_pool(redis_settings(settings), default_queue_name=QUEUE)
    try:
        job = await pool.enqueue_job("sequence_audit", _job_id="sequence-test")
        assert job is not None
        worker = create_worker(settings, services=services, burst=True, handle_signals=False)
        try:
            await worker.async_run()
        finally:
            await worker.close()
        assert await job.result(timeout=5) == 5
    finally:
        await pool.aclose()
    assert await leaves(services) == [(n, n + 1) for n in range(5)]
    assert await count(services, "audit_unsequenced") == 0
    async with services.db() as db:
        latest = await proofs.latest_checkpoint(db)
    assert latest is not None
    signed = open_checkpoint(latest.note, VERIFIER)
    entries = await rows("audit_entry")
    assert signed.size == 5
    assert signed.root == rfc9162.mth([content(entry) for entry in entries])
    assert latest.note.startswith("test.nser.invalid/audit\n5\n")


async def test_checkpoints_follow_new_leaves_at_most_every_5_s_and_at_least_hourly(
    services: Services, clock: Clock
) -> None:
    first = await sequence(services)
    assert first.checkpoint is not None  # the very first, even of an empty log
    assert first.checkpoint.size == 0
    await write_entries(services, 2)
    clock.advance(seconds=4)
    assert (await sequence(services)).checkpoint is None  # too soon after the last
    clock.advance(seconds=1)
    grown = await sequence(services)
    assert grown.added == 0
    assert grown.checkpoint is not None
    assert grown.checkpoint.size == 2
    clock.advance(minutes=59, seconds=59)
    assert (await sequence(services)).checkpoint is None  # nothing new, not an hour yet
    clock.advance(seconds=1)
    heartbeat = await sequence(services)
    assert heartbeat.checkpoint is not None
    assert heartbeat.checkpoint.size == 2
    assert await count(services, "audit_checkpoint") == 3


async def test_an_entry_committed_after_a_later_id_is_still_sequenced(services: Services) -> None:
    # The classic gap: A takes id 1, B takes id 2 and commits, the sequencer runs,
    # then A commits. A "WHERE id > last sequenced" sequencer would skip A for good.
    async with services.engine.connect() as slow:
        await slow.execute(
            text(
                "INSERT INTO audit_entry (occurred_at, actor, action, entity) "
                "VALUES (now(), 'staff:slow', 'test.slow', 'thing:a')"
            )
        )
        await write_entries(services, 1)
        assert (await sequence(services)).added == 1
        await slow.commit()
    assert (await sequence(services)).added == 1
    assert await leaves(services) == [(0, 2), (1, 1)]
    assert (await verify_log(services)).ok


async def test_concurrent_writers_and_sequencers_give_each_entry_one_leaf(
    services: Services,
) -> None:
    writers_done = asyncio.Event()

    async def keep_sequencing() -> None:
        while not writers_done.is_set():
            await sequence(services, limit=7)

    async def writers() -> None:
        await asyncio.gather(*(write_entries(services, 15, per_commit=3) for _ in range(6)))
        writers_done.set()

    await asyncio.gather(writers(), keep_sequencing(), keep_sequencing())
    while (await sequence(services)).added:
        pass
    assigned = await leaves(services)
    assert [index for index, _ in assigned] == list(range(90))
    assert sorted(entry for _, entry in assigned) == list(range(1, 91))
    report = await verify_log(services)
    assert report.ok, report.problem
    assert report.leaves == 90


async def test_proofs_verify_independently_against_signed_checkpoints(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await write_entries(services, 5)
    await sequence(services)
    await write_entries(services, 8)
    clock.advance(seconds=5)
    await sequence(services)
    entries = await rows("audit_entry")
    async with services.db() as db:
        latest = await proofs.latest_checkpoint(db)
        assert latest is not None
        new = open_checkpoint(latest.note, VERIFIER)
        assert new.size == 13
        for index, entry in enumerate(entries):
            path = await proofs.inclusion_proof(db, index=index, size=13)
            assert rfc9162.verify_inclusion(index, 13, leaf_hash(content(entry)), path, new.root)
        old_root = rfc9162.mth([content(entry) for entry in entries[:5]])
        path = await proofs.consistency_proof(db, first=5, second=13)
        assert rfc9162.verify_consistency(5, 13, old_root, new.root, path)
        assert await proofs.root_at(db, size=5) == old_root
        assert await proofs.consistency_proof(db, first=13, second=13) == []
        assert await proofs.tree_size(db) == 13


@pytest.mark.parametrize(
    ("kind", "args", "message"),
    [
        ("inclusion", {"index": 3, "size": 3}, "index must be at least 0 and below size"),
        ("inclusion", {"index": -1, "size": 3}, "index must be at least 0 and below size"),
        ("inclusion", {"index": 0, "size": 4}, "size 4 is larger than the log (3)"),
        ("consistency", {"first": 3, "second": 2}, "first must be at least 0 and at most second"),
        ("consistency", {"first": 1, "second": 9}, "size 9 is larger than the log (3)"),
    ],
)
async def test_proofs_out_of_range_are_refused(
    services: Services, kind: str, args: dict[str, int], message: str
) -> None:
    await write_entries(services, 3)
    await sequence(services)
    async with services.db() as db:
        proof = proofs.inclusion_proof if kind == "inclusion" else proofs.consistency_proof
        with pytest.raises(ProofRangeError, match=re.escape(message)):
            await proof(db, **args)
