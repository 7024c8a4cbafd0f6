"""The subject: a person known to the register (excluded or screened), by sealed identifiers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary
from sqlmodel import Field, SQLModel

from core.i18n import Language
from core.models.columns import one_of, timestamp, utcnow


class Subject(SQLModel, table=True):
    """A person in the register.

    Every identifier (each SIM, each ID document) is a link row
    (:class:`~core.models.SubjectIdentifier`); look-ups go through those links.
    ``msisdn_*`` is only the *contact number*: the number the subject first
    came from, where SMS notices go, sealed with AES-256-GCM and blind-indexed
    (HMAC-SHA256, 64 hex characters; :mod:`core.crypto`). It is kept here so the
    message queries stay one join; it is ``NULL`` once staff detached it (a
    recycled number) or when the person's identifiers moved to another subject.
    ``merged_into_id`` points to the subject this one's identifiers moved to
    when a line joined another person's exclusion (:mod:`core.identifiers`);
    a reference of this subject's exclusion then leads there. ``bst`` is the
    stable pseudonymous screening token safe to show to operators
    and staff.
    """

    __tablename__ = "subject"
    __table_args__ = (one_of("language", Language, name="subject_language"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    msisdn_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    msisdn_bidx: str | None = Field(default=None, max_length=64, unique=True)
    merged_into_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("subject.id"), nullable=True)
    )
    bst: str = Field(max_length=16, unique=True)
    language: str = Field(default="sw", max_length=2)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
