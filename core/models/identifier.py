"""A subject's identifiers (phone numbers and ID documents) as links, and their conflicts.

One person may hold several SIMs and one or more ID documents; identifiers are
therefore rows of :class:`SubjectIdentifier`, not unique columns on the subject.
An MSISDN belongs to at most one subject at a time (a partial unique index); an
ID number may be linked to several subjects (two people claiming one ID is
representable), and each such second claim is queued as an
:class:`IdentifierConflict` for staff. Detaching an identifier is maker-checker
(:class:`DetachRequest`, see :mod:`core.detach`).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, LargeBinary, text
from sqlmodel import Field, SQLModel

from core.models.columns import one_of, timestamp, utcnow
from core.models.exclusion import Channel


class IdentifierKind(enum.StrEnum):
    """What an identifier is: a phone number or one of the accepted ID documents."""

    MSISDN = "msisdn"
    NATIONAL_ID = "national_id"
    MAISHA_NAMBA = "maisha_namba"
    PASSPORT = "passport"
    ALIEN_ID = "alien_id"


class IdentifierFamily(enum.StrEnum):
    """One blind-index namespace per family (:mod:`core.subjects`).

    The national ID and the Maisha Namba are both "Kenyan ID numbers" and share
    one namespace, so an operator's ``national_id`` matches either.
    """

    MSISDN = "msisdn"
    KENYAN_ID = "kenyan_id"
    PASSPORT = "passport"
    ALIEN_ID = "alien_id"


FAMILY_OF: dict[IdentifierKind, IdentifierFamily] = {
    IdentifierKind.MSISDN: IdentifierFamily.MSISDN,
    IdentifierKind.NATIONAL_ID: IdentifierFamily.KENYAN_ID,
    IdentifierKind.MAISHA_NAMBA: IdentifierFamily.KENYAN_ID,
    IdentifierKind.PASSPORT: IdentifierFamily.PASSPORT,
    IdentifierKind.ALIEN_ID: IdentifierFamily.ALIEN_ID,
}


class IdentifierStatus(enum.StrEnum):
    """``claimed``: a citizen typed it; ``verified``: an officer saw the document."""

    CLAIMED = "claimed"
    VERIFIED = "verified"


class SubjectIdentifier(SQLModel, table=True):
    """One identifier linked to one subject.

    ``sealed`` is the normalised value sealed with AES-256-GCM and ``bidx`` its
    HMAC-SHA256 blind index in the family's namespace (64 hex characters; see
    :mod:`core.crypto`). ``channel`` is where the link was made (``NULL`` for
    links copied from the subject columns by migration 0011).
    """

    __tablename__ = "subject_identifier"
    __table_args__ = (
        one_of("kind", IdentifierKind, name="subject_identifier_kind"),
        one_of("family", IdentifierFamily, name="subject_identifier_family"),
        one_of("status", IdentifierStatus, name="subject_identifier_status"),
        CheckConstraint(
            "channel IS NULL OR channel IN (" + ", ".join(f"'{c.value}'" for c in Channel) + ")",
            name="subject_identifier_channel",
        ),
        Index("subject_identifier_link", "family", "bidx", "subject_id", unique=True),
        Index(
            "subject_identifier_one_msisdn",
            "bidx",
            unique=True,
            postgresql_where=text("family = 'msisdn'"),
        ),
        Index("subject_identifier_bidx", "bidx"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    subject_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("subject.id"), nullable=False, index=True)
    )
    kind: str = Field(max_length=16)
    family: str = Field(max_length=16)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    bidx: str = Field(max_length=64)
    status: str = Field(default=IdentifierStatus.CLAIMED.value, max_length=10)
    channel: str | None = Field(default=None, max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())


class IdentifierConflict(SQLModel, table=True):
    """A second subject claimed an ID already linked to another: queued for staff.

    Both links stay (nobody's exclusion is weakened); staff resolve the row
    (:func:`core.identifiers.resolve_conflict`). No personal data: the blind
    index and the two subjects.
    """

    __tablename__ = "identifier_conflict"
    __table_args__ = (
        Index(
            "identifier_conflict_open",
            "created_at",
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    family: str = Field(max_length=16)
    bidx: str = Field(max_length=64)
    subject_id: int = Field(sa_column=Column(BigInteger, ForeignKey("subject.id"), nullable=False))
    other_subject_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("subject.id"), nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    resolved_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    resolved_by: str | None = Field(default=None, max_length=64)
    resolution: str | None = Field(default=None, max_length=500)


class DetachStatus(enum.StrEnum):
    """``requested`` by an officer → ``detached`` (approved by another) or ``rejected``."""

    REQUESTED = "requested"
    DETACHED = "detached"
    REJECTED = "rejected"


class DetachRequest(SQLModel, table=True):
    """A request to detach one identifier link from its subject, decided by maker-checker.

    ``reason`` stays here, never in the audit log. The database refuses a
    decision by the requester and a second open request for one link. The link
    id is kept as a plain number: the link row is deleted when the request is
    approved, so the link's ``kind`` (an :class:`IdentifierKind` value, never the
    identifier) is kept here too (``NULL`` for requests made before 0012).
    """

    __tablename__ = "detach_request"
    __table_args__ = (
        one_of("status", DetachStatus, name="detach_request_status"),
        CheckConstraint(
            "kind IS NULL OR kind IN (" + ", ".join(f"'{k.value}'" for k in IdentifierKind) + ")",
            name="detach_request_kind",
        ),
        CheckConstraint(
            "decided_by IS NULL OR decided_by <> requested_by",
            name="detach_request_maker_checker",
        ),
        Index(
            "detach_request_one_open",
            "identifier_id",
            unique=True,
            postgresql_where=text("status = 'requested'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    identifier_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    subject_id: int = Field(sa_column=Column(BigInteger, ForeignKey("subject.id"), nullable=False))
    kind: str | None = Field(default=None, max_length=16)
    status: str = Field(default=DetachStatus.REQUESTED.value, max_length=10)
    reason: str = Field(max_length=500)
    requested_by: int = Field(
        sa_column=Column(BigInteger, ForeignKey("staff_account.id"), nullable=False)
    )
    requested_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    decided_by: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("staff_account.id"))
    )
    decided_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))


class LinkFailure(SQLModel, table=True):
    """A wrong exclusion reference entered from one number (blind index), for the rate limit.

    ``attempt`` names the channel request that typed it (``ussd:<sessionId>:<step>``),
    so a gateway repeating that request counts once; ``None`` when the channel
    de-duplicates its requests itself (SMS, by MO id). See
    :func:`core.identifiers.join_by_reference`; no personal data.
    """

    __tablename__ = "link_failure"
    __table_args__ = (
        Index("link_failure_recent", "bidx", "at"),
        Index("link_failure_attempt", "bidx", "attempt", unique=True),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    bidx: str = Field(max_length=64)
    attempt: str | None = Field(default=None, max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
