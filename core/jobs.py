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
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from core import exclusions, notices, queue
from core.services import Services

log = logging.getLogger(__name__)

#: Rows each batch claims (one transaction per batch).
BATCH = 500


class _Sweep(Protocol):
    async def __call__(self, session: AsyncSession, *, now: datetime, limit: int) -> int: ...


async def _in_batches(services: Services, sweep: _Sweep) -> int:
    """Run ``sweep`` in one transaction per :data:`BATCH` rows until a batch comes back short.

    Each commit enqueues the jobs its batch recorded (the SMS it wrote).
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


async def send_reminders(ctx: dict[str, Any]) -> int:
    """Write every due expiry reminder, in batches of 500; returns how many were written."""
    services: Services = ctx["services"]
    days = services.settings.sms_reminder_days
    total = await _in_batches(services, partial(notices.queue_reminders, days=days))
    if total:
        log.info("wrote %d expiry reminders", total)
    return total
