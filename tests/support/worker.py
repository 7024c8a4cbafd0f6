"""Running one job through a real ARQ worker in burst mode, against the real Redis."""

from __future__ import annotations

import uuid
from typing import Any

from arq import create_pool

from core.queue import QUEUE
from core.services import Services
from core.settings import Settings
from nser.worker import create_worker, redis_settings


async def run_job(settings: Settings, services: Services, function: str) -> Any:
    """Enqueue ``function`` under a fresh job id, run the worker until idle; return its result."""
    pool = await create_pool(redis_settings(settings), default_queue_name=QUEUE)
    try:
        job = await pool.enqueue_job(function, _job_id=f"{function}-{uuid.uuid4().hex}")
        assert job is not None
        worker = create_worker(settings, services=services, burst=True, handle_signals=False)
        try:
            await worker.async_run()
        finally:
            await worker.close()
        return await job.result(timeout=5)
    finally:
        await pool.aclose()
