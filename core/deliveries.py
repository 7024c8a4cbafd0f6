"""A webhook delivery's attempts: lease, send, settle; the retry schedule.

A delivery job (:mod:`core.delivery_jobs`) leases its row (:func:`lease`),
commits, POSTs without holding a transaction (:mod:`core.webhooks`), then
settles it (:func:`settle`):

* ``2xx``: ``delivered``;
* ``410 Gone``: ``failed``; the operator's endpoint is disabled
  (``webhook_disabled_at``, audited as ``operator.webhook_disabled``) and its
  other pending deliveries are ``skipped`` (they stay in its feed, which is how
  it catches up once it sets a URL again; new events wait for that URL);
* anything else (other statuses, ``3xx``, timeouts, refused connections):
  retried after :data:`BACKOFF` (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h,
  4 h, then every 8 h), or after the ``Retry-After`` of a ``429`` or ``503``;
  the last attempt falls :data:`WINDOW` (72 h) after the event, then ``failed``.

A suspended operator's, or endpoint-less operator's, leased deliveries are
``skipped``. Staff may send an operator's ``failed`` deliveries again
(:func:`redeliver_failed`): each gets one more attempt, same ``webhook-id``.
Every change is on the row: ``status``, ``attempts``,
``last_attempt_at``, ``last_status``, ``last_error``, ``next_attempt_at``,
``delivered_at``, ``closed_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, bindparam, case, func, or_, update
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, queue
from core.models import DeliveryStatus, OperatorStatus
from core.outbox import DELIVERY, JOB, OPERATOR, job_id, no_endpoint

#: How long after the event deliveries are retried; the last attempt is at the end of it.
WINDOW = timedelta(hours=72)
#: Wait after the n-th failed attempt (the last value repeats): seconds, then minutes, then hours.
BACKOFF = tuple(timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800))
#: Longest ``Retry-After`` believed; a larger one waits this long.
RETRY_AFTER_CAP = timedelta(hours=24)
#: How long an attempt owns its row: longer than a whole HTTP attempt (core.webhooks, 15 s).
LEASE = timedelta(seconds=20)
#: A job may start this early for its row (ARQ's clock and ours may differ slightly).
EARLY = timedelta(seconds=1)

_NOW = bindparam("now", type_=DateTime(timezone=True))
_PENDING = DeliveryStatus.PENDING.value


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
        case((no_endpoint(), None), else_=OPERATOR.c.webhook_url).label("webhook_url"),
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
    .where(OPERATOR.c.id == bindparam("op"), OPERATOR.c.webhook_disabled_at.is_(None))
    .values(webhook_disabled_at=_NOW, updated_at=_NOW)
    .returning(OPERATOR.c.webhook_url)
)
_SKIP_REST = (
    update(DELIVERY)
    .where(
        DELIVERY.c.operator_id == bindparam("op"),
        DELIVERY.c.status == _PENDING,
        # An attempt in flight settles its own row (a 2xx still counts as delivered).
        or_(DELIVERY.c.leased_until.is_(None), DELIVERY.c.leased_until <= _NOW),
    )
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
        closed = await _close(
            session, taken.id, status=DeliveryStatus.FAILED, now=now, result=result
        )
        if closed and result.status_code == 410:
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


_REDELIVER = (
    update(DELIVERY)
    .where(
        DELIVERY.c.operator_id == bindparam("op", type_=BigInteger),
        DELIVERY.c.status == DeliveryStatus.FAILED.value,
    )
    .values(
        status=_PENDING, next_attempt_at=_NOW, leased_until=None, closed_at=None, last_error=None
    )
    .returning(DELIVERY.c.id, DELIVERY.c.attempts)
)


async def redeliver_failed(
    session: AsyncSession, *, operator_id: int, actor: str, now: datetime
) -> int:
    """Send every ``failed`` delivery of ``operator_id`` again; returns how many.

    Each goes back to ``pending``, due ``now``, and its job is queued when the
    caller commits with :func:`core.queue.commit` (the sweeper is the fallback).
    The ``webhook-id`` stays, so an operator that did receive one can tell. Past
    :data:`WINDOW` a delivery gets exactly one more attempt (then ``failed``
    again), within it the usual retries. A disabled endpoint must be set again
    first (its deliveries are skipped). Audited (``operator.deliveries_redelivered``).
    """
    conn = await session.connection()
    again = (await conn.execute(_REDELIVER, {"op": operator_id, "now": now})).all()
    for row in again:
        await queue.later(
            session,
            JOB,
            job_id=job_id(row.id, row.attempts),
            defer_by=timedelta(0),
            delivery_id=row.id,
            operator_id=operator_id,
            attempt=row.attempts,
        )
    if again:
        await audit.append(
            session,
            actor=actor,
            action="operator.deliveries_redelivered",
            entity=f"operator:{operator_id}",
            after={"deliveries": len(again)},
            occurred_at=now,
        )
    return len(again)


async def _disable(session: AsyncSession, taken: Lease, *, actor: str, now: datetime) -> None:
    conn = await session.connection()
    params = {"op": taken.operator_id, "now": now}
    disabled = (await conn.execute(_DISABLE, params)).first()
    if disabled is None:
        return  # another attempt's 410 disabled it first
    skipped = len((await conn.execute(_SKIP_REST, params)).all())
    await audit.append(
        session,
        actor=actor,
        action="operator.webhook_disabled",
        entity=f"operator:{taken.operator_id}",
        before={"webhook_url": disabled.webhook_url},
        after={
            "webhook_disabled": True,
            "reason": "410 Gone",
            "delivery_id": taken.id,
            "skipped_deliveries": skipped,
        },
        occurred_at=now,
    )
