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
from typing import Any

from core import exclusions, rescreening
from core.services import Services

log = logging.getLogger(__name__)

EXPIRY_BATCH = 500
REMINDER_BATCH = 500
#: Local (Nairobi) hour at which re-screening reminders go out: daytime, never at night.
REMINDER_HOUR = 10


async def expire_exclusions(ctx: dict[str, Any]) -> int:
    """Expire every exclusion due now, in batches of 500; returns how many were expired."""
    services: Services = ctx["services"]
    total = 0
    while True:
        async with services.db() as db:
            count = await exclusions.expire_due(db, now=services.clock(), limit=EXPIRY_BATCH)
            await db.commit()
        total += count
        if count < EXPIRY_BATCH:
            break
    if total:
        log.info("expired %d exclusions", total)
    return total


async def remind_rescreening(ctx: dict[str, Any]) -> int:
    """Remind everyone due for a re-screening, in batches of 500; returns how many were due."""
    services: Services = ctx["services"]
    total = 0
    while True:
        async with services.db() as db:
            count = await rescreening.remind_due(db, now=services.clock(), limit=REMINDER_BATCH)
            await db.commit()
        total += count
        if count < REMINDER_BATCH:
            break
    if total:
        log.info("%d re-screening reminders due", total)
    return total
