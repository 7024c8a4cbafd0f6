"""Background jobs and the ARQ worker that runs them.

The worker is configured in one place, :func:`create_worker`, from the same
settings object as the web app. Jobs:

* ``expire_exclusions`` (cron, every ``NSER_EXPIRY_INTERVAL_MINUTES`` and at
  start-up): moves exclusions past ``ends_at`` to expired, audited. Claims rows
  with ``SKIP LOCKED``, so any number of workers may run it.
"""

from __future__ import annotations

import logging
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker

from core import exclusions
from core.queue import QUEUE
from core.services import Services, open_services
from core.settings import Settings

log = logging.getLogger(__name__)

EXPIRY_BATCH = 500


async def expire_exclusions(ctx: dict[str, Any]) -> int:
    """Expire every exclusion due now, in batches of 500; returns how many were expired."""
    services: Services = ctx["services"]
    total = 0
    while True:
        async with services.sessions() as db:
            count = await exclusions.expire_due(db, now=services.clock(), limit=EXPIRY_BATCH)
            await db.commit()
        total += count
        if count < EXPIRY_BATCH:
            break
    if total:
        log.info("expired %d exclusions", total)
    return total


def redis_settings(settings: Settings) -> RedisSettings:
    """ARQ's connection settings from ``REDIS_URL`` (``redis://``, ``rediss://`` or ``unix://``).

    Raises:
        ValueError: ``REDIS_URL`` is not resolved yet.
    """
    if settings.redis_url is None:
        raise ValueError("REDIS_URL must be resolved before the worker starts")
    return RedisSettings.from_dsn(settings.redis_url)


def create_worker(
    settings: Settings,
    *,
    services: Services | None = None,
    burst: bool = False,
    handle_signals: bool = True,
) -> Worker:
    """An ARQ worker for NSER's jobs.

    Given ``services`` (tests, ``nser serve``), jobs use them and the caller
    closes them; otherwise the worker opens its own at start-up and closes them
    at shutdown.
    """
    interval = settings.expiry_interval_minutes

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["services"] = services or open_services(settings)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if services is None and "services" in ctx:
            await ctx["services"].close()

    return Worker(
        functions=[expire_exclusions],
        cron_jobs=[
            cron(
                expire_exclusions,
                # A name of its own: sharing the function's name would replace the
                # on-demand job's settings (kept result) with the cron's.
                name="cron:expire_exclusions",
                minute=set(range(0, 60, interval)),
                second=0,
                run_at_startup=True,
                unique=True,
            )
        ],
        queue_name=QUEUE,
        redis_settings=redis_settings(settings),
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        handle_signals=handle_signals,
    )
