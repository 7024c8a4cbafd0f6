"""Screening results and re-screening reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from core.instruments import BandCode, InstrumentCode
from core.models.columns import one_of, timestamp, utcnow
from core.models.exclusion import Channel


class ScreeningResult(SQLModel, table=True):
    """One completed screening of a subject.

    Screening answers are health information (sensitive personal data under
    Kenya's Data Protection Act 2019), so ``answers_sealed`` holds them sealed
    with AES-256-GCM like an identifier (:mod:`core.crypto`, field
    ``screening_result.answers``: a JSON list of option indexes). In the clear
    is only what statistics need: ``instrument`` and its ``version``, ``score``,
    ``band``, ``channel`` and ``taken_at``. Never shown to operators.

    ``request_key`` is the channel request (``ussd:<sessionId>``, or
    ``sms:<message id>`` of the MO that completed it) and ``seq`` the step of
    it that completed the instrument (0 by SMS), so a
    repeated request stores one result; every result of one ``request_key``
    belongs to the subject that used it first.
    """

    __tablename__ = "screening_result"
    __table_args__ = (
        one_of("instrument", InstrumentCode, name="screening_result_instrument"),
        one_of("band", BandCode, name="screening_result_band"),
        one_of("channel", Channel, name="screening_result_channel"),
        UniqueConstraint("request_key", "seq", name="screening_result_request"),
        Index("screening_result_subject_taken", "subject_id", "taken_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    subject_id: int = Field(sa_column=Column(BigInteger, ForeignKey("subject.id"), nullable=False))
    instrument: str = Field(max_length=12)
    version: str = Field(max_length=16)
    score: int
    band: str = Field(max_length=16)
    channel: str = Field(max_length=12)
    answers_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    request_key: str = Field(max_length=160)
    seq: int
    taken_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())


class ScreeningReminder(SQLModel, table=True):
    """A subject's choice to be reminded to screen again every quarter (one row per subject).

    ``active`` while opted in; ``next_due_at`` (UTC) is three calendar months
    after the subject's latest screening or the last reminder, and the worker's
    cron reminds everyone due. ``channel`` is where the choice was made.
    """

    __tablename__ = "screening_reminder"
    __table_args__ = (
        one_of("channel", Channel, name="screening_reminder_channel"),
        Index("screening_reminder_due", "next_due_at", postgresql_where=text("active")),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    subject_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("subject.id"), nullable=False, unique=True)
    )
    active: bool
    next_due_at: datetime = Field(sa_column=timestamp())
    last_reminded_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    channel: str = Field(max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
