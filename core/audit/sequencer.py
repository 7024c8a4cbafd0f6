"""The sequencer: committed entries become leaves of the Merkle log, and checkpoints get signed.

One sequencer works at a time (a transaction-scoped advisory lock; a second
one finds it taken and does nothing). Each run, in one transaction:

1. reads the tree size and the hashes of its right edge (O(log n) rows);
2. takes up to ``limit`` entries from the queue ``audit_unsequenced``, in entry
   id order. The queue is filled by a trigger inside each writer's
   transaction, so an entry appears there exactly when it commits: an entry
   with a low id that commits late is simply taken by a later run (it gets a
   later leaf index), never skipped, unlike a sequencer that reads
   "entries with id > the last one";
3. appends their leaf hashes, stores the new tree hashes
   (:mod:`core.audit.merkle`) and the leaf → entry rows, and dequeues them;
4. when the queue is drained, signs a checkpoint if there is none yet, if the
   tree grew and the last one is at least ``every`` old, or if the last one
   is an hour old (:data:`HEARTBEAT`).

Every write is an ``INSERT`` (plus the queue's ``DELETE``): the service role
needs no UPDATE anywhere in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import RowMapping, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from core.audit.entries import entry_leaf_hash
from core.audit.merkle import Frontier, stored_index
from core.audit.notes import Checkpoint, NoteSigner
from core.audit.tables import (
    CHECKPOINT,
    ENTRY,
    ENTRY_CONTENT,
    HASHES_AT,
    NEWEST_CHECKPOINTS,
    QUEUE,
    TREE_SIZE,
)
from core.errors import IntegrityFailure

log = logging.getLogger(__name__)

#: Key of the advisory lock that makes the sequencer one at a time ("NSERSEQ").
LOCK_KEY = int.from_bytes(b"NSERSEQ", "big")
#: A checkpoint is signed at least this often, new leaves or not.
HEARTBEAT = timedelta(hours=1)

_LOCK = select(func.pg_try_advisory_xact_lock(LOCK_KEY))
_NEXT = (
    select(*ENTRY_CONTENT)
    .select_from(ENTRY)
    .join(QUEUE, QUEUE.c.entry_id == ENTRY.c.id)
    .order_by(QUEUE.c.entry_id)
    .limit(bindparam("limit"))
)
# unnest() of whole arrays: one round trip and little parsing for thousands of rows.
_ADD_LEAVES = text(
    "INSERT INTO audit_leaf (leaf_index, entry_id) "
    "SELECT * FROM unnest(CAST(:indexes AS bigint[]), CAST(:entries AS bigint[]))"
)
_ADD_HASHES = text(
    "INSERT INTO audit_hash (position, hash) "
    "SELECT * FROM unnest(CAST(:positions AS bigint[]), CAST(:hashes AS bytea[]))"
)
_DEQUEUE = text("DELETE FROM audit_unsequenced WHERE entry_id = ANY(CAST(:entries AS bigint[]))")


@dataclass(frozen=True)
class Run:
    """What one :func:`sequence` call did.

    ``ran`` is False when another sequencer held the lock (nothing was done);
    ``added`` leaves were appended, making the tree ``size`` leaves;
    ``checkpoint`` is the one signed, if any.
    """

    ran: bool
    added: int = 0
    size: int = 0
    checkpoint: Checkpoint | None = None


async def frontier(conn: AsyncConnection, size: int) -> Frontier:
    """The right edge of the stored tree of ``size`` leaves.

    Raises:
        IntegrityFailure: a stored hash it needs is missing.
    """
    positions = [stored_index(*node) for node in Frontier.nodes(size)]
    rows = (await conn.execute(HASHES_AT, {"positions": positions})).all()
    stored = {row.position: bytes(row.hash) for row in rows}
    try:
        return Frontier(size, [stored[position] for position in positions])
    except KeyError as exc:
        raise IntegrityFailure(f"tree hash {exc.args[0]} is missing from audit_hash") from exc


async def sequence(
    session: AsyncSession,
    *,
    signer: NoteSigner,
    now: datetime,
    every: timedelta,
    limit: int = 5000,
) -> Run:
    """Sequence up to ``limit`` queued entries and maybe sign a checkpoint (see module doc).

    The caller commits. ``now`` is the signing time; ``every`` the shortest time
    between two checkpoints while the tree grows.

    Raises:
        IntegrityFailure: the stored tree is damaged (a missing hash), or smaller
            than the last checkpoint.
    """
    conn = await session.connection()
    if not await conn.scalar(_LOCK):
        return Run(ran=False)
    size = int(await conn.scalar(TREE_SIZE) or 0)
    tree = await frontier(conn, size)
    entries = (await conn.execute(_NEXT, {"limit": limit})).mappings().all()
    if entries:
        await _append(conn, tree, entries)
    checkpoint = None
    if len(entries) < limit:
        checkpoint = await _maybe_sign(conn, tree, signer=signer, now=now, every=every)
    return Run(ran=True, added=len(entries), size=tree.size, checkpoint=checkpoint)


async def _append(conn: AsyncConnection, tree: Frontier, entries: Sequence[RowMapping]) -> None:
    first = stored_index(0, tree.size)
    indexes, ids, hashes = [], [], []
    for entry in entries:
        indexes.append(tree.size)
        ids.append(entry["id"])
        hashes.extend(tree.append(entry_leaf_hash(entry)))
    positions = list(range(first, first + len(hashes)))
    await conn.execute(_ADD_LEAVES, {"indexes": indexes, "entries": ids})
    await conn.execute(_ADD_HASHES, {"positions": positions, "hashes": hashes})
    await conn.execute(_DEQUEUE, {"entries": ids})


async def _maybe_sign(
    conn: AsyncConnection, tree: Frontier, *, signer: NoteSigner, now: datetime, every: timedelta
) -> Checkpoint | None:
    latest = (await conn.execute(NEWEST_CHECKPOINTS.limit(1))).first()
    if latest is not None:
        if tree.size < latest.tree_size:
            raise IntegrityFailure(
                f"the log has {tree.size} leaves, fewer than its last checkpoint "
                f"({latest.tree_size})"
            )
        age = now - latest.signed_at
        grew = tree.size > latest.tree_size
        if not (grew and age >= every) and age < HEARTBEAT:
            return None
    checkpoint = Checkpoint(signer.name, tree.size, tree.root())
    note = signer.sign(checkpoint.text())
    await conn.execute(
        CHECKPOINT.insert().values(
            tree_size=checkpoint.size, root_hash=checkpoint.root, signed_at=now, note=note
        )
    )
    log.info("signed audit checkpoint: %d entries", checkpoint.size)
    return checkpoint
