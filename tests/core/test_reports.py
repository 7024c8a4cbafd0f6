"""Core reports: a progress callback that counts every step of a month's report and export."""

from __future__ import annotations

from datetime import date

from core import reports
from core.models import Role
from core.periods import Period
from core.services import Services
from core.settings import Settings
from tests.support.staff import excluded, member


async def test_monthly_and_export_report_each_step_up_to_the_total(
    services: Services, settings: Settings
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    await excluded(services, "+254712000001", Period.SIX_MONTHS, key="ussd:a")
    steps: list[tuple[int, int]] = []
    async with services.db() as db:
        report = await reports.monthly(
            db,
            principal=olive.principal,
            month=date(2026, 11, 1),
            progress=lambda *s: steps.append(s),
        )
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert report.total("exclusions", "created") == 1
    steps.clear()
    async with services.db() as db:
        path = await reports.export(
            db,
            principal=olive.principal,
            month=date(2026, 11, 1),
            directory=settings.reports_path,
            name="with-progress",
            now=services.clock(),
            progress=lambda *s: steps.append(s),
        )
        await db.commit()
    assert steps == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert path.read_text().splitlines()[1] == "exclusions,2026-11-21,ussd,6m,created,1"
