"""Background jobs of the domain (the ARQ worker that runs them is wired in ``nser.worker``).

Each job takes ARQ's ``ctx`` with ``ctx["services"]`` (:class:`core.services.Services`).
Jobs:

* ``expire_exclusions`` (cron, every ``NSER_EXPIRY_INTERVAL_MINUTES`` and at
  start-up): moves exclusions past ``ends_at`` to expired, audited. Claims rows
  with ``SKIP LOCKED``, so any number of workers may run it.
* ``remind_rescreening`` (cron, daily at :data:`REMINDER_HOUR` Nairobi time):
  hands every opted-in citizen whose quarterly re-screening reminder is due to
  the SMS seam (:mod:`core.screening_sms`) and schedules the next one, audited.
  Claims rows with ``SKIP LOCKED`` too.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from core import exclusions, rescreening
from core.services import Services

log = logging.getLogger(__name__)

#: Rows each batch claims (one transaction per batch).
BATCH = 500
#: Local (Nairobi) hour at which re-screening reminders go out: daytime, never at night.
REMINDER_HOUR = 10


class _Sweep(Protocol):
    async def __call__(self, session: AsyncSession, *, now: datetime, limit: int) -> int: ...


async def _in_batches(services: Services, sweep: _Sweep) -> int:
    """Run ``sweep`` in one transaction per :data:`BATCH` rows until a batch comes back short."""
    total = 0
    while True:
        async with services.db() as db:
            count = await sweep(db, now=services.clock(), limit=BATCH)
            await db.commit()
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
