"""Running NSER's real ARQ worker in burst mode against the test Redis."""

from __future__ import annotations

from core.services import Services
from core.settings import Settings
from nser.worker import create_worker


async def drain(settings: Settings, services: Services) -> None:
    """Run every queued job (and the jobs they enqueue) until the queue is empty."""
    worker = create_worker(settings, services=services, burst=True, handle_signals=False)
    try:
        await worker.async_run()
    finally:
        await worker.close()


async def run_job(settings: Settings, services: Services, function: str) -> None:
    """Enqueue ``function`` (a cron job, e.g. ``sweep_inbound``) once and drain the queue."""
    await services.queue.enqueue_job(function)
    await drain(settings, services)
