"""What the log publishes: the latest signed checkpoint, inclusion and consistency proofs.

Plain values for a channel to serve (the operator API mounts them as
``GET /v1/audit/checkpoint``, ``/v1/audit/proofs/inclusion?index=I&size=N``
and ``/v1/audit/proofs/consistency?first=N&second=M``). Proofs are RFC 9162's
(§2.1.3 inclusion, §2.1.4 consistency): lists of 32-byte hashes, in the order
the RFC's verifiers read them, built from O(log n) stored hashes. Sizes may be
any up to the sequenced tree's, so a witness can ask about the checkpoints it
holds. Each function is one or two queries; the caller's session may be
read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from core.audit import merkle
from core.audit.tables import HASHES_AT, NEWEST_CHECKPOINTS, TREE_SIZE
from core.errors import IntegrityFailure, ProofRangeError


@dataclass(frozen=True)
class SignedCheckpoint:
    """A stored checkpoint: its signed ``note`` (C2SP signed-note text), size, root and time."""

    note: str
    tree_size: int
    root_hash: bytes
    signed_at: datetime


async def latest_checkpoint(session: AsyncSession) -> SignedCheckpoint | None:
    """The most recently signed checkpoint, or ``None`` before the first (one query)."""
    conn = await session.connection()
    row = (await conn.execute(NEWEST_CHECKPOINTS.limit(1))).first()
    if row is None:
        return None
    return SignedCheckpoint(row.note, row.tree_size, bytes(row.root_hash), row.signed_at)


async def tree_size(session: AsyncSession) -> int:
    """How many leaves the log has now (sequenced, perhaps not yet in a checkpoint)."""
    return int(await (await session.connection()).scalar(TREE_SIZE) or 0)


async def _hashes(conn: AsyncConnection, ranges: list[merkle.Range]) -> list[bytes]:
    positions = sorted(merkle.needed(ranges))
    rows = (await conn.execute(HASHES_AT, {"positions": positions})).all()
    try:
        return merkle.range_hashes(ranges, {row.position: bytes(row.hash) for row in rows})
    except KeyError as exc:
        raise IntegrityFailure(f"tree hash {exc.args[0]} is missing from audit_hash") from exc


async def _within(conn: AsyncConnection, size: int) -> None:
    current = int(await conn.scalar(TREE_SIZE) or 0)
    if size > current:
        raise ProofRangeError(f"size {size} is larger than the log ({current})")


async def inclusion_proof(session: AsyncSession, *, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaves.

    Raises:
        ProofRangeError: not ``0 ≤ index < size ≤`` the log's size.
        IntegrityFailure: a stored hash the proof needs is missing.
    """
    if not 0 <= index < size:
        raise ProofRangeError(f"index must be at least 0 and below size (got {index}, {size})")
    conn = await session.connection()
    await _within(conn, size)
    return await _hashes(conn, merkle.inclusion_ranges(index, size))


async def consistency_proof(session: AsyncSession, *, first: int, second: int) -> list[bytes]:
    """Proof that the tree of ``first`` leaves is a prefix of the tree of ``second``.

    Empty when ``first`` is 0 or equals ``second``.

    Raises:
        ProofRangeError: not ``0 ≤ first ≤ second ≤`` the log's size.
        IntegrityFailure: a stored hash the proof needs is missing.
    """
    if not 0 <= first <= second:
        raise ProofRangeError(
            f"first must be at least 0 and at most second (got {first}, {second})"
        )
    conn = await session.connection()
    await _within(conn, second)
    return await _hashes(conn, merkle.consistency_ranges(first, second))


async def root_at(session: AsyncSession, *, size: int) -> bytes:
    """The root hash of the tree of the first ``size`` leaves, from stored hashes.

    Raises:
        ProofRangeError: ``size`` is negative or larger than the log.
    """
    if size < 0:
        raise ProofRangeError(f"size must be at least 0 (got {size})")
    conn = await session.connection()
    await _within(conn, size)
    return (await _hashes(conn, [(0, size)]))[0] if size else merkle.EMPTY_ROOT
