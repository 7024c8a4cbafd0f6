"""Licensed operators: their API keys, webhook secrets, customer subscriptions and deliveries.

An operator never receives a list of excluded people. It learns about a person
only through what it already holds: a lookup of its own customer's MSISDN or
ID, or a *subscription* (its ``customer_ref`` plus the customer's blind
indexes) that makes it a recipient of that person's exclusion events. The
subscription keeps no sealed identifier: matching needs only the blind index,
and the operator already holds the raw value.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from core.models.columns import one_of, timestamp, utcnow


class OperatorStatus(enum.StrEnum):
    """Standing with the regulator: only ``active`` operators use the API or get pushes."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


class KeyMode(enum.StrEnum):
    """``live`` keys use the register; ``test`` keys answer from documented test numbers only."""

    LIVE = "live"
    TEST = "test"


class DeliveryStatus(enum.StrEnum):
    """Where a webhook delivery stands.

    ``pending`` until a 2xx (``delivered``) or the retry window ends
    (``failed``); ``skipped`` when the operator had no usable endpoint (no URL, or
    disabled by a ``410``) — the event stays in its feed either way.
    """

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"


class Operator(SQLModel, table=True):
    """A licensed betting company.

    ``allow_cidrs`` is a JSON list of CIDR strings (empty = any source address).
    ``webhook_disabled_at`` is set when the endpoint answered ``410 Gone``; setting
    a new URL clears it. The technical contact's phone is sealed like a subject's.
    """

    __tablename__ = "operator"
    __table_args__ = (one_of("status", OperatorStatus, name="operator_status"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    name: str = Field(max_length=200)
    licence: str = Field(max_length=64, unique=True)
    status: str = Field(default=OperatorStatus.ACTIVE.value, max_length=10)
    contact_name: str | None = Field(default=None, max_length=200)
    contact_phone_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    webhook_url: str | None = Field(default=None, max_length=2048)
    webhook_disabled_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    allow_cidrs: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())


class ApiKey(SQLModel, table=True):
    """An operator API key, kept only as the SHA-256 of the whole key.

    ``prefix`` is the recognisable start shown to staff and operators
    (``nser_live_`` or ``nser_test_`` plus 6 characters); the key itself is shown
    once, at creation. Several keys may be active at once so they rotate with
    overlap; ``revoked_at`` ends one.
    """

    __tablename__ = "operator_api_key"
    __table_args__ = (one_of("mode", KeyMode, name="operator_api_key_mode"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    operator_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("operator.id"), nullable=False, index=True)
    )
    mode: str = Field(max_length=4)
    prefix: str = Field(max_length=24)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    revoked_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))


class WebhookSecret(SQLModel, table=True):
    """A webhook signing secret (sealed). During a rotation the old one has ``expires_at`` set
    and both sign every delivery until then (Standard Webhooks allows several signatures)."""

    __tablename__ = "operator_webhook_secret"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    operator_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("operator.id"), nullable=False, index=True)
    )
    secret_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    expires_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))


class Subscription(SQLModel, table=True):
    """A customer an operator holds: its own ``customer_ref`` and the customer's blind indexes.

    At least one of ``msisdn_bidx`` / ``national_id_bidx`` is set (a CHECK).
    """

    __tablename__ = "operator_subscription"
    __table_args__ = (
        UniqueConstraint("operator_id", "customer_ref", name="operator_subscription_ref"),
        CheckConstraint(
            "msisdn_bidx IS NOT NULL OR national_id_bidx IS NOT NULL",
            name="operator_subscription_identifier",
        ),
        Index("operator_subscription_msisdn", "msisdn_bidx"),
        Index("operator_subscription_national_id", "national_id_bidx"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    operator_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("operator.id"), nullable=False)
    )
    customer_ref: str = Field(max_length=128)
    msisdn_bidx: str | None = Field(default=None, max_length=64)
    national_id_bidx: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())


class Delivery(SQLModel, table=True):
    """One exclusion event for one subscribed operator: the outbox row and the feed entry.

    Written in the event's own transaction. ``message_id`` is the Standard
    Webhooks ``webhook-id`` (stable across retries); ``payload`` is the JSON
    body sent (serialised compactly with sorted keys, the same bytes on every
    attempt); ``id`` is the feed cursor. Retried until ``next_attempt_at`` passes
    the retry window (see :mod:`core.deliveries`). ``last_attempt_at`` is when
    the last attempt started; ``closed_at`` when the row left ``pending``.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        one_of("status", DeliveryStatus, name="webhook_delivery_status"),
        Index("webhook_delivery_operator", "operator_id", "id"),
        Index(
            "webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "webhook_delivery_failed",
            "operator_id",
            postgresql_where=text("status = 'failed'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    message_id: str = Field(max_length=40, unique=True)
    operator_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("operator.id"), nullable=False)
    )
    event_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("exclusion_event.id"), nullable=False, index=True)
    )
    event_type: str = Field(max_length=40)
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=10)
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime = Field(sa_column=timestamp())
    leased_until: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    last_status: int | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_column=Column(String(300)))
    delivered_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    last_attempt_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())


class OperatorRequest(SQLModel, table=True):
    """One API call that looked up or changed subscriptions: who, which request, what came out.

    No identifier is kept, raw or indexed: ``items`` and ``excluded`` count them.
    Written in batches off the request path (see :mod:`core.usage`).
    """

    __tablename__ = "operator_request"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    operator_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    key_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    request_id: str = Field(max_length=64)
    kind: str = Field(max_length=24)
    items: int = Field(sa_column=Column(Integer, nullable=False))
    excluded: int = Field(sa_column=Column(Integer, nullable=False))
    status: int = Field(sa_column=Column(Integer, nullable=False))
    at: datetime = Field(sa_column=timestamp())


class OperatorUsage(SQLModel, table=True):
    """Per operator and Nairobi day: lookups and subscription changes (for the regulator)."""

    __tablename__ = "operator_usage"

    operator_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    day: date = Field(sa_column=Column(Date, primary_key=True))
    lookups: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    subscription_changes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
