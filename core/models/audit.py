"""The audit log: entries, and the Merkle transparency log they are sequenced into.

Writers insert :class:`AuditEntry` rows in their business transaction (a
trigger queues each in :class:`AuditUnsequenced`); the sequencer
(:mod:`core.audit.sequencer`) gives each a :class:`AuditLeaf` index, stores
the tree's hashes (:class:`AuditHash`) and signs :class:`AuditCheckpoint`
notes. Every table but the queue is append-only in the database (triggers
refuse UPDATE, DELETE and TRUNCATE; the service role may only INSERT and
SELECT), see migration ``0003``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, LargeBinary, Text
from sqlmodel import Field, SQLModel

from core.models.columns import timestamp, utcnow


class AuditEntry(SQLModel, table=True):
    """One audited state change (its leaf content is defined in :mod:`core.audit.entries`).

    ``subject`` is a BST, never an MSISDN or ID number. ``before``/``after`` are
    JSON objects of the changed fields (no personal data).
    """

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    occurred_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    actor: str = Field(max_length=80)
    action: str = Field(max_length=64, index=True)
    subject: str | None = Field(default=None, max_length=16, index=True)
    entity: str = Field(max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class AuditUnsequenced(SQLModel, table=True):
    """An entry committed but not yet in the log: the sequencer's queue.

    Filled by a trigger on ``audit_entry`` inside the writer's transaction, so
    a row appears exactly when its entry commits, whatever the id order; the
    sequencer deletes it when it gives the entry a leaf.
    """

    __tablename__ = "audit_unsequenced"

    entry_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


class AuditLeaf(SQLModel, table=True):
    """The entry at leaf ``leaf_index`` of the log (0, 1, 2, … in sequencing order)."""

    __tablename__ = "audit_leaf"

    leaf_index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    entry_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("audit_entry.id"), nullable=False, unique=True)
    )


class AuditHash(SQLModel, table=True):
    """One stored tree hash (a leaf or a complete subtree) at its ``tlog`` position.

    Positions are :func:`core.audit.merkle.stored_index`; a tree of ``n``
    leaves stores exactly positions ``0 … stored_count(n) − 1``.
    """

    __tablename__ = "audit_hash"

    position: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditCheckpoint(SQLModel, table=True):
    """A signed checkpoint: ``note`` is the C2SP signed note over size and root."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    root_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signed_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    note: str = Field(sa_column=Column(Text, nullable=False))
