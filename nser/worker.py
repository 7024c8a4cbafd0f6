"""The ARQ worker: which jobs and crons run, configured from the settings.

This is process wiring, so it lives in the composition root: channels add
their jobs here without ``core`` importing them.
``nser worker`` (the Procfile's worker) and ``nser serve`` both build it here.

Jobs: ``expire_exclusions``, ``apply_lifts``, ``send_reminders``,
``remind_rescreening`` and ``sequence_audit`` (:mod:`core.jobs`), ``send_sms``
and ``sweep_messages`` (:mod:`core.sending`), ``process_sms`` and
``sweep_inbound`` (:mod:`sms.jobs`), ``deliver_webhook`` and
``sweep_deliveries`` (:mod:`core.delivery_jobs`, with the worker's
per-operator slots and HTTP clients in ``ctx["push"]``). The SMS and webhook
jobs keep no result, so the sweepers may hand the same work to a new job as
soon as the last one ended.
The worker polls every :data:`POLL_SECONDS`, so an SMS's two hops (process,
send) add little to the citizen's wait.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from arq import cron, func
from arq.connections import ArqRedis, RedisSettings
from arq.cron import CronJob
from arq.worker import Worker
from redis.asyncio import ConnectionPool

from core.delivery_jobs import SWEEP_SECONDS, Push, deliver_webhook, sweep_deliveries
from core.jobs import (
    REMINDER_HOUR,
    apply_lifts,
    expire_exclusions,
    remind_rescreening,
    send_reminders,
    sequence_audit,
)
from core.outbox import JOB as DELIVERY_JOB
from core.queue import QUEUE
from core.sending import SendRate, send_message, sweep_messages
from core.services import Services, open_services
from core.settings import Settings
from gateway.sms_gateways import build as build_sms_gateway
from sms.jobs import process_sms, sweep_inbound

#: Cron schedules are read in Nairobi time (East Africa Time, UTC+3 all year, no DST).
NAIROBI = timezone(timedelta(hours=3), "EAT")
POLL_SECONDS = 0.05


def redis_settings(settings: Settings) -> RedisSettings:
    """ARQ's connection settings from ``REDIS_URL`` (``redis://``, ``rediss://`` or ``unix://``).

    Raises:
        ValueError: ``REDIS_URL`` is not resolved yet.
    """
    if settings.redis_url is None:
        raise ValueError("REDIS_URL must be resolved before the worker starts")
    return RedisSettings.from_dsn(settings.redis_url)


def worker_redis(settings: Settings) -> ArqRedis:
    """The worker's own Redis client, with a timeout on every call.

    ARQ's :func:`arq.connections.create_pool` bounds only connecting, so a frozen
    Redis (SIGSTOP, a network partition) would hang the worker, and its shutdown,
    forever. Each call here may take at most ``max(2 s, 4 × NSER_REDIS_TIMEOUT)``;
    past that the worker fails loudly and its supervisor (``nser serve``) or the
    process manager (``nser worker``) starts it again.

    Raises:
        ValueError: ``REDIS_URL`` is not resolved yet.
    """
    if settings.redis_url is None:
        raise ValueError("REDIS_URL must be resolved before the worker starts")
    timeout = max(2.0, 4 * settings.redis_timeout)
    pool = ConnectionPool.from_url(
        settings.redis_url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        encoding="utf8",
    )
    return ArqRedis(connection_pool=pool, default_queue_name=QUEUE)


def _crons(settings: Settings, *, burst: bool) -> list[CronJob]:
    """The schedule; a burst worker (tests) keeps only expiry and lifts.

    A burst worker stops once its queue is empty, and a cron firing during it
    by the wall clock would make a test's outcome depend on the second it ran;
    the sequencer, sweepers and reminders run there only when enqueued.
    """
    every = set(range(0, 60, settings.expiry_interval_minutes))
    due = [
        # Names of their own: sharing a function's name would replace the on-demand
        # job's settings (kept result) with the cron's.
        cron(
            job,
            name=f"cron:{job.__name__}",
            minute=every,
            second=0,
            run_at_startup=True,
            unique=True,
        )
        for job in (expire_exclusions, apply_lifts)
    ]
    if burst:
        return due
    return [
        *due,
        cron(
            sequence_audit,
            name="cron:sequence_audit",
            second=set(range(60)),
            run_at_startup=True,
            unique=True,
            timeout=60,
        ),
        cron(send_reminders, name="cron:send_reminders", minute=every, second=20, unique=True),
        cron(sweep_inbound, name="cron:sweep_inbound", second=10, unique=True),
        cron(sweep_messages, name="cron:sweep_messages", second=40, unique=True),
        cron(
            sweep_deliveries,
            name="cron:sweep_deliveries",
            second=set(range(0, 60, SWEEP_SECONDS)),
            run_at_startup=True,
            unique=True,
        ),
        cron(
            remind_rescreening,
            name="cron:remind_rescreening",
            hour={REMINDER_HOUR},
            minute={0},
            second=0,
            unique=True,
        ),
    ]


def create_worker(
    settings: Settings,
    *,
    services: Services | None = None,
    burst: bool = False,
    handle_signals: bool = True,
) -> Worker:
    """An ARQ worker for NSER's jobs, on queue :data:`core.queue.QUEUE`.

    Given ``services`` (tests, ``nser serve``), jobs use them and the caller
    closes them; otherwise the worker opens its own at start-up and closes them
    at shutdown. The audit sequencer runs every second (one at a time across
    workers, by its own lock). The SMS gateway is the one ``NSER_SMS_GATEWAY``
    names.

    Raises:
        ValueError: the SMS gateway's settings are incomplete.
    """
    gateway = build_sms_gateway(settings)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["services"] = opened = services or open_services(settings)
        ctx["sms_gateway"] = gateway
        ctx["sms_rate"] = SendRate(opened.redis, settings.sms_rate)
        ctx["push"] = Push.open(per_operator=settings.webhook_concurrency)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "push" in ctx:
            await ctx["push"].close()
        if services is None and "services" in ctx:
            await ctx["services"].close()

    return Worker(
        functions=[
            expire_exclusions,
            apply_lifts,
            send_reminders,
            remind_rescreening,
            sequence_audit,
            sweep_inbound,
            sweep_messages,
            func(send_message, name="send_sms", keep_result=0),
            func(process_sms, name="process_sms", keep_result=0),
            # No result kept: a delivery's job id must be free again as soon as it ends
            # (the sweeper may enqueue it anew). Slot waits re-defer with arq.Retry, which
            # counts as a try, hence the high max_tries; an attempt takes at most ~25 s.
            func(
                deliver_webhook,
                name=DELIVERY_JOB,
                keep_result=0,
                max_tries=1_000_000,
                timeout=60,
            ),
        ],
        cron_jobs=_crons(settings, burst=burst),
        timezone=NAIROBI,
        queue_name=QUEUE,
        redis_pool=worker_redis(settings),
        on_startup=startup,
        on_shutdown=shutdown,
        max_jobs=settings.worker_jobs,
        burst=burst,
        handle_signals=handle_signals,
        poll_delay=POLL_SECONDS,
    )
