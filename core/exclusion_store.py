"""The statements behind :mod:`core.exclusions`, shaped for few database round trips.

A self-exclusion is on the citizen's hot path (a USSD answer within seconds,
under load), so each step here is one SQLAlchemy Core statement over the
SQLModel tables, not the ORM's unit of work:

1. :func:`lock_subject`: ``INSERT … ON CONFLICT DO NOTHING RETURNING`` creates
   the subject (and, being an uncommitted insert, holds it); an existing
   subject is then locked with ``SELECT … FOR UPDATE``.
2. :func:`standing_under_lock`: the exclusion in force and whether this request
   key was already used, in one ``SELECT``.
3. :func:`insert_exclusion` / :func:`lengthen`: the exclusion row and its event
   in one statement (a data-modifying CTE).

The caller owns the transaction and its audit entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CTE, Select, and_, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core.codes import new_bst, new_reference
from core.crypto import KeyRing
from core.errors import IntegrityFailure
from core.models import (
    Channel,
    EventType,
    Exclusion,
    ExclusionEvent,
    ExclusionStatus,
    Subject,
)
from core.periods import Period
from core.subjects import MSISDN_FIELD

_ATTEMPTS = 5
_SUBJECT = Subject.__table__  # type: ignore[attr-defined]
_EXCLUSION = Exclusion.__table__  # type: ignore[attr-defined]
_EVENT = ExclusionEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LockedSubject:
    """The subject row, locked until the transaction ends; ``created`` if this call made it."""

    subject: Subject
    created: bool


async def lock_subject(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    e164: str,
    bidx: str,
    language: str,
    now: datetime,
) -> LockedSubject:
    """Create or lock the subject holding MSISDN ``e164`` (blind index ``bidx``).

    One round trip for a new subject, two for an existing one. Safe under
    concurrent callers: the loser of an insert race waits on the winner's
    uncommitted row, then locks it.

    Raises:
        IntegrityFailure: no free BST after several random draws (never in practice).
    """
    for _attempt in range(_ATTEMPTS):
        inserted = (
            await (await session.connection()).execute(
                insert(_SUBJECT)
                .values(
                    msisdn_sealed=keyring.seal(e164, field=MSISDN_FIELD),
                    msisdn_bidx=bidx,
                    bst=new_bst(),
                    language=language,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
                .returning(*_SUBJECT.c)
            )
        ).first()
        if inserted is not None:
            return LockedSubject(Subject(**inserted._mapping), created=True)
        existing = (
            await (await session.connection()).execute(
                select(*_SUBJECT.c).where(_SUBJECT.c.msisdn_bidx == bidx).with_for_update()
            )
        ).first()
        if existing is not None:
            return LockedSubject(Subject(**existing._mapping), created=False)
        # Neither inserted nor found: the random BST collided; draw another.
    raise IntegrityFailure(f"no free BST after {_ATTEMPTS} draws")


async def set_language(
    session: AsyncSession, *, subject_id: int, language: str, now: datetime
) -> None:
    """Store the subject's preferred language (one ``UPDATE``; the caller audits it)."""
    await (await session.connection()).execute(
        update(_SUBJECT)
        .where(_SUBJECT.c.id == subject_id)
        .values(language=language, updated_at=now)
    )


@dataclass(frozen=True)
class Standing:
    """Read under the subject lock: the active exclusion, and whether the key was used."""

    active: Exclusion | None
    key_used: bool


async def standing_under_lock(
    session: AsyncSession, *, subject_id: int, request_key: str
) -> Standing:
    """The subject's active exclusion (in force or awaiting expiry) and the key's use, one query."""
    used = (
        select(literal(True))
        .where(_EVENT.c.idempotency_key == request_key)
        .exists()
        .label("key_used")
    )
    one = select(literal(1).label("one")).subquery()
    row = (
        await (await session.connection()).execute(
            select(used, *_EXCLUSION.c)
            .select_from(one)
            .outerjoin(
                _EXCLUSION,
                and_(
                    _EXCLUSION.c.subject_id == subject_id,
                    _EXCLUSION.c.status == ExclusionStatus.ACTIVE.value,
                ),
            )
        )
    ).one()
    mapping = dict(row._mapping)
    key_used = bool(mapping.pop("key_used"))
    active = Exclusion(**mapping) if mapping["id"] is not None else None
    return Standing(active=active, key_used=key_used)


def _event_values(*, type_: EventType, request_key: str | None, now: datetime) -> dict[str, object]:
    return {"type": type_.value, "idempotency_key": request_key, "occurred_at": now}


async def insert_exclusion(
    session: AsyncSession,
    *,
    subject_id: int,
    period: Period,
    ends_at: datetime | None,
    channel: Channel,
    request_key: str,
    now: datetime,
) -> tuple[Exclusion, ExclusionEvent]:
    """Insert an active exclusion and its ``exclusion.created`` event, in one statement.

    Raises:
        IntegrityFailure: no free reference after several random draws.
    """
    for _attempt in range(_ATTEMPTS):
        made = (
            insert(_EXCLUSION)
            .values(
                subject_id=subject_id,
                period=period.value,
                starts_at=now,
                ends_at=ends_at,
                status=ExclusionStatus.ACTIVE.value,
                reference=new_reference(),
                channel=channel.value,
                idempotency_key=request_key,
                created_at=now,
                updated_at=now,
            )
            # A reference collision inserts nothing; another reference is drawn.
            .on_conflict_do_nothing(index_elements=["reference"])
            .returning(*_EXCLUSION.c)
            .cte("made")
        )
        event = _event_values(type_=EventType.CREATED, request_key=request_key, now=now)
        row = (await (await session.connection()).execute(_with_event(made, event))).first()
        if row is not None:
            return _split(row._mapping)
    raise IntegrityFailure(f"no free reference after {_ATTEMPTS} draws")


async def change(
    session: AsyncSession,
    *,
    exclusion_id: int,
    values: dict[str, object],
    type_: EventType,
    request_key: str | None,
    now: datetime,
) -> tuple[Exclusion, ExclusionEvent]:
    """Update an exclusion (``values``, plus ``updated_at``) and record the event, in one statement.

    Used to lengthen (new ``period``/``ends_at``) and to expire (``status``).
    """
    changed = (
        update(_EXCLUSION)
        .where(_EXCLUSION.c.id == exclusion_id)
        .values(**values, updated_at=now)
        .returning(*_EXCLUSION.c)
        .cte("changed")
    )
    event = _event_values(type_=type_, request_key=request_key, now=now)
    row = (await (await session.connection()).execute(_with_event(changed, event))).one()
    return _split(row._mapping)


def _with_event(source: CTE, event: dict[str, object]) -> Select[Any]:
    """``WITH source, recorded AS (INSERT event …) SELECT`` both rows: one round trip.

    The exclusion's columns come back prefixed ``x_`` (see :func:`_split`).
    """
    recorded = (
        insert(_EVENT)
        .from_select(
            ["exclusion_id", "period", "ends_at", *event],
            select(
                source.c.id,
                source.c.period,
                source.c.ends_at,
                *(literal(value) for value in event.values()),
            ),
        )
        .returning(*_EVENT.c)
        .cte("recorded")
    )
    return select(
        *recorded.c, *(column.label(f"x_{column.name}") for column in source.c)
    ).join_from(recorded, source, recorded.c.exclusion_id == source.c.id)


def _split(mapping: object) -> tuple[Exclusion, ExclusionEvent]:
    values = dict(mapping)  # type: ignore[call-overload]
    exclusion = Exclusion(**{key[2:]: values.pop(key) for key in list(values) if key[:2] == "x_"})
    return exclusion, ExclusionEvent(**values)
