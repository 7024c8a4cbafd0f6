"""A person's many identifiers: IDs at self-exclusion, a second SIM joining by reference, conflicts.

Rules (``docs/identity.md``):

* An identifier a citizen types is ``claimed``; one an officer saw is ``verified``.
  Each is a link row (:class:`~core.models.SubjectIdentifier`), sealed and
  blind-indexed in its family's namespace (:mod:`core.subjects`).
* An MSISDN is linked to at most one subject. An ID may be linked to several:
  a second subject claiming an ID already linked elsewhere keeps its link, and
  an :class:`~core.models.IdentifierConflict` row is queued for staff (audited
  ``identifier.conflict``); nobody is told about the other, and nobody's
  exclusion is weakened (look-ups answer excluded for anyone in force).
* A new link on an exclusion in force records ``exclusion.identifier_added``
  (:func:`core.exclusions.identifier_changed`): audited, pushed to operators
  subscribed through the new identifier, and an SMS to the contact number.
* A second line joins an exclusion by its reference (:func:`join_by_reference`).
  Wrong references from one number are limited to :data:`WRONG_REFERENCE_LIMIT`
  per :data:`WRONG_REFERENCE_WINDOW`. References are 7 random characters of a
  30-character alphabet plus a check character (:mod:`core.codes`): 30**7 ≈
  2.2e10 bodies. With a million exclusions in force, one guess hits with
  probability ≈ 4.6e-5; at 5 guesses a day a number needs ≈ 12 years on
  average, and a hit only excludes the guesser's own number (``docs/identity.md``).

The caller owns the transaction and commits with :func:`core.queue.commit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, codes, exclusions, links, subjects
from core import exclusion_store as store
from core.crypto import KeyRing
from core.errors import InvalidInput, LinkRefused, NotFound
from core.exclusion_store import EXCLUSION, LINK, SUBJECT, ExclusionRow, SubjectRow
from core.identity import normalise_msisdn
from core.models import (
    Channel,
    ExclusionStatus,
    IdentifierFamily,
    IdentifierKind,
    IdentifierStatus,
    LinkFailure,
    Role,
)
from core.periods import Period
from core.permissions import Principal, requires
from core.subjects import Identifier

CONFLICT = links.CONFLICT
FAILURE = LinkFailure.__table__  # type: ignore[attr-defined]

#: Wrong references accepted from one number per window before it is refused.
WRONG_REFERENCE_LIMIT = 5
WRONG_REFERENCE_WINDOW = timedelta(hours=24)

_ACTIVE = select(*store.EXCLUSION_COLUMNS).where(
    EXCLUSION.c.subject_id == bindparam("sid"),
    EXCLUSION.c.status == ExclusionStatus.ACTIVE.value,
)


async def in_force(session: AsyncSession, *, subject_id: int, now: datetime) -> ExclusionRow | None:
    """The subject's exclusion in force at ``now``, if any."""
    row = (await (await session.connection()).execute(_ACTIVE, {"sid": subject_id})).first()
    if row is None:
        return None
    exclusion = ExclusionRow.of(row._mapping)
    return exclusion if exclusions.is_in_force(exclusion, now=now) else None


async def link(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    subject: SubjectRow,
    identifier: Identifier,
    channel: Channel | None,
    actor: str,
    now: datetime,
    status: IdentifierStatus = IdentifierStatus.CLAIMED,
) -> bool:
    """Link ``identifier`` to ``subject`` (locked by the caller) and announce it; ``True`` if new.

    See :func:`core.links.add` (audit, conflicts). A new link on an exclusion in
    force records ``exclusion.identifier_added``: pushed to the operators
    subscribed through ``identifier``, and an SMS to the contact number.
    """
    added = await links.add(
        session,
        keyring=keyring,
        subject=subject,
        identifier=identifier,
        channel=channel,
        actor=actor,
        now=now,
        status=status,
    )
    if added:
        current = await in_force(session, subject_id=subject.id, now=now)
        if current is not None:
            await exclusions.identifier_changed(
                session,
                exclusion=current,
                bst=subject.bst,
                bidx=identifier.bidx,
                added=True,
                detail={"kind": identifier.kind.value, "status": status.value},
                actor=actor,
                now=now,
            )
    return added


@requires(Role.OFFICER, "identifier.verify")
async def record_verified(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    keyring: KeyRing,
    bst: str,
    kind: IdentifierKind,
    value: str,
    now: datetime,
) -> bool:
    """An officer saw the document: link it to the person ``bst`` as *verified*.

    A link the citizen had claimed becomes verified; a new one is announced like
    any other (:func:`link`; a second person holding the ID is a conflict). For
    the back-office's walk-in screen (a later task); the caller commits.
    Returns ``True`` when the link is new.

    Raises:
        PermissionDenied: below officer (audited).
        InvalidMsisdn, InvalidNationalId: ``value`` breaks the rules of ``kind``.
        NotFound: no person has that BST.
    """
    ident = subjects.identifier(keyring, kind, value)
    conn = await db.connection()
    subject_id = (await conn.execute(select(SUBJECT.c.id).where(SUBJECT.c.bst == bst))).scalar()
    if subject_id is None:
        raise NotFound("no one in the register has that BST")
    if ident.family is IdentifierFamily.MSISDN:
        await store.lock_number(db, bidx=ident.bidx)
        holder = (await conn.execute(select(store.holder_of(ident.bidx)))).scalar()
        if holder is not None and holder != subject_id:
            raise LinkRefused("other_person")  # a number moves only by joining or detaching
    subject = await store.lock_subject_by_id(db, subject_id=subject_id)
    return await link(
        db,
        keyring=keyring,
        subject=subject,
        identifier=ident,
        channel=Channel.BACKOFFICE,
        actor=principal.actor,
        now=now,
        status=IdentifierStatus.VERIFIED,
    )


@dataclass(frozen=True)
class Joined:
    """A number joined an exclusion: its reference and (UTC) end; ``already`` if it had."""

    reference: str
    ends_at: datetime | None
    already: bool


def normalise_reference(raw: str) -> str | None:
    """``k7m3q9pa`` / ``K7M3-Q9PA`` → ``K7M3-Q9PA``; ``None`` when the check character fails."""
    text = "".join(raw.split()).replace("-", "").upper()
    if len(text) != 8 or not codes.is_valid(text):
        return None
    return f"{text[:4]}-{text[4:]}"


async def _wrong(
    session: AsyncSession, *, bidx: str, attempt: str | None, now: datetime
) -> LinkRefused:
    statement = pg_insert(FAILURE).values(bidx=bidx, at=now, attempt=attempt)
    await (await session.connection()).execute(statement.on_conflict_do_nothing())
    return LinkRefused("unknown")


async def join_by_reference(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    msisdn: str,
    reference: str,
    channel: Channel,
    actor: str,
    now: datetime,
    attempt: str | None = None,
) -> Joined:
    """Link ``msisdn`` to the exclusion in force with ``reference`` (same end).

    Linking is serialised (one transaction-scoped advisory lock), so two lines
    linking to each other at once cannot deadlock or make two people. When the
    number already belongs to another subject, that subject's identifiers all
    move to the exclusion's subject (one person), and if its own exclusion ended
    later the joined exclusion is lengthened to that end (the longer end wins).
    Each new link is announced (``exclusion.identifier_added``). A wrong
    reference is recorded (``link_failure``); the caller commits it. ``attempt``
    names the channel request (e.g. ``ussd:<sessionId>:<step>``): a repeated
    request's wrong reference counts once.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
        LinkRefused: ``"limited"`` (too many wrong references lately; nothing
            recorded), ``"malformed"`` (the check character is wrong: a typo, not
            counted) or ``"unknown"`` (no exclusion in force has it, expired ones
            included: commit to count it).
    """
    e164 = normalise_msisdn(msisdn)
    bidx = keyring.blind_index(e164, field=subjects.MSISDN_FIELD)
    conn = await session.connection()
    await conn.execute(select(func.pg_advisory_xact_lock(_LINKING)))
    await store.lock_number(session, bidx=bidx)
    since = now - WRONG_REFERENCE_WINDOW
    failures = (
        await conn.execute(select(func.count()).where(FAILURE.c.bidx == bidx, FAILURE.c.at > since))
    ).scalar_one()
    if failures >= WRONG_REFERENCE_LIMIT:
        raise LinkRefused("limited")
    normal = normalise_reference(reference)
    if normal is None:
        raise LinkRefused("malformed")  # a typo the check character caught: reveals nothing
    found = await store.located(session, reference=normal, lock=True)
    if found is None or not exclusions.is_in_force(found[0], now=now):
        raise await _wrong(session, bidx=bidx, attempt=attempt, now=now)
    exclusion, _bst = found
    person = await _current_person(session, subject_id=exclusion.subject_id)
    if person != exclusion.subject_id:  # that exclusion's lines joined another person since
        current = await in_force(session, subject_id=person, now=now)
        if current is None:
            raise await _wrong(session, bidx=bidx, attempt=attempt, now=now)
        exclusion = current
    target = await store.lock_subject_by_id(session, subject_id=person)
    holder = (await conn.execute(select(store.holder_of(bidx)))).scalar()
    if holder == target.id:
        return Joined(exclusion.reference, exclusion.ends_at, already=True)
    if holder is None:
        number = Identifier(IdentifierKind.MSISDN, IdentifierFamily.MSISDN, e164, bidx)
        await link(
            session,
            keyring=keyring,
            subject=target,
            identifier=number,
            channel=channel,
            actor=actor,
            now=now,
        )
        return Joined(exclusion.reference, exclusion.ends_at, already=False)
    exclusion = await _merge(
        session, source_id=holder, target=target, exclusion=exclusion, actor=actor, now=now
    )
    return Joined(exclusion.reference, exclusion.ends_at, already=False)


_MERGED_INTO = select(SUBJECT.c.merged_into_id).where(SUBJECT.c.id == bindparam("sid"))


async def _current_person(session: AsyncSession, *, subject_id: int) -> int:
    """The subject ``subject_id``'s identifiers now belong to (following merges)."""
    conn = await session.connection()
    for _hop in range(32):
        merged = (await conn.execute(_MERGED_INTO, {"sid": subject_id})).scalar()
        if merged is None:
            return subject_id
        subject_id = merged
    return subject_id


#: Key of the advisory lock every join takes (any constant; "NSERlink" in ASCII).
_LINKING = 0x4E5345526C696E6B


async def _merge(
    session: AsyncSession,
    *,
    source_id: int,
    target: SubjectRow,
    exclusion: ExclusionRow,
    actor: str,
    now: datetime,
) -> ExclusionRow:
    """Move every link of subject ``source_id`` to ``target``; keep the longer end."""
    conn = await session.connection()
    source = await store.lock_subject_by_id(session, subject_id=source_id)
    theirs = await in_force(session, subject_id=source_id, now=now)
    if theirs is not None and exclusions.later(theirs.ends_at, exclusion.ends_at):
        exclusion = await exclusions.lengthen_to(
            session,
            exclusion=exclusion,
            bst=target.bst,
            period=Period(theirs.period),
            ends_at=theirs.ends_at,
            actor=actor,
            now=now,
        )
    # Links the target holds already (the same ID) are dropped, the rest move.
    mine = select(LINK.c.family, LINK.c.bidx).where(LINK.c.subject_id == target.id).subquery()
    await conn.execute(
        delete(LINK).where(
            LINK.c.subject_id == source_id,
            select(mine.c.bidx)
            .where(mine.c.family == LINK.c.family, mine.c.bidx == LINK.c.bidx)
            .exists(),
        )
    )
    moved = (
        await conn.execute(
            update(LINK)
            .where(LINK.c.subject_id == source_id)
            .values(subject_id=target.id)
            .returning(LINK.c.bidx, LINK.c.kind)
        )
    ).all()
    await conn.execute(
        update(SUBJECT)
        .where(SUBJECT.c.id == source_id)
        .values(msisdn_sealed=None, msisdn_bidx=None, merged_into_id=target.id, updated_at=now)
    )
    await audit.append(
        session,
        actor=actor,
        action="subject.merged",
        entity=f"subject:{target.id}",
        subject=target.bst,
        before={"from": source.bst},
        after={"into": target.bst, "links": len(moved)},
        occurred_at=now,
    )
    for row in moved:
        await exclusions.identifier_changed(
            session,
            exclusion=exclusion,
            bst=target.bst,
            bidx=row.bidx,
            added=True,
            detail={"kind": row.kind, "merged_from": source.bst},
            actor=actor,
            now=now,
        )
    return exclusion


@dataclass(frozen=True)
class ConflictView:
    """An ID linked to two subjects, for staff: the two BSTs, the family, when; no ID value."""

    id: int
    family: str
    bst: str
    other_bst: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None


async def conflicts(session: AsyncSession, *, open_only: bool = True) -> list[ConflictView]:
    """Conflicts, oldest first (at most 200); ``open_only`` keeps those not yet resolved."""
    mine, theirs = SUBJECT.alias("mine"), SUBJECT.alias("theirs")
    query: Any = (
        select(
            CONFLICT.c.id,
            CONFLICT.c.family,
            mine.c.bst,
            theirs.c.bst.label("other_bst"),
            CONFLICT.c.created_at,
            CONFLICT.c.resolved_at,
            CONFLICT.c.resolution,
        )
        .join_from(CONFLICT, mine, mine.c.id == CONFLICT.c.subject_id)
        .join(theirs, theirs.c.id == CONFLICT.c.other_subject_id)
        .order_by(CONFLICT.c.id)
        .limit(200)
    )
    if open_only:
        query = query.where(CONFLICT.c.resolved_at.is_(None))
    rows = (await (await session.connection()).execute(query)).all()
    return [ConflictView(**row._mapping) for row in rows]


@requires(Role.OFFICER, "identifier.conflict_list")
async def conflict_queue(
    db: AsyncSession, /, *, principal: Principal, open_only: bool, now: datetime | None = None
) -> list[ConflictView]:
    """:func:`conflicts` for staff (the back-office's identity queue): officer and above.

    Raises:
        PermissionDenied: below officer (audited).
    """
    return await conflicts(db, open_only=open_only)


#: A resolution note's length, in characters (what staff found, kept in the row).
NOTE_MIN, NOTE_MAX = 10, 500


@requires(Role.SUPERVISOR, "identifier.resolve_conflict")
async def resolve_conflict(
    db: AsyncSession, /, *, principal: Principal, conflict_id: int, note: str, now: datetime
) -> ConflictView:
    """Mark a conflict resolved with ``note`` (what staff found; links change only by detach).

    Officers see the queue (:func:`conflict_queue`); a supervisor decides. Resolving
    changes no link and no exclusion: both people stay excluded until a detach.
    Audited ``identifier.conflict_resolved`` (the note stays in the row). The caller commits.

    Raises:
        PermissionDenied: below supervisor (audited).
        InvalidInput: a note outside :data:`NOTE_MIN`-:data:`NOTE_MAX` characters.
        NotFound: no open conflict has that id.
    """
    note = " ".join(note.split())
    if not NOTE_MIN <= len(note) <= NOTE_MAX:
        raise InvalidInput(f"give a note of {NOTE_MIN} to {NOTE_MAX} characters")
    conn = await db.connection()
    done = (
        await conn.execute(
            update(CONFLICT)
            .where(CONFLICT.c.id == conflict_id, CONFLICT.c.resolved_at.is_(None))
            .values(resolved_at=now, resolved_by=principal.actor[:64], resolution=note[:500])
            .returning(CONFLICT.c.id)
        )
    ).first()
    if done is None:
        raise NotFound("no open conflict has that id")
    await audit.append(
        db,
        actor=principal.actor,
        action="identifier.conflict_resolved",
        entity=f"identifier_conflict:{conflict_id}",
        after={"resolved": True},
        occurred_at=now,
    )
    views = await conflicts(db, open_only=False)
    return next(view for view in views if view.id == conflict_id)
