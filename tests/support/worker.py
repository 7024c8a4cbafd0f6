"""Running NSER's jobs as production does: enqueued on the real Redis, run by a real ARQ worker."""

from __future__ import annotations

import uuid
from typing import Any

from arq import create_pool

from core.queue import QUEUE
from core.services import Services
from core.settings import Settings
from nser.worker import create_worker, redis_settings


async def run_job(settings: Settings, services: Services, function: str, **options: Any) -> Any:
    """Enqueue ``function`` and run a burst worker until the queue is empty; the job's result.

    ARQ's enqueue options (``_job_id``, ``_defer_by``…) pass through ``options``; the
    job id defaults to a fresh one, so a test may run the same job twice.
    """
    options.setdefault("_job_id", f"{function}-{uuid.uuid4().hex}")
    pool = await create_pool(redis_settings(settings), default_queue_name=QUEUE)
    try:
        job = await pool.enqueue_job(function, **options)
        assert job is not None, f"{function} was already queued"
        worker = create_worker(settings, services=services, burst=True, handle_signals=False)
        try:
            await worker.async_run()
        finally:
            await worker.close()
        return await job.result(timeout=5)
    finally:
        await pool.aclose()


async def drain(settings: Settings, services: Services) -> None:
    """Run every queued job (and the jobs they enqueue) on a burst worker until none is left."""
    worker = create_worker(settings, services=services, burst=True, handle_signals=False)
    try:
        await worker.async_run()
    finally:
        await worker.close()
