"""``nser audit verify``: rebuild the log from its entries and check everything stored against it.

In one consistent snapshot (REPEATABLE READ), leaf by leaf in index order:

* every leaf index from 0 is present, and its entry exists;
* the leaf hash recomputed from the entry (:mod:`core.audit.entries`) and every
  tree hash rebuilt from those (:mod:`core.audit.merkle`) equal the stored ones;
* at each stored checkpoint's size, the rebuilt root equals its root, and its
  note is a valid signature by the log's key over exactly that size and root;
* optionally, the same for a checkpoint kept outside the database (``--against``):
  the log must still hold its first N entries unchanged, so editing, deleting,
  reordering or truncating anything it covered is caught even if the database
  was rewritten and its own checkpoints removed;
* every entry is a leaf or still waits in the sequencer's queue.

It stops at the first problem and names it. Memory is O(batch + checkpoints).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asyncpg import Record
from sqlalchemy import Row, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.audit.entries import entry_leaf_hash
from core.audit.merkle import Frontier, stored_count, stored_index
from core.audit.notes import Checkpoint, NoteError, NoteVerifier, open_checkpoint
from core.audit.tables import CHECKPOINT, ENTRY, LEAF, QUEUE, TREE_SIZE

Progress = Callable[[int, int], None]
"""Called as ``progress(leaves checked, leaves in the log)`` after each batch."""

BATCH = 20_000

# Read through the driver directly: a million rows cost a third as much without the
# ORM's result processing, and ``before``/``after`` come back as their stored text.
_LEAVES = """
SELECT l.leaf_index, l.entry_id, e.id, e.occurred_at, e.actor, e.action, e.subject, e.entity,
       e.before::text AS before, e.after::text AS after
FROM audit_leaf l LEFT JOIN audit_entry e ON e.id = l.entry_id
WHERE l.leaf_index >= $1 ORDER BY l.leaf_index LIMIT $2
"""
_STORED = "SELECT position, hash FROM audit_hash WHERE position >= $1 AND position < $2 ORDER BY 1"
_CHECKPOINTS = select(
    CHECKPOINT.c.id, CHECKPOINT.c.tree_size, CHECKPOINT.c.root_hash, CHECKPOINT.c.note
).order_by(CHECKPOINT.c.tree_size, CHECKPOINT.c.id)
_ORPHAN = select(func.min(ENTRY.c.id)).where(
    ~exists().where(LEAF.c.entry_id == ENTRY.c.id),
    ~exists().where(QUEUE.c.entry_id == ENTRY.c.id),
)
_WAITING = select(func.count()).select_from(QUEUE)


@dataclass(frozen=True)
class Report:
    """Outcome of :func:`verify`: ``leaves`` rebuilt, ``checkpoints`` checked, ``waiting``
    entries not yet sequenced, and the first ``problem`` (``None`` when all is well)."""

    leaves: int
    checkpoints: int
    waiting: int = 0
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return self.problem is None


@dataclass(frozen=True)
class _Target:
    """A checkpoint to check once the rebuilt tree reaches its size."""

    size: int
    root: bytes
    label: str


class _Mismatch(Exception):
    """The first problem found; its message is the report's."""


def _stored_targets(
    rows: list[Row[tuple[int, int, bytes, str]]], verifier: NoteVerifier
) -> list[_Target]:
    targets = []
    for row in rows:
        label = f"checkpoint {row.id} (size {row.tree_size})"
        try:
            signed = open_checkpoint(row.note, verifier)
        except NoteError as exc:
            raise _Mismatch(f"{label}: {exc}") from exc
        if signed != Checkpoint(verifier.name, row.tree_size, bytes(row.root_hash)):
            raise _Mismatch(f"{label}: its signed note says size {signed.size} with another root")
        targets.append(_Target(row.tree_size, signed.root, label))
    return targets


class _Rebuild:
    """The tree rebuilt leaf by leaf, checked against stored hashes and checkpoint roots."""

    def __init__(self, targets: list[_Target]) -> None:
        self.tree = Frontier()
        self.targets = sorted(targets, key=lambda target: target.size)
        self.checked = 0
        self.offset = 0  # stored positions consumed since the batch's first
        self._reached()

    def _reached(self) -> None:
        while self.targets and self.targets[0].size == self.tree.size:
            target = self.targets.pop(0)
            if self.tree.root() != target.root:
                raise _Mismatch(
                    f"{target.label}: the log's first {target.size} entries no longer hash to "
                    "its root (an entry among them was changed, removed or reordered)"
                )
            self.checked += 1

    def add(self, row: Record, stored: list[bytes], first: int) -> None:
        """Append ``row``'s leaf; ``stored`` holds the stored hashes from position ``first``."""
        index = self.tree.size
        if row["leaf_index"] != index:
            raise _Mismatch(
                f"leaf {index} is missing (the next stored leaf is {row['leaf_index']})"
            )
        if row["id"] is None:
            raise _Mismatch(f"entry {row['entry_id']} of leaf {index} is missing")
        position = first + self.offset
        for offset, computed in enumerate(self.tree.append(entry_leaf_hash(row))):
            at = position + offset - first
            if at >= len(stored) or stored[at] != computed:
                if offset == 0:
                    raise _Mismatch(
                        f"entry {row['id']} (leaf {index}) does not match its leaf hash: "
                        "it was changed after it was sequenced"
                    )
                raise _Mismatch(f"stored tree hash {position + offset} does not match the leaves")
        self.offset += offset + 1
        self._reached()


async def _stored(driver: Any, start: int, end: int) -> list[bytes]:
    """Stored hashes at positions ``[start, end)``, cut at the first missing position."""
    rows = await driver.fetch(_STORED, start, end)
    hashes = []
    for expected, row in enumerate(rows, start):
        if row["position"] != expected:
            break
        hashes.append(bytes(row["hash"]))
    return hashes


async def _rebuild(
    conn: AsyncConnection, rebuild: _Rebuild, size: int, progress: Progress | None, batch: int
) -> None:
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    while True:
        start = rebuild.tree.size
        rows = await driver.fetch(_LEAVES, start, batch)
        if not rows:
            return
        first = stored_index(0, start)
        stored = await _stored(driver, first, stored_count(rows[-1]["leaf_index"] + 1))
        rebuild.offset = 0
        for row in rows:
            rebuild.add(row, stored, first)
        if progress is not None:
            progress(rebuild.tree.size, size)


async def verify(
    conn: AsyncConnection,
    *,
    verifier: NoteVerifier,
    against: str | None = None,
    against_label: str = "the given checkpoint",
    progress: Progress | None = None,
    batch: int = BATCH,
) -> Report:
    """Check the whole log (see module doc); ``against`` is a signed checkpoint note kept outside.

    ``conn`` should be in a REPEATABLE READ transaction so that the sequencer
    running meanwhile cannot make the snapshot inconsistent.
    """
    size = int(await conn.scalar(TREE_SIZE) or 0)
    try:
        targets = _stored_targets(list((await conn.execute(_CHECKPOINTS)).all()), verifier)
        if against is not None:
            try:
                outside = open_checkpoint(against, verifier)
            except NoteError as exc:
                raise _Mismatch(f"{against_label}: {exc}") from exc
            targets.append(_Target(outside.size, outside.root, against_label))
        rebuild = _Rebuild(targets)
        await _rebuild(conn, rebuild, size, progress, batch)
        if rebuild.targets:
            target = rebuild.targets[0]
            raise _Mismatch(
                f"{target.label}: it covers {target.size} entries but the log has only "
                f"{rebuild.tree.size} (entries were removed)"
            )
        orphan = await conn.scalar(_ORPHAN)
        if orphan is not None:
            raise _Mismatch(f"entry {orphan} is neither in the log nor waiting to be sequenced")
    except _Mismatch as exc:
        return Report(leaves=size, checkpoints=0, problem=str(exc))
    waiting = int(await conn.scalar(_WAITING) or 0)
    return Report(leaves=rebuild.tree.size, checkpoints=rebuild.checked, waiting=waiting)
