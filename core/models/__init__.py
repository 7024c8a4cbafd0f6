"""SQLModel tables, one module per concept. Alembic reads :data:`metadata`."""

from __future__ import annotations

from sqlmodel import SQLModel

from core.models.audit import (
    AuditCheckpoint,
    AuditEntry,
    AuditHash,
    AuditLeaf,
    AuditUnsequenced,
)
from core.models.exclusion import Channel, EventType, Exclusion, ExclusionEvent, ExclusionStatus
from core.models.subject import Subject
from core.models.ussd import UssdDialogueEnd

metadata = SQLModel.metadata

__all__ = [
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHash",
    "AuditLeaf",
    "AuditUnsequenced",
    "Channel",
    "EventType",
    "Exclusion",
    "ExclusionEvent",
    "ExclusionStatus",
    "Subject",
    "UssdDialogueEnd",
    "metadata",
]
