"""Staff accounts: creating, disabling and resetting them, and signing in.

Sign-in needs the username, the password (Argon2id, :mod:`core.passwords`) and,
once enrolled, a TOTP code (RFC 6238, :mod:`core.totp`). Every attempt is
audited: ``staff.signed_in``, ``staff.sign_in_failed``, ``staff.locked`` and
``staff.sign_in_refused`` (locked or disabled account). After
:data:`LOCK_AFTER` failures in a row the account refuses every attempt for
:data:`LOCK_MINUTES` minutes. A username that does not exist is audited as
``anonymous`` without the typed text, which may be anything (even a password
typed into the wrong field), and costs the same time as a real one.

New and reset accounts get a temporary password, valid
:data:`TEMPORARY_HOURS` hours, that only lets the staff member choose their own
and enrol an authenticator (:func:`change_password`, :func:`enrol`); until both
are done :mod:`core.permissions` refuses every operation. The account is
created by an administrator on the server (``nser staff add``), so the TOTP
secret is only ever seen by the staff member who scans it.

Functions that sign in or change credentials commit their own transaction: a
failure must be recorded even though the function raises.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, passwords, totp
from core.codes import ALPHABET
from core.crypto import KeyRing
from core.errors import (
    AccountLocked,
    InvalidInput,
    NotFound,
    SignInRefused,
    WeakPassword,
)
from core.i18n import LANGUAGES
from core.models import Role, StaffAccount, StaffStatus
from core.permissions import Principal

USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,23}")
LOCK_AFTER = 5
LOCK_MINUTES = 15
TEMPORARY_HOURS = 24
TOTP_FIELD = "staff.totp_secret"
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: who, and what they must do before anything else."""

    principal: Principal
    must_change_password: bool
    must_enrol: bool

    @property
    def ready(self) -> bool:
        """True when the account is fully set up and may work."""
        return not (self.must_change_password or self.must_enrol)


@dataclass(frozen=True)
class StaffSummary:
    """One account as ``nser staff list`` shows it."""

    username: str
    role: str
    status: str
    enrolled: bool
    locked_until: datetime | None


def normalise_username(raw: str) -> str:
    """``raw`` lower-cased and trimmed: 2 to 24 of ``a-z 0-9 . _ -``, starting with a letter.

    Raises:
        InvalidInput: anything else.
    """
    name = raw.strip().lower()
    if not USERNAME.fullmatch(name):
        raise InvalidInput("a username is 2 to 24 of a-z 0-9 . _ - and starts with a letter")
    return name


def temporary_password() -> str:
    """16 random characters of the reference alphabet in groups (``K7M3-Q9PA-…``), ~78 bits."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(16))
    return "-".join(body[i : i + 4] for i in range(0, 16, 4))


def _principal(account: StaffAccount) -> Principal:
    assert account.id is not None
    return Principal(account.id, account.username, Role(account.role), account.language)


async def _account(db: AsyncSession, username: str, *, lock: bool = False) -> StaffAccount | None:
    query = select(StaffAccount).where(col(StaffAccount.username) == username)
    return (await db.exec(query.with_for_update() if lock else query)).first()


async def _audit(
    db: AsyncSession,
    account: StaffAccount | None,
    action: str,
    *,
    actor: str | None = None,
    now: datetime,
    **after: Any,
) -> None:
    await audit.append(
        db,
        actor=actor or (f"staff:{account.username}" if account else ANONYMOUS),
        action=action,
        entity=f"staff:{account.id}" if account else "staff:unknown",
        after=after or None,
        occurred_at=now,
    )


async def add(
    db: AsyncSession, *, username: str, role: Role, language: str, actor: str, now: datetime
) -> str:
    """Create an account; returns its temporary password (shown once, never stored in clear).

    Audited ``staff.created`` by ``actor`` (``cli:<user>``). The caller commits.

    Raises:
        InvalidInput: a bad username or language, or the username is taken.
    """
    name = normalise_username(username)
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}")
    if await _account(db, name) is not None:
        raise InvalidInput(f"username {name!r} is taken")
    password = temporary_password()
    account = StaffAccount(
        username=name,
        role=Role(role).value,
        language=language,
        password_hash=await passwords.hash_password(password),
        must_change_password=True,
        password_set_at=now,
        created_at=now,
        updated_at=now,
    )
    db.add(account)
    await db.flush()
    await _audit(db, account, "staff.created", actor=actor, now=now, role=account.role)
    return password


async def _existing(db: AsyncSession, username: str) -> StaffAccount:
    account = await _account(db, normalise_username(username), lock=True)
    if account is None:
        raise NotFound(f"no staff account {username.strip().lower()!r}")
    return account


async def disable(db: AsyncSession, *, username: str, actor: str, now: datetime) -> None:
    """Disable an account: it can no longer sign in or act. Audited; the caller commits.

    Raises:
        NotFound: no such account.
    """
    account = await _existing(db, username)
    account.status = StaffStatus.DISABLED.value
    account.updated_at = now
    await _audit(db, account, "staff.disabled", actor=actor, now=now)


async def reset(db: AsyncSession, *, username: str, actor: str, now: datetime) -> str:
    """Give an account a new temporary password and forget its authenticator; unlock it.

    For a forgotten password or a lost phone. Returns the temporary password.
    Audited ``staff.reset``; the caller commits.

    Raises:
        NotFound: no such account.
    """
    account = await _existing(db, username)
    password = temporary_password()
    account.password_hash = await passwords.hash_password(password)
    account.must_change_password = True
    account.password_set_at = now
    account.totp_secret_sealed = None
    account.totp_last_step = None
    account.failed_logins = 0
    account.locked_until = None
    account.updated_at = now
    await _audit(db, account, "staff.reset", actor=actor, now=now)
    return password


async def accounts(db: AsyncSession) -> list[StaffSummary]:
    """Every account, by username."""
    rows = (await db.exec(select(StaffAccount).order_by(col(StaffAccount.username)))).all()
    return [
        StaffSummary(a.username, a.role, a.status, a.totp_secret_sealed is not None, a.locked_until)
        for a in rows
    ]


async def _fail(db: AsyncSession, account: StaffAccount, factor: str, now: datetime) -> None:
    account.failed_logins += 1
    failures = account.failed_logins
    await _audit(db, account, "staff.sign_in_failed", now=now, factor=factor, failures=failures)
    if failures >= LOCK_AFTER:
        account.failed_logins = 0
        account.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        await _audit(db, account, "staff.locked", now=now, until=account.locked_until.isoformat())
    account.updated_at = now
    await db.commit()
    if account.locked_until is not None and account.locked_until > now:
        raise AccountLocked(until=account.locked_until)
    raise SignInRefused("wrong username, password or code")


async def sign_in(
    db: AsyncSession, *, keyring: KeyRing, username: str, password: str, code: str, now: datetime
) -> SignIn:
    """Check a sign-in and record it; commits.

    ``code`` is the authenticator's current code (ignored until the account has
    enrolled one). A code is accepted at most once.

    Raises:
        AccountLocked: too many failures; nothing is checked until ``until``.
        SignInRefused: wrong username, password or code, a disabled account, or an
            expired temporary password (the message does not say which).
    """
    try:
        name = normalise_username(username)
    except InvalidInput:
        name = ""
    account = await _account(db, name, lock=True) if name else None
    if account is not None and account.locked_until is not None and account.locked_until > now:
        await _audit(db, account, "staff.sign_in_refused", now=now, reason="locked")
        await db.commit()
        raise AccountLocked(until=account.locked_until)
    password_ok = await passwords.verify(account.password_hash if account else None, password)
    if account is None:
        await _audit(db, None, "staff.sign_in_failed", now=now, factor="username")
        await db.commit()
        raise SignInRefused("wrong username, password or code")
    if not password_ok:
        await _fail(db, account, "password", now)
    refusal = _refusal(account, now)
    if refusal is not None:
        await _audit(db, account, "staff.sign_in_refused", now=now, reason=refusal)
        await db.commit()
        raise SignInRefused("wrong username, password or code")
    step = None
    if account.totp_secret_sealed is not None:
        secret = keyring.open(account.totp_secret_sealed, field=TOTP_FIELD)
        step = totp.matching_step(secret, code, now)
        if step is None or (account.totp_last_step is not None and step <= account.totp_last_step):
            await _fail(db, account, "code", now)
        account.totp_last_step = step
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = await passwords.hash_password(password)
    account.failed_logins = 0
    account.locked_until = None
    account.updated_at = now
    await _audit(db, account, "staff.signed_in", now=now)
    await db.commit()
    return SignIn(
        _principal(account),
        must_change_password=account.must_change_password,
        must_enrol=account.totp_secret_sealed is None,
    )


def _refusal(account: StaffAccount, now: datetime) -> str | None:
    if account.status != StaffStatus.ACTIVE:
        return "disabled"
    expires = account.password_set_at + timedelta(hours=TEMPORARY_HOURS)
    if account.must_change_password and expires <= now:
        return "temporary password expired"
    return None


async def _own_account(db: AsyncSession, principal: Principal) -> StaffAccount:
    account = (
        await db.exec(
            select(StaffAccount).where(col(StaffAccount.id) == principal.staff_id).with_for_update()
        )
    ).first()
    if account is None or account.status != StaffStatus.ACTIVE:
        raise SignInRefused("the account is disabled")
    return account


async def change_password(
    db: AsyncSession, *, principal: Principal, current: str, new: str, now: datetime
) -> None:
    """Replace the signed-in staff member's password; commits. Audited ``staff.password_changed``.

    Raises:
        SignInRefused: ``current`` is wrong or the account is disabled (counts as a failure).
        WeakPassword: ``new`` breaks the rules or equals ``current``.
    """
    account = await _own_account(db, principal)
    if not await passwords.verify(account.password_hash, current):
        await _fail(db, account, "password", now)
    passwords.check_rules(new, username=account.username)
    if new == current:
        raise WeakPassword("choose a password you have not used here")
    account.password_hash = await passwords.hash_password(new)
    account.must_change_password = False
    account.password_set_at = now
    account.updated_at = now
    await _audit(db, account, "staff.password_changed", now=now)
    await db.commit()


async def enrol(
    db: AsyncSession,
    *,
    principal: Principal,
    keyring: KeyRing,
    secret: str,
    code: str,
    now: datetime,
) -> None:
    """Enrol the authenticator holding ``secret`` once it shows a right ``code``; commits.

    The secret (from :func:`core.totp.new_secret`, shown as a QR code) is stored
    sealed. Audited ``staff.enrolled``.

    Raises:
        InvalidInput: the account already has an authenticator or must first
            change its password, or ``code`` is not the current code.
    """
    account = await _own_account(db, principal)
    if account.must_change_password or account.totp_secret_sealed is not None:
        raise InvalidInput("this account cannot enrol an authenticator now")
    step = totp.matching_step(secret, code, now)
    if step is None:
        raise InvalidInput("that code does not match; check the phone's clock and try again")
    account.totp_secret_sealed = keyring.seal(secret, field=TOTP_FIELD)
    account.totp_last_step = step
    account.updated_at = now
    await _audit(db, account, "staff.enrolled", now=now)
    await db.commit()
