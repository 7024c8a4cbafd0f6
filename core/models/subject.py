"""The subject: a person known to the register (excluded or screened), by sealed identifiers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, LargeBinary
from sqlmodel import Field, SQLModel

from core.i18n import Language
from core.models.columns import one_of, timestamp, utcnow


class Subject(SQLModel, table=True):
    """A person in the register.

    The MSISDN (E.164) and the optional national ID are stored only sealed with
    AES-256-GCM (``*_sealed``) and as HMAC-SHA256 blind indexes (``*_bidx``, 64 hex
    characters) used for look-ups; see :mod:`core.crypto`. ``bst`` is the stable
    pseudonymous screening token safe to show to operators and staff.
    """

    __tablename__ = "subject"
    __table_args__ = (one_of("language", Language, name="subject_language"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    msisdn_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    msisdn_bidx: str = Field(max_length=64, unique=True)
    national_id_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    national_id_bidx: str | None = Field(default=None, max_length=64, unique=True)
    bst: str = Field(max_length=16, unique=True)
    language: str = Field(default="sw", max_length=2)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
