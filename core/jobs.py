"""Background jobs of the domain (the ARQ worker that runs them is wired in ``nser.worker``).

Each job takes ARQ's ``ctx`` with ``ctx["services"]`` (:class:`core.services.Services`).
Jobs:

* ``expire_exclusions`` (cron, every ``NSER_EXPIRY_INTERVAL_MINUTES`` and at
  start-up): moves exclusions past ``ends_at`` to expired, audited. Claims rows
  with ``SKIP LOCKED``, so any number of workers may run it.
* ``apply_lifts`` (cron, on the same schedule): lifts the exclusions whose
  approved lift request's cooling-off is over (:func:`core.lifts.apply_due`).
"""

from __future__ import annotations

import logging
from typing import Any

from core import exclusions, lifts
from core.services import Services

log = logging.getLogger(__name__)

EXPIRY_BATCH = 500


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


LIFT_BATCH = 100


async def apply_lifts(ctx: dict[str, Any]) -> int:
    """Apply every approved lift whose cooling-off is over, in batches; returns how many."""
    services: Services = ctx["services"]
    total = 0
    while True:
        async with services.db() as db:
            count = await lifts.apply_due(db, now=services.clock(), limit=LIFT_BATCH)
            await db.commit()
        total += count
        if count < LIFT_BATCH:
            break
    if total:
        log.info("closed %d lift requests whose cooling-off ended", total)
    return total
