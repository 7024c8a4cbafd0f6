"""The MT (mobile-terminated) message log: every SMS NSER sends, its attempts and delivery."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, LargeBinary, text
from sqlmodel import Field, SQLModel

from core.i18n import Language
from core.models.columns import one_of, timestamp, utcnow


class MessageKind(enum.StrEnum):
    """Why a message is sent."""

    REPLY = "reply"  # the answer to an inbound SMS
    CONFIRMATION = "confirmation"  # after an exclusion was created or extended, any channel
    REMINDER = "reminder"  # before an exclusion ends; to screen again (opted in)
    EXPIRY = "expiry"  # when an exclusion has ended
    ALERT = "alert"  # to a technical or operations contact
    HELPLINE = "helpline"  # the helpline, after a screening result at which NSER refers


class MessageStatus(enum.StrEnum):
    """Where a message is: ``queued`` → ``sending`` → ``sent`` → ``delivered`` or ``failed``.

    ``delivered`` and ``failed`` are final. A message whose attempt failed for a
    reason that may pass goes back to ``queued`` with ``next_attempt_at``.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


class SmsMessage(SQLModel, table=True):
    """One MT SMS (the outbox and the log in one row).

    ``dedupe_key`` names what the message is about (``confirmation:<event id>``,
    ``reminder:<exclusion id>:<end>``, ``alert:<incident>``…); it is unique, so
    each is written once however often its cause is seen. ``body`` is rendered
    when written, or by the sending job from ``template``/``params`` when the
    writer had no catalogues (notices written inside an exclusion's transaction).
    The number is sealed as an MSISDN (the field of :data:`core.subjects.MSISDN_FIELD`,
    so a subject's sealed number is copied without being opened) with its blind
    index. ``gateway_*`` fields hold what Africa's Talking answered and reported.
    ``link_id`` is the ``linkId`` of the MO a reply answers (Africa's Talking
    premium and on-demand services: the reply is sent as a premium message
    linked to it, from ``short_code``, the shortcode the MO was sent to).
    """

    __tablename__ = "sms_message"
    __table_args__ = (
        one_of("kind", MessageKind, name="sms_message_kind"),
        one_of("status", MessageStatus, name="sms_message_status"),
        one_of("language", Language, name="sms_message_language"),
        Index(
            "sms_message_pending",
            "next_attempt_at",
            postgresql_where=text("status IN ('queued', 'sending')"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    kind: str = Field(max_length=16)
    dedupe_key: str = Field(max_length=160, unique=True)
    template: str | None = Field(default=None, max_length=32)
    params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    language: str = Field(max_length=2)
    body: str | None = Field(default=None, max_length=640)
    msisdn_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    msisdn_bidx: str = Field(max_length=64, index=True)
    link_id: str | None = Field(default=None, max_length=128)
    short_code: str | None = Field(default=None, max_length=32)
    exclusion_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("exclusion.id"), index=True)
    )
    status: str = Field(default=MessageStatus.QUEUED.value, max_length=12, index=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    first_failed_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    gateway_message_id: str | None = Field(default=None, max_length=128, unique=True)
    gateway_status: str | None = Field(default=None, max_length=32)
    failure_reason: str | None = Field(default=None, max_length=64)
    cost: str | None = Field(default=None, max_length=32)
    network_code: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    sent_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    final_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
