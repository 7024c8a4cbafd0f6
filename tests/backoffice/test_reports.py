"""Reports under Pilot at 80×24: the month's totals, the CSV written to the reports
directory only, audited, and refused to a viewer."""

from __future__ import annotations

from datetime import date
from typing import Any

from textual.pilot import Pilot
from textual.widgets import ProgressBar

from backoffice.app import BackofficeApp
from backoffice.screens.reports import ReportsScreen
from core import assessments
from core.models import OperatorUsage, Role
from core.periods import Period
from core.services import Services, open_services
from core.settings import Settings
from tests.backoffice.conftest import (
    SIZE,
    AppFactory,
    cells,
    settle,
    sign_in,
    status,
    type_into,
)
from tests.support.audit import refused_actions
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.push import register
from tests.support.staff import Member, excluded, member


async def open_reports(pilot: Pilot[Any], who: Member, clock: Clock) -> None:
    await sign_in(pilot, who, clock)
    await pilot.press("e")
    await settle(pilot)


async def month_of_activity(services: Services, clock: Clock, officer: Member) -> None:
    """Two exclusions on two days, a DSM-5 result, an operator's pushes and lookups."""
    operator_id, _, _ = await register(
        services, name="Tatu", url="https://tatu.example/h", customers={"c": "+254712000001"}
    )
    await excluded(services, "+254712000001", Period.SIX_MONTHS, key="ussd:a")
    clock.advance(days=-2)
    await excluded(services, "+254712000002", Period.ONE_YEAR, key="ussd:b")
    clock.advance(days=2)
    async with services.db() as db:
        await assessments.record_dsm5(
            db,
            principal=officer.principal,
            keyring=services.keyring,
            msisdn="+254712000003",
            met=[0, 1, 2, 3],
            request_key="backoffice:dsm5:t",
            language="sw",
            now=services.clock(),
        )
        db.add(
            OperatorUsage(
                operator_id=operator_id,
                day=date(2026, 11, 20),
                lookups=120,
                subscription_changes=3,
            )
        )
        await db.commit()


async def test_an_officer_sees_the_month_and_exports_it_as_csv_once(
    services: Services, settings: Settings, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    await month_of_activity(services, clock, olive)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_reports(pilot, olive, clock)
        assert status(pilot) == "Figures for 2026-11: aggregates only."
        assert cells(pilot, "#totals") == [
            ["Exclusions", "ussd", "2"],
            ["Screenings", "dsm5 mild", "1"],
            ["Lookups", "Tatu", "120"],
            ["Subscription changes", "Tatu", "3"],
            ["Pushes pending", "Tatu", "1"],
        ]
        bar = pilot.app.screen.query_one("#progress", ProgressBar)
        assert not bar.display
        seen: list[tuple[float, float | None]] = []
        bar.watch(bar, "progress", lambda done: seen.append((done, bar.total)), init=False)
        await pilot.press("ctrl+s")
        await settle(pilot)
        path = settings.reports_path / "nser-2026-11.csv"
        assert status(pilot) == f"Exported to {path}"
        assert bar.display
        assert (bar.progress, bar.total) == (5, 5)
        assert seen == [(n, 5) for n in range(1, 6)]  # the month's four queries, then the file
        await pilot.press("ctrl+s")  # never over an existing file
        await settle(pilot)
        assert status(pilot) == (
            "! Choose a new file name: letters, digits, '.', '_' and '-' only."
        )
        assert not bar.display
        for name in ("../outside", "/etc/passwd", ".hidden", "a b"):
            await type_into(pilot, "#file", name)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert status(pilot).startswith("! Choose a new file name"), name
        await type_into(pilot, "#month", "2026-10")
        await pilot.press("enter")
        await settle(pilot)
        assert cells(pilot, "#totals") == [["Nothing this month", "", "0"]]
        await type_into(pilot, "#month", "October")
        await pilot.press("enter")
        await settle(pilot)
        assert status(pilot) == "! Write the month as YYYY-MM, e.g. 2026-11."
    assert path.read_text().splitlines() == [
        "section,day,group,subgroup,measure,value",
        "exclusions,2026-11-19,ussd,1y,created,1",
        "exclusions,2026-11-21,ussd,6m,created,1",
        "screenings,,dsm5,mild,results,1",
        "operator_usage,2026-11-20,Tatu,,lookups,120",
        "operator_usage,2026-11-20,Tatu,,subscription_changes,3",
        "deliveries,,Tatu,,pending,1",
    ]
    assert [p.name for p in settings.reports_path.iterdir()] == ["nser-2026-11.csv"]
    [exported] = [e for e in await rows("audit_entry") if e["action"] == "report.exported"]
    assert (exported["actor"], exported["after"]) == (
        "staff:olive",
        {"month": "2026-11", "file": "nser-2026-11.csv", "rows": 6},
    )


async def test_a_viewer_sees_the_figures_but_cannot_export(
    services: Services, settings: Settings, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    vera = await member(services, "vera", Role.VIEWER)
    await excluded(services)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_reports(pilot, vera, clock)
        assert cells(pilot, "#totals") == [["Exclusions", "ussd", "1"]]
        screen = pilot.app.screen
        assert isinstance(screen, ReportsScreen)
        assert screen.check_action("export", ()) is None
        await screen.action_export()  # as if the key were not dimmed: core refuses
        await settle(pilot)
        assert status(pilot) == "! Refused: this needs the officer role."
    assert not settings.reports_path.exists()
    assert await refused_actions(rows) == ["report.export"]


async def test_an_unwritable_reports_directory_gets_a_clear_line_and_no_audit_entry(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    blocker = settings.data_dir / "not-a-directory"
    blocker.write_text("")
    elsewhere = settings.model_copy(update={"report_dir": blocker})
    app = BackofficeApp(open_services=lambda: open_services(elsewhere, clock=clock, pool_size=1))
    async with app.run_test(size=SIZE) as pilot:
        await open_reports(pilot, olive, clock)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status(pilot) == (
            f"! The file could not be written in {blocker}; nothing was exported."
        )
    assert [e for e in await rows("audit_entry") if e["action"] == "report.exported"] == []
