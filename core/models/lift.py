"""Requests to lift an exclusion, decided by maker-checker."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, text
from sqlmodel import Field, SQLModel

from core.models.columns import one_of, timestamp, utcnow


class LiftStatus(enum.StrEnum):
    """Where a lift request stands.

    ``requested`` (by an officer) → ``approved`` (by another supervisor; the
    cooling-off runs) → ``lifted`` (the exclusion is lifted at ``effective_at``).
    A request may instead end ``rejected``, ``withdrawn`` (the citizen extended
    the exclusion meanwhile) or ``lapsed`` (the exclusion ended by itself first).
    """

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LIFTED = "lifted"
    LAPSED = "lapsed"


#: Statuses of a request still under way; an exclusion has at most one such request.
OPEN_LIFT_STATUSES = (LiftStatus.REQUESTED, LiftStatus.APPROVED)


class LiftRequest(SQLModel, table=True):
    """A request to lift one exclusion before its end.

    ``reason`` is the officer's free text: it stays in this table and never goes
    to the audit log (it may name people). The database itself refuses a
    decision by the requester (``lift_request_maker_checker``) and a second open
    request for one exclusion (``lift_request_one_open``).
    """

    __tablename__ = "lift_request"
    __table_args__ = (
        one_of("status", LiftStatus, name="lift_request_status"),
        CheckConstraint(
            "decided_by IS NULL OR decided_by <> requested_by", name="lift_request_maker_checker"
        ),
        Index(
            "lift_request_one_open",
            "exclusion_id",
            unique=True,
            postgresql_where=text("status IN ('requested', 'approved')"),
        ),
        Index(
            "lift_request_due",
            "effective_at",
            postgresql_where=text("status = 'approved'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    exclusion_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("exclusion.id"), nullable=False, index=True)
    )
    status: str = Field(default=LiftStatus.REQUESTED.value, max_length=10)
    reason: str = Field(max_length=500)
    requested_by: int = Field(
        sa_column=Column(BigInteger, ForeignKey("staff_account.id"), nullable=False)
    )
    requested_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    decided_by: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("staff_account.id"))
    )
    decided_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    decision_note: str | None = Field(default=None, max_length=500)
    effective_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
