"""Jobs recorded in a transaction reach ARQ only after it commits; a real burst worker runs them."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import text

from core import exclusions, queue
from core.models import Channel
from core.periods import Period
from core.services import Services, open_services
from core.settings import Settings
from nser.worker import create_worker
from tests.support.clock import Clock
from tests.support.databases import RowFetcher


async def queued(services: Services) -> list[str]:
    return sorted(str(job.job_id) for job in await services.queue.queued_jobs())


async def test_a_job_is_enqueued_after_commit_and_run_by_the_worker(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher
) -> None:
    async with services.db() as db:
        await exclusions.self_exclude(
            db,
            keyring=services.keyring,
            msisdn="+254712000001",
            period=Period.SIX_MONTHS,
            channel=Channel.USSD,
            request_key="k1",
            language="en",
            actor="citizen:test",
            now=clock.now,
        )
        await queue.later(db, "expire_exclusions", job_id="expire-after-commit")
        assert await queued(services) == []  # not before the commit
        missed = await queue.commit(db, services.queue)
    assert missed == []
    # With the confirmation SMS the exclusion wrote (core.notices), also queued after commit.
    assert await queued(services) == ["expire-after-commit", "sms:1"]
    clock.advance(days=200)
    worker = create_worker(settings, services=services, burst=True, handle_signals=False)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    assert [row["status"] for row in await rows("exclusion")] == ["expired"]


async def test_a_rollback_or_a_failed_commit_enqueues_nothing(services: Services) -> None:
    async with services.db() as db:
        await queue.later(db, "expire_exclusions", job_id="rolled-back")
        await db.rollback()
    async with services.db() as db:
        await queue.later(db, "expire_exclusions", job_id="failed-commit")
        # A deferred constraint fails at COMMIT itself.
        await (await db.connection()).execute(
            text("CREATE TEMP TABLE t (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        )
        await (await db.connection()).execute(text("INSERT INTO t VALUES (1), (1)"))
        with pytest.raises(IntegrityError):
            await queue.commit(db, services.queue)
    async with services.db() as db:
        await (await db.connection()).execute(text("SELECT 1"))
        await queue.commit(db, services.queue)  # nothing left over from the failed one
    assert await queued(services) == []


async def test_redis_down_at_commit_keeps_the_commit_and_reports_the_job(
    settings: Settings, clock: Clock, rows: RowFetcher, services: Services
) -> None:
    broken = open_services(
        settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}), clock=clock
    )
    try:
        async with broken.db() as db:
            await exclusions.self_exclude(
                db,
                keyring=broken.keyring,
                msisdn="+254712000002",
                period=Period.ONE_YEAR,
                channel=Channel.USSD,
                request_key="k2",
                language="sw",
                actor="citizen:test",
                now=clock.now,
            )
            await queue.later(db, "expire_exclusions", job_id="lost-from-queue")
            missed = await queue.commit(db, broken.queue)
    finally:
        await broken.close()
    assert [job.job_id for job in missed] == ["sms:1", "lost-from-queue"]
    assert len(await rows("exclusion")) == 1
