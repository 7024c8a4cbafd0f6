"""The SMS channel's records: inbound messages (MO), confirmations awaited, reminder opt-outs,
screenings in progress.

Numbers are stored like a subject's: sealed with AES-256-GCM under the
MSISDN field and found through their blind index (:mod:`core.subjects`). The
text a citizen sent is sealed too (it may hold a phone or ID number).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, text
from sqlmodel import Field, SQLModel

from core.i18n import Language
from core.instruments import InstrumentCode
from core.models.columns import one_of, timestamp, utcnow
from core.periods import Period


class InboundOutcome(enum.StrEnum):
    """What processing an inbound SMS did (``None`` on the row until it is processed)."""

    ASKED = "asked"  # an exclusion keyword: confirmation requested
    CONFIRMED = "confirmed"  # YES/NDIYO taken: excluded or extended
    DECLINED = "declined"  # NO/HAPANA: the offer withdrawn
    STATUS = "status"
    HELP = "help"
    LANGUAGE = "language"
    STOPPED = "stopped"  # reminders turned off
    SCREENING = "screening"  # a step of a screening by SMS (started, answered, re-asked, stopped)
    REFUSED = "refused"  # understood but not possible (already excluded, nothing to confirm, …)
    UNKNOWN = "unknown"  # not understood: a short help reply
    IGNORED = "ignored"  # a sender we cannot answer (invalid or foreign number)


class SmsInbound(SQLModel, table=True):
    """One MO (mobile-originated) SMS as Africa's Talking posted it, stored before any work.

    ``gateway_id`` is the gateway's message ``id`` (unique: a repeated callback
    stores nothing). ``msisdn_bidx`` is ``None`` for a sender that is not a valid
    mobile number (``msisdn_sealed`` then seals the raw field). ``processed_at``
    stays ``None`` until the processing job committed its effects; the sweeper
    re-enqueues such rows.
    """

    __tablename__ = "sms_inbound"
    __table_args__ = (
        one_of("outcome", InboundOutcome, name="sms_inbound_outcome"),
        Index(
            "sms_inbound_unprocessed",
            "received_at",
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    gateway_id: str = Field(max_length=128, unique=True)
    msisdn_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    msisdn_bidx: str | None = Field(default=None, max_length=64, index=True)
    to_code: str = Field(max_length=32)
    text_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    link_id: str | None = Field(default=None, max_length=128)
    network_code: str | None = Field(default=None, max_length=16)
    gateway_date: str | None = Field(default=None, max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    processed_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    outcome: str | None = Field(default=None, max_length=16)


class OfferKind(enum.StrEnum):
    """Why a YES is awaited: a new exclusion asked by keyword, or an extension offered."""

    EXCLUDE = "exclude"
    EXTEND = "extend"


class SmsOffer(SQLModel, table=True):
    """An exclusion or extension awaiting the citizen's YES/NDIYO, one per number.

    A newer keyword replaces the offer; YES takes it (once), NO withdraws it,
    and after ``expires_at`` it is void.
    """

    __tablename__ = "sms_offer"
    __table_args__ = (
        one_of("kind", OfferKind, name="sms_offer_kind"),
        one_of("period", Period, name="sms_offer_period"),
        one_of("language", Language, name="sms_offer_language"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    msisdn_bidx: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=10)
    period: str = Field(max_length=10)
    language: str = Field(max_length=2)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    expires_at: datetime = Field(sa_column=timestamp())


class SmsReminderOptOut(SQLModel, table=True):
    """A number that asked for no more expiry reminders or notices (keyword STOP/SITISHA)."""

    __tablename__ = "sms_reminder_opt_out"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    msisdn_bidx: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())


class SmsScreening(SQLModel, table=True):
    """A screening by SMS in progress, one per number (``CHECK``/``PIMA`` starts or restarts it).

    ``instrument`` is the one being asked; ``answers_sealed`` the answers so
    far, sealed like a result's (health information: field
    ``sms_screening.answers``, a JSON list of option indexes). Once they answer
    every item the result is stored (:func:`core.screening.record`) and the row
    stays only to read a follow-up choice. ``invalid`` counts the replies in a
    row that were not an answer (the second ends the screening).
    ``expires_at`` is a day after the last reply: a later answer is told the
    screening expired, and the row is dropped. ``language`` is the keyword's.
    """

    __tablename__ = "sms_screening"
    __table_args__ = (
        one_of("instrument", InstrumentCode, name="sms_screening_instrument"),
        one_of("language", Language, name="sms_screening_language"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    msisdn_bidx: str = Field(max_length=64, unique=True)
    instrument: str = Field(max_length=12)
    answers_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    language: str = Field(max_length=2)
    invalid: int = Field(default=0)
    started_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    expires_at: datetime = Field(sa_column=timestamp())
