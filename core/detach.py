"""Detaching a number or an ID from a person, by maker-checker (recycled and mistaken numbers).

A number recycled by its network, or an ID someone else claimed, must not keep
a stranger excluded without recourse; but a detach weakens protection, so it
follows the lift's rule (:mod:`core.lifts`): an officer requests it with a
reason (:func:`request`), a *different* supervisor approves or rejects it
(:func:`approve`, :func:`reject`). Approval takes effect at once (no
cooling-off: the identifier is not the person's; the exclusion itself stays).
Only that one link goes: the person's exclusion, other numbers and IDs stay.
An exclusion in force records ``exclusion.identifier_removed``, pushed to the
operators subscribed through that identifier only. A detached contact number
is replaced by another linked number, if any. Every step is audited; the
reason stays in ``detach_request``. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlmodel import col
from sqlmodel import select as sm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, exclusions, identifiers, subjects
from core import exclusion_store as store
from core.crypto import KeyRing
from core.errors import DetachConflict, InvalidInput, NotFound
from core.exclusion_store import LINK, SUBJECT
from core.models import (
    DetachRequest,
    DetachStatus,
    IdentifierFamily,
    IdentifierKind,
    Role,
    StaffAccount,
    Subject,
)
from core.permissions import Principal, refuse_own_request, requires

REASON_MAX = 500


@dataclass(frozen=True)
class DetachView:
    """One detach request as staff see it: the person's BST, which kind of identifier, status.

    ``requested_by`` and ``decided_by`` are staff usernames (filled by :func:`listing`;
    empty when not known or not decided yet). Never the identifier's value.
    """

    id: int
    bst: str
    kind: str
    status: str
    reason: str
    requested_by: str = ""
    decided_by: str = ""


async def _bst(db: AsyncSession, subject_id: int) -> str:
    bst = (await db.exec(sm_select(Subject.bst).where(col(Subject.id) == subject_id))).first()
    assert bst is not None
    return bst


@requires(Role.OFFICER, "identifier.detach_list")
async def listing(
    db: AsyncSession, /, *, principal: Principal, open_only: bool, now: datetime | None = None
) -> list[DetachView]:
    """Detach requests, newest first (the 200 latest); ``open_only`` keeps those undecided.

    The kind of identifier is the one recorded with the request (for requests
    made before it was recorded, the link's; ``unknown`` once the link is gone).

    Raises:
        PermissionDenied: below officer (audited).
    """
    staff = StaffAccount.__table__  # type: ignore[attr-defined]
    requester, decider = staff.alias("requester"), staff.alias("decider")
    made = DetachRequest.__table__  # type: ignore[attr-defined]
    query = (
        select(
            made.c.id,
            SUBJECT.c.bst,
            func.coalesce(made.c.kind, LINK.c.kind).label("kind"),
            made.c.status,
            made.c.reason,
            requester.c.username.label("requested_by"),
            decider.c.username.label("decided_by"),
        )
        .join_from(made, SUBJECT, SUBJECT.c.id == made.c.subject_id)
        .join(requester, requester.c.id == made.c.requested_by)
        .outerjoin(decider, decider.c.id == made.c.decided_by)
        .outerjoin(LINK, LINK.c.id == made.c.identifier_id)
        .order_by(made.c.id.desc())
        .limit(200)
    )
    if open_only:
        query = query.where(made.c.status == DetachStatus.REQUESTED.value)
    rows = (await (await db.connection()).execute(query)).all()
    return [
        DetachView(
            id=row.id,
            bst=row.bst,
            kind=row.kind or "unknown",
            status=row.status,
            reason=row.reason,
            requested_by=row.requested_by,
            decided_by=row.decided_by or "",
        )
        for row in rows
    ]


@requires(Role.OFFICER, "identifier.detach_request")
async def request(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    keyring: KeyRing,
    bst: str,
    kind: IdentifierKind,
    value: str,
    reason: str,
    now: datetime,
) -> DetachView:
    """Ask that identifier ``value`` (of ``kind``) be detached from the person ``bst``.

    Audited ``identifier.detach_requested`` (kind only). The caller commits.

    Raises:
        PermissionDenied: below officer (audited).
        InvalidInput: a reason outside 10-500 characters, or a malformed ``value``.
        NotFound: that person holds no such identifier.
        DetachConflict: a request for that link is already under way.
    """
    text = " ".join(reason.split())
    if not 10 <= len(text) <= REASON_MAX:
        raise InvalidInput(f"give a reason of 10 to {REASON_MAX} characters")
    ident = subjects.identifier(keyring, kind, value)
    row = (
        await (await db.connection()).execute(
            select(LINK.c.id, LINK.c.subject_id, LINK.c.kind)
            .join_from(LINK, SUBJECT, SUBJECT.c.id == LINK.c.subject_id)
            .where(
                SUBJECT.c.bst == bst,
                LINK.c.family == ident.family.value,
                LINK.c.bidx == ident.bidx,
            )
        )
    ).first()
    if row is None:
        raise NotFound("that person holds no such identifier")
    pending = (
        await db.exec(
            sm_select(DetachRequest.id).where(
                col(DetachRequest.identifier_id) == row.id,
                col(DetachRequest.status) == DetachStatus.REQUESTED.value,
            )
        )
    ).first()
    if pending is not None:
        raise DetachConflict("a detach of this identifier is already under way")
    made = DetachRequest(
        identifier_id=row.id,
        subject_id=row.subject_id,
        kind=row.kind,
        reason=text,
        requested_by=principal.staff_id,
        requested_at=now,
    )
    db.add(made)
    await db.flush()
    assert made.id is not None
    await audit.append(
        db,
        actor=principal.actor,
        action="identifier.detach_requested",
        entity=f"detach_request:{made.id}",
        subject=bst,
        after={"kind": row.kind, "status": DetachStatus.REQUESTED.value},
        occurred_at=now,
    )
    return DetachView(made.id, bst, row.kind, made.status, made.reason)


async def _decidable(
    db: AsyncSession, principal: Principal, request_id: int, action: str, now: datetime
) -> tuple[DetachRequest, str]:
    made = (
        await db.exec(
            sm_select(DetachRequest).where(col(DetachRequest.id) == request_id).with_for_update()
        )
    ).first()
    if made is None:
        raise NotFound("no such detach request")
    bst = await _bst(db, made.subject_id)
    await refuse_own_request(
        db,
        principal,
        requested_by=made.requested_by,
        action=action,
        entity=f"detach_request:{request_id}",
        subject=bst,
        what="a detach",
        now=now,
    )
    if made.status != DetachStatus.REQUESTED:
        raise DetachConflict(f"this request is {made.status} already")
    return made, bst


async def _decide(
    db: AsyncSession,
    made: DetachRequest,
    status: DetachStatus,
    principal: Principal,
    *,
    bst: str,
    kind: str,
    now: datetime,
) -> DetachView:
    assert made.id is not None
    made.status = status.value
    made.decided_by = principal.staff_id
    made.decided_at = now
    await db.flush()
    await audit.append(
        db,
        actor=principal.actor,
        action=f"identifier.detach_{status.value}",
        entity=f"detach_request:{made.id}",
        subject=bst,
        before={"status": DetachStatus.REQUESTED.value},
        after={"status": status.value, "kind": kind},
        occurred_at=now,
    )
    return DetachView(made.id, bst, kind, made.status, made.reason)


@requires(Role.SUPERVISOR, "identifier.detach_approve")
async def approve(
    db: AsyncSession, /, *, principal: Principal, request_id: int, now: datetime
) -> DetachView:
    """Approve a detach requested by someone else: that one link goes, at once.

    Raises:
        PermissionDenied: below supervisor (audited).
        MakerCheckerViolation: ``principal`` requested it (audited).
        NotFound: no such request.
        DetachConflict: decided already, or the link is gone.
    """
    made, bst = await _decidable(db, principal, request_id, "identifier.detach_approve", now)
    conn = await db.connection()
    link = (
        await conn.execute(
            select(LINK.c.family, LINK.c.bidx, LINK.c.kind).where(LINK.c.id == made.identifier_id)
        )
    ).first()
    if link is None:
        raise DetachConflict("that identifier is no longer linked")
    if link.family == IdentifierFamily.MSISDN.value:
        await store.lock_number(db, bidx=link.bidx)
    subject = await store.lock_subject_by_id(db, subject_id=made.subject_id)
    await conn.execute(delete(LINK).where(LINK.c.id == made.identifier_id))
    await _replace_contact(db, subject_id=subject.id, bidx=link.bidx, now=now)
    view = await _decide(
        db, made, DetachStatus.DETACHED, principal, bst=bst, kind=link.kind, now=now
    )
    current = await identifiers.in_force(db, subject_id=subject.id, now=now)
    if current is not None:
        await exclusions.identifier_changed(
            db,
            exclusion=current,
            bst=bst,
            bidx=link.bidx,
            added=False,
            detail={"kind": link.kind, "detach_request": made.id},
            actor=principal.actor,
            now=now,
        )
    return view


async def _replace_contact(db: AsyncSession, *, subject_id: int, bidx: str, now: datetime) -> None:
    """If ``bidx`` was the contact number, the oldest other linked number takes over (or none)."""
    conn = await db.connection()
    other = (
        select(LINK.c.sealed, LINK.c.bidx)
        .where(LINK.c.subject_id == subject_id, LINK.c.family == IdentifierFamily.MSISDN.value)
        .order_by(LINK.c.id)
        .limit(1)
    )
    next_one = (await conn.execute(other)).first()
    await conn.execute(
        update(SUBJECT)
        .where(SUBJECT.c.id == subject_id, SUBJECT.c.msisdn_bidx == bidx)
        .values(
            msisdn_sealed=next_one.sealed if next_one else None,
            msisdn_bidx=next_one.bidx if next_one else None,
            updated_at=now,
        )
    )


@requires(Role.SUPERVISOR, "identifier.detach_reject")
async def reject(
    db: AsyncSession, /, *, principal: Principal, request_id: int, now: datetime
) -> DetachView:
    """Reject a detach requested by someone else; nothing else changes.

    Raises:
        PermissionDenied: below supervisor (audited).
        MakerCheckerViolation: ``principal`` requested it (audited).
        NotFound: no such request.
        DetachConflict: decided already.
    """
    made, bst = await _decidable(db, principal, request_id, "identifier.detach_reject", now)
    kind = (
        made.kind
        or (
            await (await db.connection()).execute(
                select(LINK.c.kind).where(LINK.c.id == made.identifier_id)
            )
        ).scalar()
        or "unknown"
    )
    return await _decide(db, made, DetachStatus.REJECTED, principal, bst=bst, kind=kind, now=now)
