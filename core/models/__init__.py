"""SQLModel tables, one module per concept. Alembic reads :data:`metadata`."""

from __future__ import annotations

from sqlmodel import SQLModel

from core.models.audit import AuditEntry
from core.models.exclusion import Channel, EventType, Exclusion, ExclusionEvent, ExclusionStatus
from core.models.message import MessageKind, MessageStatus, SmsMessage
from core.models.sms import InboundOutcome, OfferKind, SmsInbound, SmsOffer, SmsReminderOptOut
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
    "InboundOutcome",
    "MessageKind",
    "MessageStatus",
    "OfferKind",
    "SmsInbound",
    "SmsMessage",
    "SmsOffer",
    "SmsReminderOptOut",
    "Subject",
    "UssdDialogueEnd",
    "metadata",
]
