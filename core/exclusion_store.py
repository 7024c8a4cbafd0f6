"""The statements behind :mod:`core.exclusions`, shaped for few round trips and little CPU.

A self-exclusion is on the citizen's hot path (a USSD answer within seconds,
under load), so each step is one SQLAlchemy Core statement over the SQLModel
tables, built once at import with bind parameters (building a statement with a
CTE costs more CPU than executing it); the citizen's steps run on the driver
(:class:`core.db.Driver`, in the session's transaction), and rows come back as
small frozen dataclasses rather than ORM instances:

1. :func:`lock_subject`: a transaction-scoped advisory lock on the number's
   blind index serialises everyone acting on one MSISDN (creating a subject,
   linking the number elsewhere); then one statement locks the subject holding
   the number through its link (:class:`~core.models.SubjectIdentifier`)
   ``FOR UPDATE`` or, when none does, inserts a new subject and its MSISDN link.
2. :func:`standing_under_lock`: the active exclusion and whether this request
   key was already used, in one ``SELECT``. For a subject step 1 has just
   inserted there is no exclusion yet, and that statement already answered
   whether the key was used (:attr:`LockedSubject.key_used`): one round trip
   fewer for a new person.
3. :func:`insert_exclusion` / :func:`change`: the exclusion row and its event
   in one statement (data-modifying CTEs).

The caller owns the transaction and its audit entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.selectable import CTE
from sqlmodel.ext.asyncio.session import AsyncSession

from core.codes import new_bst, new_reference
from core.crypto import KeyRing
from core.db import Driver
from core.errors import IntegrityFailure
from core.models import (
    Channel,
    EventType,
    Exclusion,
    ExclusionEvent,
    ExclusionStatus,
    IdentifierFamily,
    IdentifierKind,
    IdentifierStatus,
    Subject,
    SubjectIdentifier,
)
from core.periods import Period
from core.subjects import MSISDN_FIELD

_ATTEMPTS = 5
SUBJECT = Subject.__table__  # type: ignore[attr-defined]
EXCLUSION = Exclusion.__table__  # type: ignore[attr-defined]
EVENT = ExclusionEvent.__table__  # type: ignore[attr-defined]
LINK = SubjectIdentifier.__table__  # type: ignore[attr-defined]
_NOW = bindparam("now", type_=DateTime(timezone=True))


class _Row:
    @classmethod
    def of(cls, mapping: RowMapping | Mapping[str, Any], prefix: str = "") -> Self:
        """The row from a result mapping (columns named ``<prefix><field>``)."""
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        return cls(**{name: mapping[prefix + name] for name in names})


@dataclass(frozen=True, slots=True)
class SubjectRow(_Row):
    """A subject as the exclusion service needs it: id, BST and preferred language."""

    id: int
    bst: str
    language: str


@dataclass(frozen=True, slots=True)
class ExclusionRow(_Row):
    """One ``exclusion`` row (UTC timestamps; ``ends_at`` ``None`` = permanent)."""

    id: int
    subject_id: int
    period: str
    starts_at: datetime
    ends_at: datetime | None
    status: str
    reference: str
    channel: str


@dataclass(frozen=True, slots=True)
class EventRow(_Row):
    """One ``exclusion_event`` row."""

    id: int
    exclusion_id: int
    type: str
    idempotency_key: str | None
    period: str
    ends_at: datetime | None
    occurred_at: datetime


def _columns(table: Any, row: type[_Row], prefix: str = "") -> list[Any]:
    return [table.c[f.name].label(prefix + f.name) for f in fields(row)]  # type: ignore[arg-type]


_SUBJECT_COLUMNS = [SUBJECT.c.id, SUBJECT.c.bst, SUBJECT.c.language]
#: The columns of :class:`ExclusionRow`, for callers' own selects.
EXCLUSION_COLUMNS = _columns(EXCLUSION, ExclusionRow)


def holder_of(bidx: Any) -> Any:
    """SQL: the id of the subject an MSISDN (blind index ``bidx``) is linked to, if any."""
    return (
        select(LINK.c.subject_id)
        .where(LINK.c.family == IdentifierFamily.MSISDN.value, LINK.c.bidx == bidx)
        .scalar_subquery()
    )


#: Serialises every transaction acting on one number (released at commit or rollback).
_NUMBER_LOCK = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("bidx"), 0)))
#: The subject already holding the number, locked (``FOR UPDATE`` inside a CTE: PostgreSQL
#: materialises it and locks the row it returns).
_held = (
    select(*_SUBJECT_COLUMNS)
    .where(SUBJECT.c.id == holder_of(bindparam("bidx")))
    .with_for_update(of=SUBJECT)
    .cte("held")
)
#: Otherwise a new subject (nothing when the number is held, or the random BST is taken).
_made = (
    insert(SUBJECT)
    .from_select(
        ["msisdn_sealed", "msisdn_bidx", "bst", "language", "created_at", "updated_at"],
        select(
            bindparam("sealed", type_=SUBJECT.c.msisdn_sealed.type),
            bindparam("bidx", type_=SUBJECT.c.msisdn_bidx.type),
            bindparam("bst", type_=SUBJECT.c.bst.type),
            bindparam("language", type_=SUBJECT.c.language.type),
            _NOW,
            _NOW,
        ).where(~select(_held.c.id).exists()),
    )
    .on_conflict_do_nothing()
    .returning(*_SUBJECT_COLUMNS)
    .cte("made")
)
_linked = (
    insert(LINK)
    .from_select(
        ["subject_id", "kind", "family", "sealed", "bidx", "status", "channel", "created_at"],
        select(
            _made.c.id,
            literal(IdentifierKind.MSISDN.value),
            literal(IdentifierFamily.MSISDN.value),
            bindparam("sealed"),
            bindparam("bidx"),
            literal(IdentifierStatus.CLAIMED.value),
            bindparam("channel", type_=String),
            _NOW,
        ),
    )
    .returning(LINK.c.id)
    .cte("linked")
)


def _key_used() -> Any:
    """SQL: whether an exclusion event already carries ``:request_key`` (``None``: false)."""
    given = bindparam("request_key", type_=String)
    return select(literal(True)).where(EVENT.c.idempotency_key == given).exists()


#: One row: the held subject (``created`` false, ``key_used`` NULL), or the one made now
#: with whether ``:request_key`` was used; no row only when a new subject's BST collided.
_TAKE_SUBJECT = union_all(
    select(
        _held.c.id,
        _held.c.bst,
        _held.c.language,
        literal(False).label("created"),
        null().cast(Boolean).label("key_used"),
    ),
    select(
        _made.c.id,
        _made.c.bst,
        _made.c.language,
        literal(True).label("created"),
        _key_used().label("key_used"),
    ).where(select(_linked.c.id).exists()),
)
# The citizen's hot path runs on the driver (core.db.Driver): a quarter of the CPU.
_NUMBER_LOCK_RUN = Driver(_NUMBER_LOCK)
_TAKE_SUBJECT_RUN = Driver(_TAKE_SUBJECT)
_SET_LANGUAGE = (
    update(SUBJECT)
    .where(SUBJECT.c.id == bindparam("subject_id"))
    .values(language=bindparam("language"), updated_at=_NOW)
)


@dataclass(frozen=True)
class LockedSubject:
    """The subject row, locked until the transaction ends; ``created`` if this call made it.

    ``key_used``: for a subject this call made, whether the ``request_key`` it was
    given already names an exclusion event (read in the same statement, under the
    number's lock); ``None`` for a subject that existed (ask
    :func:`standing_under_lock`).
    """

    subject: SubjectRow
    created: bool
    key_used: bool | None = None


async def lock_subject(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    e164: str,
    bidx: str,
    language: str,
    now: datetime,
    channel: Channel | None = None,
    request_key: str | None = None,
) -> LockedSubject:
    """Create or lock the subject MSISDN ``e164`` (blind index ``bidx``) is linked to.

    Two round trips either way: the number's advisory lock, then one statement
    that locks the subject holding the number or, when none does, inserts a new
    subject and its MSISDN link (``channel`` recorded) and reads whether
    ``request_key`` was used. The second statement starts after the lock is
    held, so its snapshot sees a twin request's committed subject. Safe under
    concurrent callers: they queue on the number's advisory lock, so a number
    never makes two subjects.

    Raises:
        IntegrityFailure: no free BST after several random draws (never in practice).
    """
    await lock_number(session, bidx=bidx)
    for _attempt in range(_ATTEMPTS):
        params = {
            "sealed": keyring.seal(e164, field=MSISDN_FIELD),
            "bidx": bidx,
            "bst": new_bst(),
            "language": language,
            "channel": channel.value if channel is not None else None,
            "now": now,
            "request_key": request_key,
        }
        row = await _TAKE_SUBJECT_RUN.first(session, params)
        if row is not None and not row["created"]:
            return LockedSubject(SubjectRow.of(row), created=False)
        if row is not None:
            return LockedSubject(SubjectRow.of(row), created=True, key_used=bool(row["key_used"]))
        # Nothing held and nothing inserted: the random BST collided; draw another.
    raise IntegrityFailure(f"no free BST after {_ATTEMPTS} draws")


async def lock_number(session: AsyncSession, *, bidx: str) -> None:
    """Hold the advisory lock of the MSISDN with blind index ``bidx`` until the transaction ends."""
    await _NUMBER_LOCK_RUN.fetch(session, {"bidx": bidx})


async def lock_subject_by_id(session: AsyncSession, *, subject_id: int) -> SubjectRow:
    """Lock subject ``subject_id`` ``FOR UPDATE`` (the caller knows it exists)."""
    row = (await (await session.connection()).execute(_LOCK_BY_ID, {"sid": subject_id})).one()
    return SubjectRow.of(row._mapping)


_LOCK_BY_ID = (
    select(*_SUBJECT_COLUMNS)
    .where(SUBJECT.c.id == bindparam("sid", type_=BigInteger))
    .with_for_update(of=SUBJECT)
)


async def set_language(
    session: AsyncSession, *, subject_id: int, language: str, now: datetime
) -> None:
    """Store the subject's preferred language (one ``UPDATE``; the caller audits it)."""
    params = {"subject_id": subject_id, "language": language, "now": now}
    await (await session.connection()).execute(_SET_LANGUAGE, params)


_ONE = select(literal(1).label("one")).subquery()
_STANDING = (
    select(_key_used().label("key_used"), *_columns(EXCLUSION, ExclusionRow))
    .select_from(_ONE)
    .outerjoin(
        EXCLUSION,
        and_(
            EXCLUSION.c.subject_id == bindparam("subject_id"),
            EXCLUSION.c.status == ExclusionStatus.ACTIVE.value,
        ),
    )
)


_STANDING_RUN = Driver(_STANDING)


@dataclass(frozen=True)
class Standing:
    """Read under the subject lock: the active exclusion, and whether the key was used."""

    active: ExclusionRow | None
    key_used: bool


async def standing_under_lock(
    session: AsyncSession, *, locked: LockedSubject, request_key: str
) -> Standing:
    """The subject's active exclusion (in force or awaiting expiry) and the key's use, one query.

    No query for a subject :func:`lock_subject` has just made: it has no exclusion
    yet, and the statement that made it read the key's use (``locked.key_used``).
    """
    if locked.key_used is not None:
        return Standing(active=None, key_used=locked.key_used)
    params = {"subject_id": locked.subject.id, "request_key": request_key}
    row = await _STANDING_RUN.first(session, params)
    assert row is not None  # one row always (an outer join from a one-row select)
    active = ExclusionRow.of(row) if row["id"] is not None else None
    return Standing(active=active, key_used=bool(row["key_used"]))


def _with_event(source: CTE) -> Select[Any]:
    """``WITH source, recorded AS (INSERT event …) SELECT`` both rows: one round trip.

    The event takes ``:event_type``, ``:event_key`` and ``:now``; the exclusion's
    columns come back prefixed ``x_``.
    """
    recorded = (
        insert(EVENT)
        .from_select(
            ["exclusion_id", "period", "ends_at", "type", "idempotency_key", "occurred_at"],
            select(
                source.c.id,
                source.c.period,
                source.c.ends_at,
                bindparam("event_type", type_=String),
                bindparam("event_key", type_=String),
                _NOW,
            ),
        )
        .returning(*EVENT.c)
        .cte("recorded")
    )
    exclusion = [source.c[f.name].label(f"x_{f.name}") for f in fields(ExclusionRow)]
    return select(*recorded.c, *exclusion).join_from(
        recorded, source, recorded.c.exclusion_id == source.c.id
    )


_INSERT_EXCLUSION = _with_event(
    insert(EXCLUSION)
    .values(
        subject_id=bindparam("subject_id"),
        period=bindparam("period"),
        starts_at=_NOW,
        ends_at=bindparam("ends_at", type_=DateTime(timezone=True)),
        status=ExclusionStatus.ACTIVE.value,
        reference=bindparam("reference"),
        channel=bindparam("channel"),
        idempotency_key=bindparam("event_key", type_=String),
        created_at=_NOW,
        updated_at=_NOW,
    )
    # A reference collision inserts nothing; another reference is drawn.
    .on_conflict_do_nothing(index_elements=["reference"])
    .returning(*EXCLUSION.c)
    .cte("made")
)


_INSERT_EXCLUSION_RUN = Driver(_INSERT_EXCLUSION)


def _rows(mapping: RowMapping | Mapping[str, Any]) -> tuple[ExclusionRow, EventRow]:
    return ExclusionRow.of(mapping, "x_"), EventRow.of(mapping)


async def insert_exclusion(
    session: AsyncSession,
    *,
    subject_id: int,
    period: Period,
    ends_at: datetime | None,
    channel: Channel,
    request_key: str,
    now: datetime,
) -> tuple[ExclusionRow, EventRow]:
    """Insert an active exclusion and its ``exclusion.created`` event, in one statement.

    Raises:
        IntegrityFailure: no free reference after several random draws.
    """
    for _attempt in range(_ATTEMPTS):
        params = {
            "subject_id": subject_id,
            "period": period.value,
            "ends_at": ends_at,
            "reference": new_reference(),
            "channel": channel.value,
            "event_type": EventType.CREATED.value,
            "event_key": request_key,
            "now": now,
        }
        row = await _INSERT_EXCLUSION_RUN.first(session, params)
        if row is not None:
            return _rows(row)
    raise IntegrityFailure(f"no free reference after {_ATTEMPTS} draws")


def _change(**values: Any) -> Select[Any]:
    return _with_event(
        update(EXCLUSION)
        .where(EXCLUSION.c.id == bindparam("exclusion_id"))
        .values(**values, updated_at=_NOW)
        .returning(*EXCLUSION.c)
        .cte("changed")
    )


_LENGTHEN = _change(
    period=bindparam("period"), ends_at=bindparam("ends_at", type_=DateTime(timezone=True))
)
_SET_STATUS = _change(status=bindparam("status"))
_TOUCH = _change()


async def touch(
    session: AsyncSession, *, exclusion_id: int, type_: EventType, now: datetime
) -> tuple[ExclusionRow, EventRow]:
    """Record event ``type_`` on an exclusion without changing its period or end; one statement."""
    params = {
        "exclusion_id": exclusion_id,
        "event_type": type_.value,
        "event_key": None,
        "now": now,
    }
    return _rows((await (await session.connection()).execute(_TOUCH, params)).one()._mapping)


async def lengthen(
    session: AsyncSession,
    *,
    exclusion_id: int,
    period: Period,
    ends_at: datetime | None,
    request_key: str | None,
    now: datetime,
) -> tuple[ExclusionRow, EventRow]:
    """Give an exclusion a new period and end, and record ``exclusion.extended``; one statement."""
    params = {
        "exclusion_id": exclusion_id,
        "period": period.value,
        "ends_at": ends_at,
        "event_type": EventType.EXTENDED.value,
        "event_key": request_key,
        "now": now,
    }
    return _rows((await (await session.connection()).execute(_LENGTHEN, params)).one()._mapping)


async def set_status(
    session: AsyncSession,
    *,
    exclusion_id: int,
    status: ExclusionStatus,
    type_: EventType,
    now: datetime,
) -> tuple[ExclusionRow, EventRow]:
    """Move an exclusion to ``status`` and record event ``type_``; one statement."""
    params = {
        "exclusion_id": exclusion_id,
        "status": status.value,
        "event_type": type_.value,
        "event_key": None,
        "now": now,
    }
    return _rows((await (await session.connection()).execute(_SET_STATUS, params)).one()._mapping)


_ACTIVE_BY_BIDX = (
    select(*_columns(SUBJECT, SubjectRow, "s_"), *_columns(EXCLUSION, ExclusionRow))
    .select_from(SUBJECT)
    .outerjoin(
        EXCLUSION,
        and_(
            EXCLUSION.c.subject_id == SUBJECT.c.id,
            EXCLUSION.c.status == ExclusionStatus.ACTIVE.value,
        ),
    )
    .where(SUBJECT.c.id == holder_of(bindparam("bidx")))
)


async def active_by_msisdn_index(
    session: AsyncSession, *, bidx: str
) -> tuple[SubjectRow | None, ExclusionRow | None]:
    """The subject MSISDN blind index ``bidx`` is linked to, and its active exclusion; one query."""
    row = (await (await session.connection()).execute(_ACTIVE_BY_BIDX, {"bidx": bidx})).first()
    if row is None:
        return None, None
    mapping = row._mapping
    subject = SubjectRow.of(mapping, "s_")
    return subject, (ExclusionRow.of(mapping) if mapping["id"] is not None else None)


_REPLAY = (
    select(
        *EVENT.c,
        *_columns(EXCLUSION, ExclusionRow, "x_"),
        *_columns(SUBJECT, SubjectRow, "s_"),
    )
    .join_from(EVENT, EXCLUSION, EXCLUSION.c.id == EVENT.c.exclusion_id)
    .join(SUBJECT, SUBJECT.c.id == EXCLUSION.c.subject_id)
    .where(EVENT.c.idempotency_key == bindparam("request_key", type_=String))
)


async def by_request_key(
    session: AsyncSession, *, request_key: str
) -> tuple[SubjectRow, ExclusionRow, EventRow] | None:
    """The event recorded for ``request_key`` with its exclusion and subject, if any."""
    params = {"request_key": request_key}
    row = (await (await session.connection()).execute(_REPLAY, params)).first()
    if row is None:
        return None
    exclusion, event = _rows(row._mapping)
    return SubjectRow.of(row._mapping, "s_"), exclusion, event


_DUE = (
    select(*_columns(EXCLUSION, ExclusionRow), SUBJECT.c.bst.label("s_bst"))
    .join_from(EXCLUSION, SUBJECT, SUBJECT.c.id == EXCLUSION.c.subject_id)
    .where(
        EXCLUSION.c.status == ExclusionStatus.ACTIVE.value,
        EXCLUSION.c.ends_at.is_not(None),
        EXCLUSION.c.ends_at <= _NOW,
    )
    .order_by(EXCLUSION.c.ends_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=EXCLUSION)
)


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int
) -> list[tuple[ExclusionRow, str]]:
    """Up to ``limit`` active exclusions past their end, each with its subject's BST.

    Claimed ``FOR UPDATE SKIP LOCKED``, so several workers may claim at once.
    """
    result = await (await session.connection()).execute(_DUE, {"now": now, "limit": limit})
    return [(ExclusionRow.of(row._mapping), row.s_bst) for row in result]


_WITH_BST = select(*_columns(EXCLUSION, ExclusionRow), SUBJECT.c.bst.label("s_bst")).join_from(
    EXCLUSION, SUBJECT, SUBJECT.c.id == EXCLUSION.c.subject_id
)
_BY_REFERENCE = _WITH_BST.where(EXCLUSION.c.reference == bindparam("key", type_=String))
_BY_ID = _WITH_BST.where(EXCLUSION.c.id == bindparam("key"))
_LOCKED = {
    statement: statement.with_for_update(of=EXCLUSION) for statement in (_BY_REFERENCE, _BY_ID)
}


async def located(
    session: AsyncSession,
    *,
    reference: str | None = None,
    exclusion_id: int | None = None,
    lock: bool = False,
) -> tuple[ExclusionRow, str] | None:
    """The exclusion with ``reference`` (``K7M3-Q9PA``) or ``exclusion_id``, and its subject's BST.

    With ``lock`` the exclusion row is locked ``FOR UPDATE`` until the transaction ends.
    """
    statement = _BY_REFERENCE if reference is not None else _BY_ID
    key = reference if reference is not None else exclusion_id
    row = (
        await (await session.connection()).execute(
            _LOCKED[statement] if lock else statement, {"key": key}
        )
    ).first()
    return None if row is None else (ExclusionRow.of(row._mapping), row.s_bst)
