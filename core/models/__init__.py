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
from core.models.identifier import (
    FAMILY_OF,
    DetachRequest,
    DetachStatus,
    IdentifierConflict,
    IdentifierFamily,
    IdentifierKind,
    IdentifierStatus,
    LinkFailure,
    SubjectIdentifier,
)
from core.models.lift import OPEN_LIFT_STATUSES, LiftRequest, LiftStatus
from core.models.message import MessageKind, MessageStatus, SmsMessage
from core.models.operator import (
    ApiKey,
    Delivery,
    DeliveryStatus,
    KeyMode,
    Operator,
    OperatorRequest,
    OperatorStatus,
    OperatorUsage,
    Subscription,
    WebhookSecret,
)
from core.models.screening import ScreeningReminder, ScreeningResult
from core.models.sms import (
    InboundOutcome,
    OfferKind,
    SmsInbound,
    SmsOffer,
    SmsReminderOptOut,
    SmsScreening,
)
from core.models.staff import Role, StaffAccount, StaffStatus
from core.models.subject import Subject
from core.models.ussd import UssdDialogueEnd

metadata = SQLModel.metadata

__all__ = [
    "FAMILY_OF",
    "OPEN_LIFT_STATUSES",
    "ApiKey",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHash",
    "AuditLeaf",
    "AuditUnsequenced",
    "Channel",
    "Delivery",
    "DeliveryStatus",
    "DetachRequest",
    "DetachStatus",
    "EventType",
    "Exclusion",
    "ExclusionEvent",
    "ExclusionStatus",
    "IdentifierConflict",
    "IdentifierFamily",
    "IdentifierKind",
    "IdentifierStatus",
    "InboundOutcome",
    "KeyMode",
    "LiftRequest",
    "LiftStatus",
    "LinkFailure",
    "MessageKind",
    "MessageStatus",
    "OfferKind",
    "Operator",
    "OperatorRequest",
    "OperatorStatus",
    "OperatorUsage",
    "Role",
    "ScreeningReminder",
    "ScreeningResult",
    "SmsInbound",
    "SmsMessage",
    "SmsOffer",
    "SmsReminderOptOut",
    "SmsScreening",
    "StaffAccount",
    "StaffStatus",
    "Subject",
    "SubjectIdentifier",
    "Subscription",
    "UssdDialogueEnd",
    "WebhookSecret",
    "metadata",
]
