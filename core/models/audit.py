"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel

from core.models.columns import timestamp, utcnow


class AuditEntry(SQLModel, table=True):
    """One audited state change.

    ``hash`` is SHA-256 (hex) over the canonical JSON of this entry's content and
    ``prev_hash``, the ``hash`` of the entry before it (64 zeros for the first);
    see :mod:`core.audit`. ``subject`` is a BST, never an MSISDN or ID number.
    ``before``/``after`` are JSON objects of the changed fields (no personal data).
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
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
