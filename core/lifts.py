"""Lifting an exclusion by maker-checker, with a cooling-off period.

An officer requests a lift with a reason (:func:`request`); a *different*
supervisor approves or rejects it (:func:`approve`, :func:`reject`); an approved
lift takes effect only ``NSER_LIFT_COOLING_OFF_DAYS`` after the approval, when
the worker's :func:`apply_due` lifts the exclusion through
:func:`core.exclusions.lift` (so ``exclusion.lifted`` fans out like every
event). The same person can never both request and decide: this module refuses
it (audited) and the database refuses it too. Every step is audited; the
officer's free-text reason stays in ``lift_request`` and never reaches the
audit log. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, exclusions
from core import exclusion_store as store
from core.errors import InvalidInput, LiftConflict, NotFound
from core.lift_store import SYSTEM_ACTOR
from core.models import (
    OPEN_LIFT_STATUSES,
    Exclusion,
    LiftRequest,
    LiftStatus,
    Role,
    StaffAccount,
    Subject,
)
from core.permissions import Principal, refuse_own_request, requires

REASON_MAX = 500


@dataclass(frozen=True)
class LiftView:
    """One lift request as staff see it (usernames, not ids; UTC times)."""

    id: int
    reference: str
    bst: str
    status: str
    reason: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    effective_at: datetime | None
    decision_note: str | None


def normalise_reference(raw: str) -> str:
    """``k7m3q9pa`` or ``K7M3-Q9PA`` → ``K7M3-Q9PA`` (no check; a miss is :class:`NotFound`)."""
    text = raw.strip().upper().replace("-", "").replace(" ", "")
    return f"{text[:4]}-{text[4:]}" if len(text) == 8 else raw.strip().upper()


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not 10 <= len(reason) <= REASON_MAX:
        raise InvalidInput(f"give a reason of 10 to {REASON_MAX} characters")
    return reason


def _views_query() -> Any:
    return (
        select(LiftRequest, col(Exclusion.reference), col(Subject.bst), col(StaffAccount.username))
        .join(Exclusion, col(Exclusion.id) == col(LiftRequest.exclusion_id))
        .join(Subject, col(Subject.id) == col(Exclusion.subject_id))
        .join(StaffAccount, col(StaffAccount.id) == col(LiftRequest.requested_by))
    )


async def views(
    db: AsyncSession,
    *,
    request_ids: list[int] | None = None,
    open_only: bool = False,
    bst: str | None = None,
) -> list[LiftView]:
    """Lift requests as :class:`LiftView`, newest first, at most 200; optionally only those
    with ``request_ids``, those under way, or those of the subject ``bst``.

    No permission check: callers hold one.
    """
    query = _views_query()
    if bst is not None:
        query = query.where(col(Subject.bst) == bst)
    if request_ids is not None:
        query = query.where(col(LiftRequest.id).in_(request_ids))
    if open_only:
        query = query.where(col(LiftRequest.status).in_([s.value for s in OPEN_LIFT_STATUSES]))
    rows = (await db.exec(query.order_by(col(LiftRequest.id).desc()).limit(200))).all()
    deciders = {lift.decided_by for lift, *_ in rows if lift.decided_by is not None}
    names = dict(
        (
            await db.exec(
                select(col(StaffAccount.id), col(StaffAccount.username)).where(
                    col(StaffAccount.id).in_(deciders)
                )
            )
        ).all()
    )
    return [
        LiftView(
            id=lift.id,
            reference=reference,
            bst=bst_,
            status=lift.status,
            reason=lift.reason,
            requested_by=requester,
            requested_at=lift.requested_at,
            decided_by=names.get(lift.decided_by),
            decided_at=lift.decided_at,
            effective_at=lift.effective_at,
            decision_note=lift.decision_note,
        )
        for lift, reference, bst_, requester in rows
    ]


async def _view(db: AsyncSession, request_id: int) -> LiftView:
    return (await views(db, request_ids=[request_id]))[0]


@requires(Role.VIEWER, "lift.list")
async def listing(
    db: AsyncSession, /, *, principal: Principal, open_only: bool, now: datetime | None = None
) -> list[LiftView]:
    """Lift requests, newest first (the 200 latest); ``open_only`` keeps those under way."""
    return await views(db, open_only=open_only)


@requires(Role.OFFICER, "lift.request")
async def request(
    db: AsyncSession, /, *, principal: Principal, reference: str, reason: str, now: datetime
) -> LiftView:
    """Request that the exclusion ``reference`` be lifted, with ``reason`` (10–500 characters).

    Audited ``lift.requested``. The caller commits.

    Raises:
        PermissionDenied: ``principal`` is below officer (audited, rolled back).
        InvalidInput: the reason is too short or too long.
        NotFound: no exclusion has that reference.
        LiftConflict: the exclusion is not in force, or already has an open request.
    """
    text = _reason(reason)
    found = await store.located(db, reference=normalise_reference(reference), lock=True)
    if found is None:
        raise NotFound("no exclusion has that reference")
    exclusion, bst = found
    if not exclusions.is_in_force(exclusion, now=now):
        raise LiftConflict("only an exclusion in force can be lifted", kind="not_in_force")
    open_already = (
        await db.exec(
            select(LiftRequest.id).where(
                col(LiftRequest.exclusion_id) == exclusion.id,
                col(LiftRequest.status).in_([s.value for s in OPEN_LIFT_STATUSES]),
            )
        )
    ).first()
    if open_already is not None:
        raise LiftConflict("this exclusion already has a lift request under way", kind="open")
    lift = LiftRequest(
        exclusion_id=exclusion.id,
        reason=text,
        requested_by=principal.staff_id,
        requested_at=now,
    )
    db.add(lift)
    await db.flush()
    assert lift.id is not None
    await audit.append(
        db,
        actor=principal.actor,
        action="lift.requested",
        entity=f"lift_request:{lift.id}",
        subject=bst,
        after={"reference": exclusion.reference, "status": LiftStatus.REQUESTED.value},
        occurred_at=now,
    )
    return await _view(db, lift.id)


async def _decidable(
    db: AsyncSession, principal: Principal, request_id: int, action: str, now: datetime
) -> tuple[LiftRequest, str]:
    lift = (
        await db.exec(
            select(LiftRequest).where(col(LiftRequest.id) == request_id).with_for_update()
        )
    ).first()
    if lift is None:
        raise NotFound("no such lift request")
    found = await store.located(db, exclusion_id=lift.exclusion_id)
    assert found is not None
    bst = found[1]
    await refuse_own_request(
        db,
        principal,
        requested_by=lift.requested_by,
        action=action,
        entity=f"lift_request:{request_id}",
        subject=bst,
        what="a lift",
        now=now,
    )
    if lift.status != LiftStatus.REQUESTED:
        raise LiftConflict(f"this request is {lift.status} already", kind="decided")
    return lift, bst


async def _decide(
    db: AsyncSession,
    lift: LiftRequest,
    status: LiftStatus,
    principal: Principal,
    *,
    bst: str,
    now: datetime,
    **after: str,
) -> LiftView:
    """Record ``principal``'s decision on a requested lift and audit it (``lift.<status>``)."""
    assert lift.id is not None
    lift.status = status.value
    lift.decided_by = principal.staff_id
    lift.decided_at = now
    await db.flush()
    await audit.append(
        db,
        actor=principal.actor,
        action=f"lift.{status.value}",
        entity=f"lift_request:{lift.id}",
        subject=bst,
        before={"status": LiftStatus.REQUESTED.value},
        after={"status": status.value, **after},
        occurred_at=now,
    )
    return await _view(db, lift.id)


@requires(Role.SUPERVISOR, "lift.approve")
async def approve(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    request_id: int,
    cooling_off: timedelta,
    now: datetime,
) -> LiftView:
    """Approve a requested lift; it takes effect ``cooling_off`` after ``now``.

    Audited ``lift.approved``. The caller commits.

    Raises:
        PermissionDenied: ``principal`` is below supervisor (audited, rolled back).
        MakerCheckerViolation: ``principal`` made the request (audited, rolled back).
        NotFound: no such request.
        LiftConflict: the request was decided, withdrawn or completed already.
    """
    lift, bst = await _decidable(db, principal, request_id, "lift.approve", now)
    lift.effective_at = now + cooling_off
    after = {"effective_at": lift.effective_at.isoformat()}
    return await _decide(db, lift, LiftStatus.APPROVED, principal, bst=bst, now=now, **after)


@requires(Role.SUPERVISOR, "lift.reject")
async def reject(
    db: AsyncSession, /, *, principal: Principal, request_id: int, note: str, now: datetime
) -> LiftView:
    """Reject a requested lift with a ``note`` (10–500 characters). Audited ``lift.rejected``.

    Raises:
        PermissionDenied, MakerCheckerViolation, NotFound, LiftConflict: as :func:`approve`.
        InvalidInput: the note is too short or too long.
    """
    text = _reason(note)
    lift, bst = await _decidable(db, principal, request_id, "lift.reject", now)
    lift.decision_note = text
    lift.closed_at = now
    return await _decide(db, lift, LiftStatus.REJECTED, principal, bst=bst, now=now)


async def apply_due(db: AsyncSession, *, now: datetime, limit: int = 100) -> int:
    """Lift every exclusion whose approved request's cooling-off ended by ``now`` (the cron).

    Requests are claimed ``FOR UPDATE SKIP LOCKED``, so several workers may run
    it. An exclusion still active is lifted (``exclusion.lifted`` through
    :func:`core.exclusions.lift`) and its request becomes ``lifted``
    (``lift.completed``); one that ended meanwhile leaves the request
    ``lapsed`` (``lift.lapsed``). Actor ``system:lift``. Returns how many
    requests were closed; the caller commits.
    """
    due = (
        await db.exec(
            select(LiftRequest)
            .where(
                col(LiftRequest.status) == LiftStatus.APPROVED.value,
                col(LiftRequest.effective_at) <= now,
            )
            .order_by(col(LiftRequest.effective_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for lift in due:
        found = await store.located(db, exclusion_id=lift.exclusion_id, lock=True)
        assert found is not None
        exclusion, bst = found
        if exclusions.is_in_force(exclusion, now=now):
            await exclusions.lift(db, exclusion=exclusion, bst=bst, actor=SYSTEM_ACTOR, now=now)
            lift.status, action = LiftStatus.LIFTED.value, "lift.completed"
        else:
            lift.status, action = LiftStatus.LAPSED.value, "lift.lapsed"
        lift.closed_at = now
        await audit.append(
            db,
            actor=SYSTEM_ACTOR,
            action=action,
            entity=f"lift_request:{lift.id}",
            subject=bst,
            before={"status": LiftStatus.APPROVED.value},
            after={"status": lift.status},
            occurred_at=now,
        )
    await db.flush()
    return len(due)
