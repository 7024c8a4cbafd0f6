"""The ARQ worker: which jobs and crons run, configured from the settings.

This is process wiring, so it lives in the composition root: channels add
their jobs here (SMS sending, webhook delivery) without ``core`` importing them.
``nser worker`` (the Procfile's worker) and ``nser serve`` both build it here.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker

from core.jobs import (
    REMINDER_HOUR,
    apply_lifts,
    expire_exclusions,
    remind_rescreening,
    sequence_audit,
)
from core.queue import QUEUE
from core.services import Services, open_services
from core.settings import Settings

#: Cron schedules are read in Nairobi time (East Africa Time, UTC+3 all year, no DST).
NAIROBI = timezone(timedelta(hours=3), "EAT")


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
    """An ARQ worker for NSER's jobs, on queue :data:`core.queue.QUEUE`.

    Crons, every ``NSER_EXPIRY_INTERVAL_MINUTES`` and at start-up: expiring
    exclusions past their end, and applying lifts whose cooling-off is over.

    Given ``services`` (tests, ``nser serve``), jobs use them and the caller
    closes them; otherwise the worker opens its own at start-up and closes them
    at shutdown. The audit sequencer runs every second (one at a time across
    workers, by its own lock); a ``burst`` worker, which stops once its queue
    is empty, leaves that cron out and runs it only when it is enqueued.
    """
    interval = settings.expiry_interval_minutes
    sequencer = cron(
        sequence_audit,
        name="cron:sequence_audit",
        second=set(range(60)),
        run_at_startup=True,
        unique=True,
        timeout=60,
    )

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["services"] = services or open_services(settings)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if services is None and "services" in ctx:
            await ctx["services"].close()

    return Worker(
        functions=[expire_exclusions, sequence_audit, remind_rescreening, apply_lifts],
        cron_jobs=[
            *([] if burst else [sequencer]),
            *(
                cron(
                    job,
                    # A name of its own: sharing the function's name would replace the
                    # on-demand job's settings (kept result) with the cron's.
                    name=f"cron:{job.__name__}",
                    minute=set(range(0, 60, interval)),
                    second=0,
                    run_at_startup=True,
                    unique=True,
                )
                for job in (expire_exclusions, apply_lifts)
            ),
            cron(
                remind_rescreening,
                name="cron:remind_rescreening",
                hour={REMINDER_HOUR},
                minute={0},
                second=0,
                unique=True,
            ),
        ],
        timezone=NAIROBI,
        queue_name=QUEUE,
        redis_settings=redis_settings(settings),
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        handle_signals=handle_signals,
    )
