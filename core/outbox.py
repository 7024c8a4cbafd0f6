"""The webhook outbox: one delivery row per subscription an exclusion event concerns.

When an exclusion event is recorded (:func:`core.exclusions._record_event`),
:func:`fan_out` writes, in the event's own transaction and in one
``INSERT … SELECT … RETURNING``, a :class:`~core.models.Delivery` for every
subscription of an **active** operator that holds the subject (matched on the
blind index of any identifier linked to the subject: each number, each ID).
An operator holding the person under two customer references (two accounts)
gets one delivery per reference.
PostgreSQL builds the JSON payload; only ``customer_ref`` differs per row::

    {"type": "exclusion.created", "timestamp": "<occurred_at>",
     "data": {"event_id": 42, "occurred_at": "<occurred_at>", "customer_ref": "C-1",
              "bst": "BST-…", "until": "<ends_at>" | null}}

Times are ISO 8601 UTC with milliseconds (``2026-11-21T09:00:00.000Z``),
``until`` is ``null`` for a permanent exclusion (for one that ended: when it
stopped being in force); never an MSISDN or ID. An
operator with no webhook URL, or one a ``410`` disabled, gets its row as
``skipped`` (it still feeds ``GET /v1/events``). Every ``pending`` row gets an
ARQ job once the caller commits (:func:`core.queue.commit`); what the job does
is :mod:`core.deliveries`. :func:`due` is what the sweeper re-enqueues and
:func:`problems` the staff's view of what did not arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core import queue
from core.db import Driver
from core.models import (
    Delivery,
    DeliveryStatus,
    EventType,
    Operator,
    OperatorStatus,
    SubjectIdentifier,
    Subscription,
)

DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
OPERATOR = Operator.__table__  # type: ignore[attr-defined]
SUBSCRIPTION = Subscription.__table__  # type: ignore[attr-defined]
LINK = SubjectIdentifier.__table__  # type: ignore[attr-defined]

#: The registered name of the delivery job (see :mod:`core.delivery_jobs`).
JOB = "deliver_webhook"

_NOW = bindparam("now", type_=DateTime(timezone=True))
_PENDING = DeliveryStatus.PENDING.value
_ENDED = frozenset({EventType.EXPIRED.value, EventType.LIFTED.value})


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``: ``2026-11-21T09:00:00.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def job_id(delivery_id: int, attempt: int) -> str:
    """ARQ job id of a delivery's attempt number ``attempt`` (0 = the first): ``delivery:7:0``.

    Unique while queued, so the after-commit enqueue and the sweeper never run
    one attempt twice. The attempt number is part of it because ARQ keeps the
    id of a job whose worker was killed busy for the job timeout: the next
    attempt (the lease already counted the killed one) must not wait for that.
    """
    return f"delivery:{delivery_id}:{attempt}"


def no_endpoint() -> Any:
    """SQL: the operator (``OPERATOR``, joined) has no usable webhook URL."""
    return or_(OPERATOR.c.webhook_url.is_(None), OPERATOR.c.webhook_disabled_at.is_not(None))


_through = bindparam("through", type_=String)
#: The subject's links the event concerns: all of them, or only ``:through`` when given.
#: (``:through`` itself, not its link: a detached identifier's link is gone already.)
_person = union_all(
    select(LINK.c.bidx).where(
        LINK.c.subject_id == bindparam("subject_id", type_=BigInteger), _through.is_(None)
    ),
    select(_through.label("bidx")).where(_through.is_not(None)),
).subquery("person")
_targets = (
    select(
        SUBSCRIPTION.c.operator_id,
        SUBSCRIPTION.c.customer_ref,
        case((no_endpoint(), DeliveryStatus.SKIPPED.value), else_=_PENDING).label("status"),
    )
    .select_from(SUBSCRIPTION)
    .join(OPERATOR, OPERATOR.c.id == SUBSCRIPTION.c.operator_id)
    .where(
        exists().where(
            or_(
                _person.c.bidx == SUBSCRIPTION.c.msisdn_bidx,
                _person.c.bidx == SUBSCRIPTION.c.national_id_bidx,
            )
        )
    )
    .where(OPERATOR.c.status == OperatorStatus.ACTIVE.value)
    .subquery("targets")
)
_occurred = bindparam("occurred", type_=String)
_skipped = _targets.c.status == DeliveryStatus.SKIPPED.value
# On the driver (core.db.Driver): every exclusion event fans out, the citizen waiting.
_FAN_OUT = Driver(
    insert(DELIVERY)
    .from_select(
        [
            "message_id",
            "operator_id",
            "event_id",
            "event_type",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "closed_at",
            "created_at",
        ],
        select(
            literal_column("'msg_' || replace(gen_random_uuid()::text, '-', '')"),
            _targets.c.operator_id,
            bindparam("event_id", type_=BigInteger),
            bindparam("event_type", type_=String),
            func.jsonb_build_object(
                "type",
                bindparam("event_type", type_=String),
                "timestamp",
                _occurred,
                "data",
                func.jsonb_build_object(
                    "event_id",
                    bindparam("event_id", type_=BigInteger),
                    "occurred_at",
                    _occurred,
                    "customer_ref",
                    _targets.c.customer_ref,
                    "bst",
                    bindparam("bst", type_=String),
                    "until",
                    bindparam("until", type_=String),
                ),
            ),
            _targets.c.status,
            literal(0),
            _NOW,
            case((_skipped, "no webhook endpoint"), else_=None),
            case((_skipped, _NOW), else_=None),
            _NOW,
        ),
    )
    .returning(DELIVERY.c.id, DELIVERY.c.operator_id, DELIVERY.c.status)
)


async def fan_out(
    session: AsyncSession,
    *,
    subject_id: int,
    bst: str,
    event_id: int,
    event_type: str,
    occurred_at: datetime,
    ends_at: datetime | None,
    through: str | None = None,
) -> int:
    """Write the event's deliveries (one statement) and queue a job per pending one after commit.

    The operators are those subscribed through any identifier linked to the
    subject, or, with ``through`` (a blind index), only through that one (an
    identifier added to or removed from an exclusion concerns only the
    operators who hold the person by it).

    ``until`` is ``ends_at`` (``None``: permanent); for an exclusion that ended
    (``exclusion.expired``, ``exclusion.lifted``) it is when it stopped being in
    force: its end, or the event's time when that came first (a lift).
    Returns how many rows were written (pending and skipped).
    """
    until = ends_at
    if event_type in _ENDED and (until is None or until > occurred_at):
        until = occurred_at
    params = {
        "subject_id": subject_id,
        "bst": bst,
        "event_id": event_id,
        "event_type": event_type,
        "occurred": iso(occurred_at),
        "until": iso(until) if until else None,
        "now": occurred_at,
        "through": through,
    }
    rows = await _FAN_OUT.fetch(session, params)
    for row in rows:
        if row["status"] == _PENDING:
            await queue.later(
                session,
                JOB,
                job_id=job_id(row["id"], 0),
                delivery_id=row["id"],
                operator_id=row["operator_id"],
                attempt=0,
            )
    return len(rows)


@dataclass(frozen=True, slots=True)
class Due:
    """A pending delivery the sweeper should (re-)enqueue, for attempt number ``attempts``."""

    id: int
    operator_id: int
    attempts: int


_DUE = (
    select(DELIVERY.c.id, DELIVERY.c.operator_id, DELIVERY.c.attempts)
    .where(
        DELIVERY.c.status == _PENDING,
        DELIVERY.c.next_attempt_at <= _NOW,
        or_(DELIVERY.c.leased_until.is_(None), DELIVERY.c.leased_until <= _NOW),
    )
    .order_by(DELIVERY.c.next_attempt_at)
    .limit(bindparam("limit"))
)


async def due(session: AsyncSession, *, now: datetime, limit: int) -> list[Due]:
    """Up to ``limit`` pending deliveries due at ``now`` with no live lease, oldest due first."""
    result = await (await session.connection()).execute(_DUE, {"now": now, "limit": limit})
    return [Due(**row._mapping) for row in result]


@dataclass(frozen=True, slots=True)
class Problem:
    """One operator's undelivered webhooks, for staff.

    ``failed``: given up (after the retry window, or a ``410``); ``pending``:
    still being retried, the oldest created at ``oldest_pending``.
    """

    operator_id: int
    name: str
    webhook_disabled_at: datetime | None
    pending: int
    failed: int
    oldest_pending: datetime | None
    last_failed: datetime | None


_PROBLEMS = (
    select(
        OPERATOR.c.id.label("operator_id"),
        OPERATOR.c.name,
        OPERATOR.c.webhook_disabled_at,
        func.count().filter(DELIVERY.c.status == _PENDING).label("pending"),
        func.count().filter(DELIVERY.c.status == DeliveryStatus.FAILED.value).label("failed"),
        func.min(DELIVERY.c.created_at)
        .filter(DELIVERY.c.status == _PENDING)
        .label("oldest_pending"),
        func.max(DELIVERY.c.closed_at)
        .filter(DELIVERY.c.status == DeliveryStatus.FAILED.value)
        .label("last_failed"),
    )
    .join_from(
        OPERATOR,
        DELIVERY,
        and_(
            DELIVERY.c.operator_id == OPERATOR.c.id,
            DELIVERY.c.status.in_([_PENDING, DeliveryStatus.FAILED.value]),
        ),
    )
    .group_by(OPERATOR.c.id)
    .order_by(OPERATOR.c.id)
)


async def problems(session: AsyncSession) -> list[Problem]:
    """Every operator with failed or pending deliveries (the staff's delivery alert view)."""
    result = await (await session.connection()).execute(_PROBLEMS)
    return [Problem(**row._mapping) for row in result]
