"""SQLModel tables, one module per concept. Alembic reads :data:`metadata`."""

from __future__ import annotations

from sqlmodel import SQLModel

from core.models.audit import AuditEntry
from core.models.exclusion import Channel, EventType, Exclusion, ExclusionEvent, ExclusionStatus
from core.models.lift import OPEN_LIFT_STATUSES, LiftRequest, LiftStatus
from core.models.staff import Role, StaffAccount, StaffStatus
from core.models.subject import Subject
from core.models.ussd import UssdDialogueEnd

metadata = SQLModel.metadata

__all__ = [
    "OPEN_LIFT_STATUSES",
    "AuditEntry",
    "Channel",
    "EventType",
    "Exclusion",
    "ExclusionEvent",
    "ExclusionStatus",
    "LiftRequest",
    "LiftStatus",
    "Role",
    "StaffAccount",
    "StaffStatus",
    "Subject",
    "UssdDialogueEnd",
    "metadata",
]
