"""SQLModel tables, one module per concept. Alembic reads :data:`metadata`."""

from __future__ import annotations

from sqlmodel import SQLModel

from core.models.audit import AuditEntry
from core.models.exclusion import Channel, EventType, Exclusion, ExclusionEvent, ExclusionStatus
from core.models.screening import ScreeningReminder, ScreeningResult
from core.models.subject import Subject
from core.models.ussd import UssdDialogueEnd

metadata = SQLModel.metadata

__all__ = [
    "AuditEntry",
    "Channel",
    "EventType",
    "Exclusion",
    "ExclusionEvent",
    "ExclusionStatus",
    "ScreeningReminder",
    "ScreeningResult",
    "Subject",
    "UssdDialogueEnd",
    "metadata",
]
