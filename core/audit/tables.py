"""The log's tables as SQLAlchemy Core handles, and the reads the sequencer and proofs share."""

from __future__ import annotations

from sqlalchemy import BigInteger, Text, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from core.models import AuditCheckpoint, AuditEntry, AuditHash, AuditLeaf, AuditUnsequenced

ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
QUEUE = AuditUnsequenced.__table__  # type: ignore[attr-defined]
LEAF = AuditLeaf.__table__  # type: ignore[attr-defined]
HASH = AuditHash.__table__  # type: ignore[attr-defined]
CHECKPOINT = AuditCheckpoint.__table__  # type: ignore[attr-defined]

#: The number of leaves (the highest leaf index + 1; an index lookup, not a count).
TREE_SIZE = select(func.coalesce(func.max(LEAF.c.leaf_index) + 1, 0))
#: Stored hashes at the positions ``:positions`` (a list of ints).
HASHES_AT = select(HASH.c.position, HASH.c.hash).where(
    HASH.c.position == any_(bindparam("positions", type_=ARRAY(BigInteger)))
)
#: Checkpoints, newest first (add ``.limit(1)``).
NEWEST_CHECKPOINTS = select(
    CHECKPOINT.c.note, CHECKPOINT.c.tree_size, CHECKPOINT.c.root_hash, CHECKPOINT.c.signed_at
).order_by(CHECKPOINT.c.id.desc())

#: An entry's leaf content columns, ``before``/``after`` as their stored JSON text.
ENTRY_CONTENT = (
    ENTRY.c.id,
    ENTRY.c.occurred_at,
    ENTRY.c.actor,
    ENTRY.c.action,
    ENTRY.c.subject,
    ENTRY.c.entity,
    ENTRY.c.before.cast(Text).label("before"),
    ENTRY.c.after.cast(Text).label("after"),
)
