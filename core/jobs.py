"""Background jobs of the domain (the ARQ worker that runs them is wired in ``nser.worker``).

Each job takes ARQ's ``ctx`` with ``ctx["services"]`` (:class:`core.services.Services`).
Jobs:

* ``expire_exclusions`` (cron, every ``NSER_EXPIRY_INTERVAL_MINUTES`` and at
  start-up): moves exclusions past ``ends_at`` to expired, audited. Claims rows
  with ``SKIP LOCKED``, so any number of workers may run it. Each expiry
  writes the citizen's notice SMS (:mod:`core.notices`).
* ``send_reminders`` (cron, same interval): writes the expiry reminder of every
  exclusion ending within ``NSER_SMS_REMINDER_DAYS``, once per end.

Sending SMS (``send_sms``, ``sweep_messages``) lives in :mod:`core.sending`.
"""

from __future__ import annotations

import logging
from typing import Any

from core import exclusions, notices, queue
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
            await queue.commit(db, services.queue)
        total += count
        if count < EXPIRY_BATCH:
            break
    if total:
        log.info("expired %d exclusions", total)
    return total


async def send_reminders(ctx: dict[str, Any]) -> int:
    """Write every due expiry reminder, in batches of 500; returns how many were written."""
    services: Services = ctx["services"]
    total = 0
    while True:
        async with services.db() as db:
            count = await notices.queue_reminders(
                db,
                days=services.settings.sms_reminder_days,
                now=services.clock(),
                limit=EXPIRY_BATCH,
            )
            await queue.commit(db, services.queue)
        total += count
        if count < EXPIRY_BATCH:
            break
    if total:
        log.info("wrote %d expiry reminders", total)
    return total
