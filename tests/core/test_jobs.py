"""The expiry job, run by a real ARQ worker in burst mode against the real Redis."""

from __future__ import annotations

from core import exclusions
from core.models import Channel
from core.periods import Period
from core.services import Services
from core.settings import Settings
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.worker import run_job


async def test_worker_expires_due_exclusions_and_audits(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher
) -> None:
    async with services.db() as db:
        for n, period in enumerate((Period.SIX_MONTHS, Period.ONE_YEAR, Period.PERMANENT)):
            await exclusions.self_exclude(
                db,
                keyring=services.keyring,
                msisdn=f"+25471200000{n}",
                period=period,
                channel=Channel.USSD,
                request_key=f"k{n}",
                language="sw",
                actor="citizen:test",
                now=clock.now,
            )
        await db.commit()
    clock.advance(days=366)  # past 6 months and 1 year, never past permanent

    assert await run_job(settings, services, "expire_exclusions") == 2

    statuses = sorted(row["status"] for row in await rows("exclusion"))
    assert statuses == ["active", "expired", "expired"]
    expired = [e for e in await rows("audit_entry") if e["action"] == "exclusion.expired"]
    assert len(expired) == 2
    assert {entry["actor"] for entry in expired} == {"system:expiry"}
    events = [e["type"] for e in await rows("exclusion_event")]
    assert events.count("exclusion.expired") == 2

    clock.advance(days=1)
    async with services.db() as db:
        assert await exclusions.expire_due(db, now=clock.now) == 0
