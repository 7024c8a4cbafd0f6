"""Regulator staff accounts: roles, credentials and the lockout counter."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Column, LargeBinary
from sqlmodel import Field, SQLModel

from core.i18n import Language
from core.models.columns import one_of, timestamp, utcnow


class Role(enum.StrEnum):
    """What a staff member may do; each role may do everything the roles before it may.

    ``viewer`` < ``officer`` < ``supervisor`` < ``admin`` (see :meth:`covers`).
    """

    VIEWER = "viewer"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for viewer up to 3 for admin."""
        return list(Role).index(self)

    def covers(self, needed: Role) -> bool:
        """True when this role may do what ``needed`` may."""
        return self.rank >= needed.rank


class StaffStatus(enum.StrEnum):
    """An account signs in only while active; disabling keeps it (and its audit trail)."""

    ACTIVE = "active"
    DISABLED = "disabled"


class StaffAccount(SQLModel, table=True):
    """One member of the regulator's staff who uses the back-office.

    ``password_hash`` is an Argon2id string (PHC format, parameters inside it).
    ``must_change_password`` marks a temporary password set by ``nser staff
    add``/``reset``: it signs in only to choose a new one, within a day of
    ``password_set_at``. ``totp_secret_sealed`` is the RFC 6238 secret sealed
    like an identifier (:mod:`core.crypto`), ``None`` until the staff member has
    enrolled an authenticator; ``totp_last_step`` is the last time step accepted,
    so a code is never accepted twice. ``failed_logins`` counts failures since
    the last success; ``locked_until`` refuses sign-ins until then.
    """

    __tablename__ = "staff_account"
    __table_args__ = (
        one_of("role", Role, name="staff_account_role"),
        one_of("status", StaffStatus, name="staff_account_status"),
        one_of("language", Language, name="staff_account_language"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    username: str = Field(max_length=32, unique=True)
    role: str = Field(max_length=12)
    status: str = Field(default=StaffStatus.ACTIVE.value, max_length=10)
    language: str = Field(default=Language.ENGLISH.value, max_length=2)
    password_hash: str = Field(max_length=255)
    must_change_password: bool = Field(default=True)
    password_set_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    totp_secret_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger))
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_column=timestamp(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
