"""Background jobs enqueued only after the transaction that asked for them commits.

A job that is enqueued before its transaction commits can run before the rows
it needs exist, or for rows that a rollback then removes. So a service records
the job in its database session (:func:`later`) and the caller, who owns the
transaction, commits with :func:`commit`: the jobs go to ARQ only once the
commit succeeded, and a rollback drops them.

Enqueueing is best effort by design: if Redis is down at that moment the job is
logged and lost *from the queue*, never from the database. Whatever must happen
is also recorded in a table (an outbox) that a periodic sweeper re-enqueues;
``job_id`` makes a re-enqueue of the same work a no-op while it is queued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from arq.connections import ArqRedis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

#: The ARQ queue every NSER job goes through (the worker listens on it).
QUEUE = "nser:queue"
_PENDING = "nser.queue.pending"


@dataclass(frozen=True)
class Job:
    """One ARQ job: the registered ``function`` name, its ``job_id`` and keyword arguments.

    ``defer_by`` delays its start (``None``: as soon as a worker is free).
    """

    function: str
    job_id: str | None
    kwargs: dict[str, Any] = field(default_factory=dict)
    defer_by: timedelta | None = None


async def later(
    session: AsyncSession,
    function: str,
    *,
    job_id: str | None = None,
    defer_by: timedelta | None = None,
    **kwargs: Any,
) -> None:
    """Enqueue ``function(**kwargs)`` once ``session``'s transaction commits (see :func:`commit`).

    ``job_id`` (e.g. a delivery id) makes the job unique while queued or running;
    ``defer_by`` starts it that long after the commit.
    """
    await session.connection()  # begin now, so a rollback fires the hook that drops the job
    pending: list[Job] = session.sync_session.info.setdefault(_PENDING, [])
    pending.append(Job(function, job_id, kwargs, defer_by))


def drop_pending(session: Session, transaction: SessionTransaction) -> None:
    """``after_transaction_end`` hook: a transaction that ended without commit enqueues nothing.

    After a commit the jobs were already taken by :func:`commit`.
    """
    if transaction.parent is None and not session.info.get("nser.queue.committing"):
        session.info.pop(_PENDING, None)


async def commit(session: AsyncSession, queue: ArqRedis) -> list[Job]:
    """Commit ``session``, then enqueue the jobs recorded with :func:`later`, in order.

    Returns the jobs that could not be enqueued (Redis down or slow); they are
    logged, and the outbox sweeper is what retries them. After the first
    failure the rest are not tried: one Redis timeout is the most a caller
    (a citizen's USSD answer) waits, however many jobs its commit queued.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the commit failed; nothing was enqueued.
    """
    info = session.sync_session.info
    info["nser.queue.committing"] = True
    try:
        await session.commit()
    finally:
        info.pop("nser.queue.committing", None)
    jobs: list[Job] = info.pop(_PENDING, [])
    for done, job in enumerate(jobs):
        if not await enqueue(queue, job):
            # One Redis timeout is the most a caller (a citizen's answer) waits, however
            # many jobs its commit recorded: the rest are left to the sweepers.
            return jobs[done:]
    return []


async def enqueue(queue: ArqRedis, job: Job) -> bool:
    """Enqueue ``job`` for work already committed; False (logged) when Redis failed.

    For a caller that committed without a session (a single autocommitted
    statement); :func:`commit` uses it for the jobs of a transaction.
    """
    try:
        await queue.enqueue_job(
            job.function, _job_id=job.job_id, _defer_by=job.defer_by, **job.kwargs
        )
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning(
            "job %s (%s) not enqueued after commit (%s); the sweeper will retry it",
            job.function,
            job.job_id,
            type(exc).__name__,
        )
        return False
    return True
