"""Exclusions and the events that changed them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, text
from sqlmodel import Field, SQLModel

from core.models.columns import one_of, timestamp, utcnow
from core.periods import Period


class ExclusionStatus(enum.StrEnum):
    """Lifecycle of an exclusion: active until it expires at ``ends_at`` or staff lift it."""

    ACTIVE = "active"
    EXPIRED = "expired"
    LIFTED = "lifted"


class Channel(enum.StrEnum):
    """Where a change to the register came from."""

    USSD = "ussd"
    SMS = "sms"
    BACKOFFICE = "backoffice"


class EventType(enum.StrEnum):
    """What happened to an exclusion; also the operator webhook's event type."""

    CREATED = "exclusion.created"
    EXTENDED = "exclusion.extended"
    EXPIRED = "exclusion.expired"
    LIFTED = "exclusion.lifted"
    IDENTIFIER_ADDED = "exclusion.identifier_added"
    IDENTIFIER_REMOVED = "exclusion.identifier_removed"


class Exclusion(SQLModel, table=True):
    """One self-exclusion of a subject.

    ``ends_at`` is UTC (``None`` = permanent; see :mod:`core.periods`). At most one
    exclusion per subject is active (a partial unique index). ``reference`` is the
    human-friendly code with a check character (:mod:`core.codes`);
    ``idempotency_key`` is the channel request that created it (e.g.
    ``ussd:<sessionId>``), unique so a repeated callback never makes a second one.
    """

    __tablename__ = "exclusion"
    __table_args__ = (
        one_of("status", ExclusionStatus, name="exclusion_status"),
        one_of("period", Period, name="exclusion_period"),
        one_of("channel", Channel, name="exclusion_channel"),
        Index(
            "exclusion_one_active_per_subject",
            "subject_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "exclusion_active_ends_at",
            "ends_at",
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    subject_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("subject.id"), nullable=False, index=True)
    )
    period: str = Field(max_length=10)
    starts_at: datetime = Field(sa_column=timestamp())
    ends_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    status: str = Field(default=ExclusionStatus.ACTIVE.value, max_length=10)
    reference: str = Field(max_length=16, unique=True)
    channel: str = Field(max_length=12)
    idempotency_key: str = Field(max_length=160, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())


class ExclusionEvent(SQLModel, table=True):
    """Something that happened to an exclusion: created, extended, expired or lifted.

    These rows are the source the operator outbox fans out from. An event
    caused by a channel request carries that request's ``idempotency_key``
    (unique), which makes extensions idempotent as creations are. ``txid`` is
    the writing transaction's id (``pg_current_xact_id()``), so a reader can
    tell which events may still appear below ids it has already seen (see
    :mod:`core.register_cache`).
    """

    __tablename__ = "exclusion_event"
    __table_args__ = (
        one_of("type", EventType, name="exclusion_event_type"),
        one_of("period", Period, name="exclusion_event_period"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    exclusion_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("exclusion.id"), nullable=False, index=True)
    )
    type: str = Field(max_length=32)
    idempotency_key: str | None = Field(default=None, max_length=160, unique=True)
    period: str = Field(max_length=10)
    ends_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    occurred_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    txid: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger,
            nullable=False,
            index=True,
            server_default=text("(pg_current_xact_id()::text)::bigint"),
        ),
    )
