"""Background jobs of the domain (the ARQ worker that runs them is wired in ``nser.worker``).

Each job takes ARQ's ``ctx`` with ``ctx["services"]`` (:class:`core.services.Services`).
Jobs:

* ``expire_exclusions`` (cron, every ``NSER_EXPIRY_INTERVAL_MINUTES`` and at
  start-up): moves exclusions past ``ends_at`` to expired, audited. Claims rows
  with ``SKIP LOCKED``, so any number of workers may run it.
* ``sequence_audit`` (cron, every second and at start-up): takes committed
  audit entries into the Merkle log and signs checkpoints
  (:mod:`core.audit.sequencer`); one at a time across all workers (an
  advisory lock), so any number of workers may schedule it.
* ``remind_rescreening`` (cron, daily at :data:`REMINDER_HOUR` Nairobi time):
  hands every opted-in citizen whose quarterly re-screening reminder is due to
  the SMS seam (:mod:`core.screening_sms`) and schedules the next one, audited.
  Claims rows with ``SKIP LOCKED`` too.
* ``apply_lifts`` (cron, every ``NSER_EXPIRY_INTERVAL_MINUTES`` and at
  start-up): lifts the exclusions whose
  approved lift request's cooling-off is over (:func:`core.lifts.apply_due`).
* ``send_reminders`` (cron, every ``NSER_EXPIRY_INTERVAL_MINUTES``): writes the
  expiry reminder of every exclusion ending within ``NSER_SMS_REMINDER_DAYS``,
  once per end.

Expiry, lifting and reminders write the citizen's SMS (:mod:`core.notices`);
each batch's commit enqueues them. Sending SMS (``send_sms``,
``sweep_messages``) lives in :mod:`core.sending`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from core import exclusions, lifts, notices, queue, rescreening
from core.audit import sequencer
from core.services import Services

log = logging.getLogger(__name__)

#: Rows each batch claims (one transaction per batch).
BATCH = 500
SEQUENCE_BATCH = 5000
#: Local (Nairobi) hour at which re-screening reminders go out: daytime, never at night.
REMINDER_HOUR = 10


class _Sweep(Protocol):
    async def __call__(
        self, session: AsyncSession, /, *, now: datetime, limit: int = ...
    ) -> int: ...


async def _in_batches(services: Services, sweep: _Sweep) -> int:
    """Run ``sweep`` in one transaction per :data:`BATCH` rows until a batch comes back short.

    Each commit enqueues the jobs its batch recorded (the SMS it wrote, the
    operators' webhooks of the exclusions it ended).
    """
    total = 0
    while True:
        async with services.db() as db:
            count = await sweep(db, now=services.clock(), limit=BATCH)
            await queue.commit(db, services.queue)
        total += count
        if count < BATCH:
            return total


async def expire_exclusions(ctx: dict[str, Any]) -> int:
    """Expire every exclusion due now, in batches of 500; returns how many were expired."""
    total = await _in_batches(ctx["services"], exclusions.expire_due)
    if total:
        log.info("expired %d exclusions", total)
    return total


async def remind_rescreening(ctx: dict[str, Any]) -> int:
    """Remind everyone due for a re-screening, in batches of 500; returns how many were due."""
    total = await _in_batches(ctx["services"], rescreening.remind_due)
    if total:
        log.info("%d re-screening reminders due", total)
    return total


async def sequence_audit(ctx: dict[str, Any]) -> int:
    """Sequence every queued audit entry, 5000 a transaction; returns how many were added.

    A checkpoint is signed after the last batch when due
    (see :func:`core.audit.sequencer.sequence`).
    Returns 0 at once when another worker's sequencer holds the lock.
    """
    services: Services = ctx["services"]
    every = timedelta(seconds=services.settings.audit_checkpoint_seconds)
    total = 0
    while True:
        async with services.db() as db:
            run = await sequencer.sequence(
                db,
                signer=services.audit_signer,
                now=services.clock(),
                every=every,
                limit=SEQUENCE_BATCH,
            )
            await db.commit()
        total += run.added
        if not run.ran or run.added < SEQUENCE_BATCH:
            return total


async def apply_lifts(ctx: dict[str, Any]) -> int:
    """Apply every approved lift whose cooling-off is over, in batches; returns how many."""
    total = await _in_batches(ctx["services"], lifts.apply_due)
    if total:
        log.info("closed %d lift requests whose cooling-off ended", total)
    return total


async def send_reminders(ctx: dict[str, Any]) -> int:
    """Write every due expiry reminder, in batches of 500; returns how many were written."""
    services: Services = ctx["services"]
    days = services.settings.sms_reminder_days
    total = await _in_batches(services, partial(notices.queue_reminders, days=days))
    if total:
        log.info("wrote %d expiry reminders", total)
    return total
