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
from uuid import uuid4

from arq.connections import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms, to_ms
from redis.exceptions import RedisError
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

#: ARQ's ``enqueue_job`` (arq.connections) as one script: KEYS job, result, queue;
#: ARGV expiry (ms), serialized job, score (ms), job id. 0: the id is taken.
_ENQUEUE = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
"""
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

    It writes what ARQ's ``enqueue_job`` writes (the pickled job under
    ``arq:job:<id>`` with the same expiry, the id in the queue's sorted set,
    scored by when it may start), and likewise writes nothing while a job or a
    result with that id exists, but in one atomic script: one round trip
    instead of ``enqueue_job``'s three (``WATCH``, ``EXISTS``, ``MULTI … EXEC``).
    """
    job_id = job.job_id or uuid4().hex
    enqueued_ms = timestamp_ms()
    score = enqueued_ms + (to_ms(job.defer_by) or 0)
    payload = serialize_job(
        job.function, (), job.kwargs, None, enqueued_ms, serializer=queue.job_serializer
    )
    try:
        await queue.register_script(_ENQUEUE)(
            keys=[job_key_prefix + job_id, result_key_prefix + job_id, queue.default_queue_name],
            args=[score - enqueued_ms + queue.expires_extra_ms, payload, score, job_id],
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
