"""The webhook outbox: one delivery row per subscription an exclusion event concerns.

When an exclusion event is recorded (:func:`core.exclusions._record_event`),
:func:`fan_out` writes, in the event's own transaction and in one
``INSERT … SELECT … RETURNING``, a :class:`~core.models.Delivery` for every
subscription of an **active** operator that holds the subject (matched on the
subject's MSISDN or national ID blind index). An operator holding the person
under two customer references (two accounts) gets one delivery per reference.
The JSON payload is built by PostgreSQL; only ``customer_ref`` differs per row::

    {"type": "exclusion.created", "timestamp": "<occurred_at>",
     "data": {"event_id": 42, "occurred_at": "<occurred_at>", "customer_ref": "C-1",
              "bst": "BST-…", "until": "<ends_at>" | null}}

Times are ISO 8601 UTC with milliseconds (``2026-11-21T09:00:00.000Z``); never
an MSISDN or ID. An operator with no webhook URL, or one a ``410`` disabled,
gets the row as ``skipped`` (it still feeds ``GET /v1/events``); every
``pending`` row gets an ARQ job after the commit (:func:`job_id`).

A delivery job (:mod:`core.delivery_jobs`) leases the row (:func:`lease`),
POSTs without holding a transaction, then settles it (:func:`settle`): ``2xx``
delivered; ``410`` failed, the endpoint disabled and the operator's other
pending deliveries skipped (the feed is how it catches up once it sets a URL
again); anything else retried on :data:`BACKOFF` (``Retry-After`` of a ``429``
or ``503`` instead), the last attempt at :data:`WINDOW` after the event, then
``failed``. :func:`problems` is the staff view of failed and pending rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, queue
from core.models import Delivery, DeliveryStatus, Operator, OperatorStatus, Subject, Subscription

DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
OPERATOR = Operator.__table__  # type: ignore[attr-defined]
SUBSCRIPTION = Subscription.__table__  # type: ignore[attr-defined]
SUBJECT = Subject.__table__  # type: ignore[attr-defined]

#: The registered name of the delivery job (see :mod:`core.delivery_jobs`).
JOB = "deliver_webhook"
#: How long after the event deliveries are retried; the last attempt is at the end of it.
WINDOW = timedelta(hours=72)
#: Wait after the n-th failed attempt (the last value repeats): seconds, then minutes, then hours.
BACKOFF = tuple(timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800))
#: Longest ``Retry-After`` believed; a larger one waits this long.
RETRY_AFTER_CAP = timedelta(hours=24)
#: How long an attempt owns its row; longer than the whole HTTP attempt (see core.webhooks).
LEASE = timedelta(seconds=20)
#: A job may start this early for its row (ARQ's clock and ours may differ slightly).
EARLY = timedelta(seconds=1)

_NOW = bindparam("now", type_=DateTime(timezone=True))
_PENDING = DeliveryStatus.PENDING.value


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


def _no_endpoint() -> Any:
    return or_(OPERATOR.c.webhook_url.is_(None), OPERATOR.c.webhook_disabled_at.is_not(None))


_person = (
    select(SUBJECT.c.msisdn_bidx, SUBJECT.c.national_id_bidx)
    .where(SUBJECT.c.id == bindparam("subject_id", type_=BigInteger))
    .cte("person")
)
_targets = (
    select(
        SUBSCRIPTION.c.operator_id,
        SUBSCRIPTION.c.customer_ref,
        case((_no_endpoint(), DeliveryStatus.SKIPPED.value), else_=_PENDING).label("status"),
    )
    .select_from(SUBSCRIPTION)
    .join(OPERATOR, OPERATOR.c.id == SUBSCRIPTION.c.operator_id)
    .join(
        _person,
        or_(
            SUBSCRIPTION.c.msisdn_bidx == _person.c.msisdn_bidx,
            SUBSCRIPTION.c.national_id_bidx == _person.c.national_id_bidx,
        ),
    )
    .where(OPERATOR.c.status == OperatorStatus.ACTIVE.value)
    .subquery("targets")
)
_occurred = bindparam("occurred", type_=String)
_skipped = _targets.c.status == DeliveryStatus.SKIPPED.value
_FAN_OUT = (
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
) -> int:
    """Write the event's deliveries (one statement) and queue a job per pending one after commit.

    Returns how many rows were written (pending and skipped).
    """
    params = {
        "subject_id": subject_id,
        "bst": bst,
        "event_id": event_id,
        "event_type": event_type,
        "occurred": iso(occurred_at),
        "until": iso(ends_at) if ends_at else None,
        "now": occurred_at,
    }
    rows = (await (await session.connection()).execute(_FAN_OUT, params)).all()
    for row in rows:
        if row.status == _PENDING:
            await queue.later(
                session,
                JOB,
                job_id=job_id(row.id, 0),
                delivery_id=row.id,
                operator_id=row.operator_id,
                attempt=0,
            )
    return len(rows)


@dataclass(frozen=True, slots=True)
class Lease:
    """A delivery attempt in progress: what to send and where.

    ``attempts`` counts this one; ``webhook_url`` is ``None`` when the operator
    has no usable endpoint any more (none, or disabled).
    """

    id: int
    message_id: str
    operator_id: int
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    operator_active: bool
    webhook_url: str | None


_LEASE = (
    update(DELIVERY)
    .where(
        DELIVERY.c.id == bindparam("delivery_id", type_=BigInteger),
        DELIVERY.c.status == _PENDING,
        DELIVERY.c.attempts == bindparam("attempt", type_=Integer),
        DELIVERY.c.next_attempt_at <= bindparam("early", type_=DateTime(timezone=True)),
        or_(DELIVERY.c.leased_until.is_(None), DELIVERY.c.leased_until <= _NOW),
        OPERATOR.c.id == DELIVERY.c.operator_id,
    )
    .values(
        attempts=DELIVERY.c.attempts + 1,
        leased_until=bindparam("until", type_=DateTime(timezone=True)),
        last_attempt_at=_NOW,
    )
    .returning(
        DELIVERY.c.id,
        DELIVERY.c.message_id,
        DELIVERY.c.operator_id,
        DELIVERY.c.payload,
        DELIVERY.c.attempts,
        DELIVERY.c.created_at,
        (OPERATOR.c.status == OperatorStatus.ACTIVE.value).label("operator_active"),
        case((_no_endpoint(), None), else_=OPERATOR.c.webhook_url).label("webhook_url"),
    )
)


async def lease(
    session: AsyncSession, *, delivery_id: int, attempt: int, now: datetime
) -> Lease | None:
    """Take the delivery for attempt number ``attempt`` (0-based) for :data:`LEASE`.

    ``None`` unless the row is pending, due, on that attempt and not leased by a
    live attempt (a killed worker's lease simply runs out). The caller commits
    at once: no transaction is held while the HTTP request runs.
    """
    params = {
        "delivery_id": delivery_id,
        "attempt": attempt,
        "now": now,
        "early": now + EARLY,
        "until": now + LEASE,
    }
    row = (await (await session.connection()).execute(_LEASE, params)).first()
    return Lease(**row._mapping) if row is not None else None


@dataclass(frozen=True)
class Result:
    """What one HTTP attempt got: a status code, or an ``error`` (timeout, refused…).

    ``retry_after`` is the ``Retry-After`` of a ``429`` or ``503``, if it had one.
    """

    status_code: int | None
    error: str | None = None
    retry_after: timedelta | None = None

    @property
    def ok(self) -> bool:
        """Only a ``2xx`` is a delivery."""
        return self.status_code is not None and 200 <= self.status_code < 300


def next_attempt(
    *, result: Result, attempts: int, created_at: datetime, now: datetime
) -> datetime | None:
    """When to try again after a failed attempt at ``now``; ``None``: give up (failed).

    ``attempts`` counts the one just made. A ``410`` never retries; past
    :data:`WINDOW` nothing does. ``Retry-After`` (capped at
    :data:`RETRY_AFTER_CAP`) replaces the backoff; the backoff is clipped so
    the last attempt falls exactly at the end of the window.
    """
    end = created_at + WINDOW
    if result.status_code == 410 or now >= end:
        return None
    if result.retry_after is not None:
        return now + min(max(result.retry_after, timedelta(0)), RETRY_AFTER_CAP)
    return min(now + BACKOFF[min(attempts, len(BACKOFF)) - 1], end)


_SETTLE = (
    update(DELIVERY)
    .where(
        DELIVERY.c.id == bindparam("delivery_id", type_=BigInteger),
        DELIVERY.c.status == _PENDING,
    )
    .values(
        status=bindparam("status", type_=String),
        next_attempt_at=func.coalesce(
            bindparam("next", type_=DateTime(timezone=True)), DELIVERY.c.next_attempt_at
        ),
        leased_until=None,
        last_status=bindparam("last_status", type_=Integer),
        last_error=bindparam("last_error", type_=String),
        delivered_at=bindparam("delivered_at", type_=DateTime(timezone=True)),
        closed_at=bindparam("closed_at", type_=DateTime(timezone=True)),
    )
    .returning(DELIVERY.c.id)
)
_DISABLE = (
    update(OPERATOR)
    .where(OPERATOR.c.id == bindparam("operator_id"), OPERATOR.c.webhook_disabled_at.is_(None))
    .values(webhook_disabled_at=_NOW, updated_at=_NOW)
    .returning(OPERATOR.c.webhook_url)
)
_SKIP_REST = (
    update(DELIVERY)
    .where(DELIVERY.c.operator_id == bindparam("operator_id"), DELIVERY.c.status == _PENDING)
    .values(
        status=DeliveryStatus.SKIPPED.value,
        leased_until=None,
        last_error="endpoint disabled (410)",
        closed_at=_NOW,
    )
    .returning(DELIVERY.c.id)
)


async def _close(
    session: AsyncSession,
    delivery_id: int,
    *,
    status: DeliveryStatus,
    now: datetime,
    result: Result | None = None,
    error: str | None = None,
    next_at: datetime | None = None,
) -> bool:
    params = {
        "delivery_id": delivery_id,
        "status": status.value,
        "next": next_at,
        "last_status": result.status_code if result else None,
        "last_error": ((result.error if result else None) or error or "")[:300] or None,
        "delivered_at": now if status is DeliveryStatus.DELIVERED else None,
        "closed_at": None if status is DeliveryStatus.PENDING else now,
        "now": now,
    }
    return (await (await session.connection()).execute(_SETTLE, params)).first() is not None


async def skip(session: AsyncSession, taken: Lease, *, reason: str, now: datetime) -> None:
    """Close a leased delivery as ``skipped`` (operator suspended, or no endpoint any more)."""
    await _close(session, taken.id, status=DeliveryStatus.SKIPPED, now=now, error=reason)


async def settle(
    session: AsyncSession, taken: Lease, *, result: Result, actor: str, now: datetime
) -> DeliveryStatus:
    """Record the attempt's ``result`` and what follows; the caller commits with ``core.queue``.

    A retry is queued (:func:`core.queue.later`) to start at its
    ``next_attempt_at``. A ``410`` also disables the operator's endpoint (audited,
    ``operator.webhook_disabled``) and skips its other pending deliveries.
    Returns the delivery's new status (``pending`` = will retry).
    """
    if result.ok:
        await _close(session, taken.id, status=DeliveryStatus.DELIVERED, now=now, result=result)
        return DeliveryStatus.DELIVERED
    retry_at = next_attempt(
        result=result, attempts=taken.attempts, created_at=taken.created_at, now=now
    )
    if retry_at is None:
        await _close(session, taken.id, status=DeliveryStatus.FAILED, now=now, result=result)
        if result.status_code == 410:
            await _disable(session, taken, actor=actor, now=now)
        return DeliveryStatus.FAILED
    if await _close(
        session, taken.id, status=DeliveryStatus.PENDING, now=now, result=result, next_at=retry_at
    ):
        await queue.later(
            session,
            JOB,
            job_id=job_id(taken.id, taken.attempts),
            defer_by=retry_at - now,
            delivery_id=taken.id,
            operator_id=taken.operator_id,
            attempt=taken.attempts,
        )
    return DeliveryStatus.PENDING


async def _disable(session: AsyncSession, taken: Lease, *, actor: str, now: datetime) -> None:
    conn = await session.connection()
    params = {"operator_id": taken.operator_id, "now": now}
    url = (await conn.execute(_DISABLE, params)).scalar_one_or_none()
    skipped = len((await conn.execute(_SKIP_REST, params)).all())
    await audit.append(
        session,
        actor=actor,
        action="operator.webhook_disabled",
        entity=f"operator:{taken.operator_id}",
        before={"webhook_url": url},
        after={"reason": "410 Gone", "delivery_id": taken.id, "skipped_deliveries": skipped},
        occurred_at=now,
    )


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
