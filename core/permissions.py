"""Who may do what: the staff principal and the role check before every privileged operation.

The back-office hides what a role may not do, but the rule lives here, in the
domain: every privileged core function is decorated with :func:`requires` (or
calls :func:`require` first), which re-reads the account on each call, so a
staff member who is disabled, demoted or not fully set up loses the right at
their next action, whatever the UI shows. A refusal is audited
(``staff.refused``) and committed on its own: whatever the operation had
started is rolled back first, so nothing is half-done.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.errors import MakerCheckerViolation, PermissionDenied
from core.models import Role, StaffAccount, StaffStatus

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    """A signed-in staff member, as the back-office holds them for its session.

    ``role`` is what the account had at sign-in; :func:`require` always checks
    the account's role as stored now.
    """

    staff_id: int
    username: str
    role: Role
    language: str

    @property
    def actor(self) -> str:
        """How audit entries name this staff member: ``staff:<username>``."""
        return f"staff:{self.username}"


def _refusal(account: StaffAccount | None, needed: Role) -> tuple[str, str] | None:
    """Why ``account`` may not act with role ``needed`` now (kind, reason), or ``None``."""
    if account is None or account.status != StaffStatus.ACTIVE:
        return "disabled", "the account is disabled"
    if account.must_change_password or account.totp_secret_sealed is None:
        return "setup", "the account is not fully set up"
    if not Role(account.role).covers(needed):
        return "role", f"needs the {needed} role"
    return None


async def require(
    db: AsyncSession,
    principal: Principal,
    needed: Role,
    *,
    action: str,
    now: datetime | None = None,
) -> Principal:
    """Check that ``principal`` may do ``action``, which needs role ``needed``.

    Reads the account as it is now (one query). Returns the principal with its
    current role.

    Raises:
        PermissionDenied: the role is below ``needed``, or the account is disabled
            or not set up (new password and authenticator). Before raising, the
            session's transaction is rolled back and the refusal alone is audited
            (``staff.refused``) and committed.
    """
    account = (
        await db.exec(select(StaffAccount).where(col(StaffAccount.id) == principal.staff_id))
    ).first()
    refusal = _refusal(account, needed)
    if refusal is None:
        assert account is not None
        return Principal(
            principal.staff_id, principal.username, Role(account.role), account.language
        )
    kind, reason = refusal
    await refuse(
        db,
        principal,
        entity=f"staff:{principal.staff_id}",
        after={"action": action, "needed": needed.value, "reason": reason},
        now=now,
    )
    raise PermissionDenied(action=action, needed=needed.value, kind=kind, reason=reason)


async def refuse(
    db: AsyncSession,
    principal: Principal,
    *,
    entity: str,
    after: dict[str, Any],
    subject: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record that ``principal`` was refused, and nothing else: roll back what the operation
    started, append ``staff.refused`` (``after`` says what and why) and commit it.

    The caller raises its :class:`PermissionDenied` next.
    """
    await db.rollback()
    await audit.append(
        db,
        actor=principal.actor,
        action="staff.refused",
        entity=entity,
        subject=subject,
        after=after,
        occurred_at=now,
    )
    await db.commit()


async def refuse_own_request(
    db: AsyncSession,
    principal: Principal,
    *,
    requested_by: int,
    action: str,
    entity: str,
    subject: str | None,
    what: str,
    now: datetime | None = None,
) -> None:
    """Maker-checker: refuse ``principal`` deciding a request they made themselves.

    Nothing happens when someone else requested it. Otherwise the refusal alone
    is audited and committed (:func:`refuse`), and the error raised.

    Raises:
        MakerCheckerViolation: ``principal`` is the requester (``what`` names the request).
    """
    if requested_by != principal.staff_id:
        return
    await refuse(
        db,
        principal,
        entity=entity,
        subject=subject,
        after={"action": action, "reason": "maker-checker: own request"},
        now=now,
    )
    raise MakerCheckerViolation(
        action=action,
        needed=Role.SUPERVISOR.value,
        kind="maker-checker",
        reason=f"{what} must be decided by someone other than its requester",
    )


def requires(
    needed: Role, action: str
) -> Callable[
    [Callable[Concatenate[AsyncSession, P], Awaitable[T]]],
    Callable[Concatenate[AsyncSession, P], Awaitable[T]],
]:
    """Decorate a core operation ``f(db, *, principal, …, now)`` to :func:`require` first.

    The operation must take the session first and ``principal`` (and, for the
    audit's time, ``now``) as keywords. The decorated function carries
    ``needed_role`` and ``action`` for listings and tests.

    Raises:
        PermissionDenied: as :func:`require`; the operation does not run.
        TypeError: no ``principal=`` keyword was given.
    """

    def decorate(
        operation: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
    ) -> Callable[Concatenate[AsyncSession, P], Awaitable[T]]:
        @functools.wraps(operation)
        async def checked(db: AsyncSession, /, *args: P.args, **kwargs: P.kwargs) -> T:
            principal = kwargs.get("principal")
            if not isinstance(principal, Principal):
                raise TypeError(f"{operation.__name__} needs principal=<Principal>")
            now = kwargs.get("now")
            await require(
                db,
                principal,
                needed,
                action=action,
                now=now if isinstance(now, datetime) else None,
            )
            return await operation(db, *args, **kwargs)

        checked.needed_role = needed  # type: ignore[attr-defined]
        checked.action = action  # type: ignore[attr-defined]
        return checked

    return decorate
