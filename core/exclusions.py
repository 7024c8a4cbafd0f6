"""The exclusion service: create, extend, status, expiry and lifting.

Rules (``docs/decisions.md``): an exclusion is irrevocable by the citizen before
``ends_at``; the citizen may only lengthen it. Creation and extension are
idempotent on the channel request (``request_key``, e.g. ``ussd:<sessionId>``):
a repeated request returns the first outcome and writes nothing. Every change
writes an audit entry, an :class:`~core.models.ExclusionEvent` and the operators'
webhook deliveries in the caller's transaction; the caller commits with
:func:`core.queue.commit`, which then queues the deliveries' jobs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, lift_store, links, notices, outbox, periods, subjects
from core import exclusion_store as store
from core.crypto import KeyRing
from core.enrolment import enrol
from core.errors import AlreadyExcluded, ExclusionConflict, NotFound, RequestKeyConflict
from core.exclusion_store import EventRow, ExclusionRow, SubjectRow
from core.models import Channel, EventType, ExclusionStatus
from core.periods import Period
from core.subjects import Identifier


@dataclass(frozen=True)
class Outcome:
    """What one create/extend request did (or did the first time, when ``replayed``).

    ``ends_at`` and ``period`` are those set by *this* request's event, so a
    replay answers exactly as the first response did even if the exclusion was
    extended since.
    """

    subject: SubjectRow
    exclusion: ExclusionRow
    event: EventRow
    replayed: bool

    @property
    def ends_at(self) -> datetime | None:
        """UTC end set by this request; ``None`` = permanent."""
        return self.event.ends_at

    @property
    def extended(self) -> bool:
        """True when this request lengthened an existing exclusion."""
        return self.event.type == EventType.EXTENDED


@dataclass(frozen=True)
class Status:
    """A subject's current standing: ``exclusion`` is the one in force, if any."""

    subject: SubjectRow | None
    exclusion: ExclusionRow | None

    @property
    def excluded(self) -> bool:
        """True when an exclusion is in force now."""
        return self.exclusion is not None


def is_in_force(exclusion: ExclusionRow, *, now: datetime) -> bool:
    """Active and not past its end (one past ``ends_at`` awaiting the expiry job is not)."""
    return exclusion.status == ExclusionStatus.ACTIVE and (
        exclusion.ends_at is None or exclusion.ends_at > now
    )


def _snapshot(exclusion: ExclusionRow) -> dict[str, Any]:
    return {
        "reference": exclusion.reference,
        "period": exclusion.period,
        "status": exclusion.status,
        "channel": exclusion.channel,
        "starts_at": exclusion.starts_at.isoformat(),
        "ends_at": exclusion.ends_at.isoformat() if exclusion.ends_at else None,
    }


def later(new_end: datetime | None, old_end: datetime | None) -> bool:
    """True when ``new_end`` is strictly later than ``old_end`` (``None`` = never ends)."""
    if old_end is None:
        return False
    return new_end is None or new_end > old_end


async def replay(session: AsyncSession, *, request_key: str) -> Outcome | None:
    """The outcome recorded for ``request_key``, or ``None`` if it never succeeded."""
    found = await store.by_request_key(session, request_key=request_key)
    if found is None:
        return None
    subject, exclusion, event = found
    return Outcome(subject=subject, exclusion=exclusion, event=event, replayed=True)


async def status(session: AsyncSession, *, keyring: KeyRing, msisdn: str, now: datetime) -> Status:
    """The standing of the holder of ``msisdn`` at ``now`` (read-only, one query).

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
    """
    bidx = subjects.msisdn_index(keyring, msisdn)
    subject, active = await store.active_by_msisdn_index(session, bidx=bidx)
    if active is not None and not is_in_force(active, now=now):
        active = None
    return Status(subject=subject, exclusion=active)


async def lock_holder(session: AsyncSession, *, keyring: KeyRing, msisdn: str) -> SubjectRow:
    """Lock the subject ``msisdn`` is linked to (it must exist), until the transaction ends.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
        NotFound: no subject holds the number.
    """
    bidx = subjects.msisdn_index(keyring, msisdn)
    await store.lock_number(session, bidx=bidx)
    subject, _active = await store.active_by_msisdn_index(session, bidx=bidx)
    if subject is None:
        raise NotFound("no one holds that number")
    return await store.lock_subject_by_id(session, subject_id=subject.id)


class Verdict(enum.StrEnum):
    """What confirming a period would do."""

    CREATE = "create"  # no exclusion in force: a new one
    EXTEND = "extend"  # one in force ends earlier: it is lengthened
    ALREADY = "already"  # one in force ends no earlier: nothing would change


@dataclass(frozen=True)
class Preview:
    """What choosing ``period`` now would do, for a confirm screen or a reply.

    ``new_end`` is the end the period would give (UTC, ``None`` = permanent);
    ``current_end`` and ``reference`` describe the exclusion in force, if any.
    """

    verdict: Verdict
    new_end: datetime | None
    current_end: datetime | None
    reference: str | None


def judge(current: ExclusionRow | None, *, period: Period, now: datetime) -> Preview:
    """The rule every channel shows before confirming: create, extend, or already excluded.

    An exclusion can only be lengthened (:func:`later`); ``current`` is the
    exclusion in force, if any.
    """
    new_end = periods.ends_at(period, starts_at=now)
    if current is None:
        return Preview(Verdict.CREATE, new_end, None, None)
    verdict = Verdict.EXTEND if later(new_end, current.ends_at) else Verdict.ALREADY
    return Preview(verdict, new_end, current.ends_at, current.reference)


async def preview(
    session: AsyncSession, *, keyring: KeyRing, msisdn: str, period: Period, now: datetime
) -> Preview:
    """What :func:`self_exclude` would do for ``msisdn`` and ``period`` at ``now`` (read-only).

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
    """
    standing = await status(session, keyring=keyring, msisdn=msisdn, now=now)
    return judge(standing.exclusion, period=period, now=now)


async def _end(
    session: AsyncSession,
    *,
    exclusion: ExclusionRow,
    status: ExclusionStatus,
    bst: str,
    actor: str,
    now: datetime,
) -> EventRow:
    """Move ``exclusion`` to ``status`` (expired or lifted) with its event, fanned out."""
    ended, event = await store.set_status(
        session,
        exclusion_id=exclusion.id,
        status=status,
        type_=EventType.EXPIRED if status is ExclusionStatus.EXPIRED else EventType.LIFTED,
        now=now,
    )
    await _record_event(
        session, exclusion=ended, event=event, bst=bst, actor=actor, before=_snapshot(exclusion)
    )
    return event


async def _expire(
    session: AsyncSession, *, exclusion: ExclusionRow, bst: str, actor: str, now: datetime
) -> EventRow:
    return await _end(
        session,
        exclusion=exclusion,
        status=ExclusionStatus.EXPIRED,
        bst=bst,
        actor=actor,
        now=now,
    )


async def self_exclude(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    msisdn: str,
    period: Period,
    channel: Channel,
    request_key: str,
    language: str,
    actor: str,
    now: datetime,
    document: Identifier | None = None,
) -> Outcome:
    """Exclude the holder of ``msisdn`` for ``period`` from ``now``, or lengthen their exclusion.

    ``document`` (an ID the citizen typed, already normalised) is linked to the
    person as *claimed* before the exclusion's event fans out, so operators who
    hold the person by that ID hear of it too (:func:`core.links.add`; a
    conflicting claim is queued for staff). When nothing would change
    (:class:`AlreadyExcluded`), nothing is stored, the ID included.

    With no exclusion in force a new one is created (``exclusion.created``);
    with one in force ending earlier than ``period`` would, it is extended to the
    new end (``exclusion.extended``). A repeated ``request_key`` returns the first
    outcome with ``replayed=True`` and changes nothing. The subject row is locked
    for the rest of the transaction, so concurrent requests for one person queue.
    For a new person the statement that creates the subject also reads whether
    ``request_key`` was used, so the standing costs no statement of its own (see
    :mod:`core.exclusion_store`); the audit entries are written at commit.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
        AlreadyExcluded: an exclusion in force ends no earlier than ``period`` would
            (the error carries its reference and end); nothing is changed.
        RequestKeyConflict: ``request_key`` was first used for another subject (a
            gateway reusing a session id); nothing is changed and nothing disclosed.
        ValueError: unknown ``channel`` or ``language``.
    """
    channel = Channel(channel)  # a plain string from a caller must still name a channel
    locked = await enrol(
        session,
        keyring=keyring,
        msisdn=msisdn,
        language=language,
        actor=actor,
        now=now,
        channel=channel,
        request_key=request_key,
    )
    subject = locked.subject
    # Under the subject lock: a twin request that won it has committed by now.
    standing = await store.standing_under_lock(session, locked=locked, request_key=request_key)
    if standing.key_used:
        earlier = await replay(session, request_key=request_key)
        assert earlier is not None
        if earlier.subject.id != subject.id:
            raise RequestKeyConflict(f"request key already used ({channel})")
        return earlier
    current = standing.active
    if current is not None and not is_in_force(current, now=now):
        await _expire(session, exclusion=current, bst=subject.bst, actor="system:expiry", now=now)
        current = None
    verdict = judge(current, period=period, now=now)
    if verdict.verdict is Verdict.ALREADY:
        assert verdict.reference is not None
        raise AlreadyExcluded(reference=verdict.reference, ends_at=verdict.current_end)
    if document is not None:
        await links.add(
            session,
            keyring=keyring,
            subject=subject,
            identifier=document,
            channel=channel,
            actor=actor,
            now=now,
        )
    if current is None:
        exclusion, event = await store.insert_exclusion(
            session,
            subject_id=subject.id,
            period=period,
            ends_at=verdict.new_end,
            channel=channel,
            request_key=request_key,
            now=now,
        )
        before = None
    else:
        before = _snapshot(current)
        exclusion, event = await store.lengthen(
            session,
            exclusion_id=current.id,
            period=period,
            ends_at=verdict.new_end,
            request_key=request_key,
            now=now,
        )
    await _record_event(
        session, exclusion=exclusion, event=event, bst=subject.bst, actor=actor, before=before
    )
    return Outcome(subject=subject, exclusion=exclusion, event=event, replayed=False)


async def _record_event(
    session: AsyncSession,
    *,
    exclusion: ExclusionRow,
    event: EventRow,
    bst: str,
    actor: str,
    before: dict[str, Any] | None,
    through: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Everything that follows an exclusion event inside its own transaction.

    ``through`` (a blind index) limits the operators' deliveries to those
    subscribed through that identifier (an identifier added or removed);
    ``detail`` (no personal data) joins the audit entry's ``after``.

    The one place each event (created, extended, expired, lifted) fans out
    from: its audit entry; for an extension the withdrawal of any lift still
    under way (:func:`core.lift_store.withdraw_open`); the subscribed operators'
    outbox deliveries (:func:`core.outbox.fan_out`: one statement, and
    delivery jobs that go to ARQ only when the caller commits with
    :func:`core.queue.commit`). The citizen's confirmation SMS joins here too,
    so all of it commits or rolls back with the event itself.
    """
    await audit.append(
        session,
        actor=actor,
        action=event.type,
        entity=f"exclusion:{exclusion.id}",
        subject=bst,
        before=before,
        after={**_snapshot(exclusion), **(detail or {})},
        occurred_at=event.occurred_at,
    )
    if event.type == EventType.EXTENDED:
        await lift_store.withdraw_open(
            session, exclusion_id=exclusion.id, bst=bst, now=event.occurred_at
        )
    # The citizen's SMS: the confirmation, or the notice at expiry (core.notices).
    await notices.on_event(session, exclusion=exclusion, event=event)
    await outbox.fan_out(
        session,
        subject_id=exclusion.subject_id,
        bst=bst,
        event_id=event.id,
        event_type=event.type,
        occurred_at=event.occurred_at,
        ends_at=event.ends_at,
        through=through,
    )


async def lengthen_to(
    session: AsyncSession,
    *,
    exclusion: ExclusionRow,
    bst: str,
    period: Period,
    ends_at: datetime | None,
    actor: str,
    now: datetime,
) -> ExclusionRow:
    """Lengthen ``exclusion`` to an end taken from another (two exclusions of one person merged).

    Raises:
        ExclusionConflict: ``ends_at`` is not strictly later (nothing is ever shortened).
    """
    if not later(ends_at, exclusion.ends_at):
        raise ExclusionConflict("an exclusion can only be lengthened")
    lengthened, event = await store.lengthen(
        session,
        exclusion_id=exclusion.id,
        period=period,
        ends_at=ends_at,
        request_key=None,
        now=now,
    )
    await _record_event(
        session,
        exclusion=lengthened,
        event=event,
        bst=bst,
        actor=actor,
        before=_snapshot(exclusion),
    )
    return lengthened


async def identifier_changed(
    session: AsyncSession,
    *,
    exclusion: ExclusionRow,
    bst: str,
    bidx: str,
    added: bool,
    detail: dict[str, Any],
    actor: str,
    now: datetime,
) -> EventRow:
    """Record that identifier ``bidx`` joined (``added``) or left an exclusion in force.

    The event (``exclusion.identifier_added`` / ``exclusion.identifier_removed``)
    keeps the exclusion's period and end, and fans out like every other through
    :func:`_record_event`, to the operators subscribed through ``bidx`` only.
    ``detail`` (e.g. ``{"kind": "msisdn"}``) goes to the audit entry.
    """
    type_ = EventType.IDENTIFIER_ADDED if added else EventType.IDENTIFIER_REMOVED
    touched, event = await store.touch(session, exclusion_id=exclusion.id, type_=type_, now=now)
    await _record_event(
        session,
        exclusion=touched,
        event=event,
        bst=bst,
        actor=actor,
        before=None,
        through=bidx,
        detail=detail,
    )
    return event


async def lift(
    session: AsyncSession, *, exclusion: ExclusionRow, bst: str, actor: str, now: datetime
) -> EventRow:
    """Lift ``exclusion`` (``exclusion.lifted``): it stops being in force from ``now``.

    Only the maker-checker path calls this (:func:`core.lifts.apply_due`, once an
    approved request's cooling-off is over), holding the exclusion's row lock.
    The event fans out through :func:`_record_event` like every other.

    Raises:
        ExclusionConflict: the exclusion is not active (expired or lifted already).
    """
    if exclusion.status != ExclusionStatus.ACTIVE:
        raise ExclusionConflict("only an active exclusion can be lifted")
    return await _end(
        session,
        exclusion=exclusion,
        status=ExclusionStatus.LIFTED,
        bst=bst,
        actor=actor,
        now=now,
    )


async def extend(
    session: AsyncSession,
    *,
    exclusion: ExclusionRow,
    bst: str,
    period: Period,
    request_key: str,
    actor: str,
    now: datetime,
) -> EventRow:
    """Lengthen ``exclusion`` so it ends ``period`` after ``now`` (``exclusion.extended``).

    The start stays; ``period`` becomes the one asked for. Callers should hold
    the subject lock (as :func:`self_exclude` does); ``bst`` is the subject's.

    Raises:
        ExclusionConflict: the exclusion is not in force, or the new end would not
            be strictly later than the current one (nothing is ever shortened).
    """
    if not is_in_force(exclusion, now=now):
        raise ExclusionConflict("only an exclusion in force can be extended")
    new_end = periods.ends_at(period, starts_at=now)
    if not later(new_end, exclusion.ends_at):
        raise ExclusionConflict("an exclusion can only be lengthened")
    extended, event = await store.lengthen(
        session,
        exclusion_id=exclusion.id,
        period=period,
        ends_at=new_end,
        request_key=request_key,
        now=now,
    )
    await _record_event(
        session, exclusion=extended, event=event, bst=bst, actor=actor, before=_snapshot(exclusion)
    )
    return event


async def expire_due(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    """Move up to ``limit`` active exclusions whose ``ends_at`` ≤ ``now`` to expired.

    Rows are claimed ``FOR UPDATE SKIP LOCKED``, so several workers may run it at
    once. Each expiry is audited (``exclusion.expired``, actor ``system:expiry``).
    Returns how many were expired; the caller commits.
    """
    due = await store.claim_due(session, now=now, limit=limit)
    for exclusion, bst in due:
        await _expire(session, exclusion=exclusion, bst=bst, actor="system:expiry", now=now)
    return len(due)
