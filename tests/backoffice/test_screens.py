"""Dashboard, search and audit under Pilot at 80×24: what is shown, and what was recorded."""

from __future__ import annotations

import socket

from textual.widgets import Static

from backoffice.app import BackofficeApp
from core.models import Role
from core.periods import Period
from core.services import Services, open_services
from core.settings import Settings
from tests.backoffice.conftest import (
    SIZE,
    AppFactory,
    cells,
    screen_text,
    settle,
    sign_in,
    status,
    type_into,
)
from tests.support.audit import as_superuser, sequence
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.push import register
from tests.support.staff import excluded, member


async def test_the_dashboard_counts_by_channel_and_period_and_refreshes(
    services: Services, make_app: AppFactory, clock: Clock
) -> None:
    vera = await member(services, "vera", Role.VIEWER)
    await excluded(services, "+254712000001", Period.SIX_MONTHS, key="ussd:a")
    clock.advance(days=-3)  # Wednesday 18 November, earlier this week
    await excluded(services, "+254712000002", Period.PERMANENT, key="ussd:b")
    clock.advance(days=-7)  # last week: not counted as new, still in force
    await excluded(services, "+254712000003", Period.ONE_YEAR, key="ussd:c")
    clock.advance(days=10)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, vera, clock)
        assert cells(pilot, "#new") == [
            ["USSD", "1", "2"],
            ["SMS", "0", "0"],
            ["Back-office", "0", "0"],
            ["Total", "1", "2"],
        ]
        assert cells(pilot, "#active") == [
            ["6 months", "1"],
            ["1 year", "1"],
            ["5 years", "0"],
            ["Permanently", "1"],
            ["Total", "3"],
        ]
        assert str(app.screen.query_one("#as-of", Static).render()) == (
            "Figures at 21/11/2026 12:00; the week began on Monday 16/11/2026."
        )
        await excluded(services, "+254712000004", Period.FIVE_YEARS, key="ussd:d")
        await pilot.press("r")
        await settle(pilot)
        assert cells(pilot, "#new")[0] == ["USSD", "2", "3"]


async def test_the_dashboard_shows_pushes_pending_and_failing_sms_failures_and_checkpoint_age(
    services: Services, settings: Settings, make_app: AppFactory, clock: Clock
) -> None:
    vera = await member(services, "vera", Role.VIEWER)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, vera, clock)
        assert cells(pilot, "#health") == [
            ["Pushes pending", "0"],
            ["Oldest pending", "-"],
            ["Pushes failed", "0"],
            ["Failing", "-"],
            ["SMS failed, 24 h", "0"],
            ["Last checkpoint", "-"],
        ]
    customers = {"c-1": "+254712000001", "c-2": "+254712000002"}
    await register(services, name="Tatu", url="https://tatu.example/h", customers=customers)
    await register(services, name="Moja", url="https://moja.example/h", customers=customers)
    await excluded(services, "+254712000001", key="ussd:a")
    await sequence(services)
    clock.advance(minutes=12)
    await excluded(services, "+254712000002", key="ussd:b")
    await as_superuser(
        settings,
        "UPDATE webhook_delivery SET status = 'failed' WHERE event_id = 1",
        "UPDATE webhook_delivery SET status = 'failed' WHERE id = 3",
        "UPDATE sms_message SET status = 'failed', final_at = '2026-11-20 12:00+00' WHERE id = 1",
        "UPDATE sms_message SET status = 'failed', final_at = '2026-11-19 12:00+00' WHERE id = 2",
    )
    clock.advance(minutes=3)
    async with make_app().run_test(size=SIZE) as pilot:
        await sign_in(pilot, vera, clock)
        assert cells(pilot, "#health") == [
            ["Pushes pending", "1"],
            ["Oldest pending", "3 min"],
            ["Pushes failed", "3"],
            ["Failing", "Tatu (2), Moja (1)"],
            ["SMS failed, 24 h", "1"],
            ["Last checkpoint", "15 min"],
        ]


async def test_search_by_number_reference_and_bst_shows_and_audits_each_view(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    vera = await member(services, "vera", Role.VIEWER)
    exclusion = await excluded(services, "0712345678")
    [subject] = await rows("subject")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, vera, clock)
        await pilot.press("slash")
        await settle(pilot)
        for query in ("0712 345 678", exclusion.reference.lower(), subject["bst"]):
            await type_into(pilot, "#query", query)
            await pilot.press("enter")
            await settle(pilot)
            assert status(pilot) == "Shown. Viewing this person was recorded in the audit log."
            shown = screen_text(pilot)
            assert f"{subject['bst']} · phone +2547*****678 · Kiswahili" in shown
            assert "712345678" not in shown
            assert cells(pilot, "#exclusions")[0][:4] == [
                exclusion.reference,
                "1 year",
                "active",
                "ussd",
            ]
        for query, message in (
            ("0201234567", "! Not a Kenyan mobile number, a reference (K7M3-Q9PA) or a BST."),
            ("hello", "! Not a Kenyan mobile number, a reference (K7M3-Q9PA) or a BST."),
            (
                exclusion.reference[:-1] + ("2" if exclusion.reference[-1] != "2" else "3"),
                "! That reference or BST has a typing mistake: its last character does not match.",
            ),
            ("0722000000", "! No one in the register matches. (This search was recorded.)"),
        ):
            await type_into(pilot, "#query", query)
            await pilot.press("enter")
            await settle(pilot)
            assert status(pilot) == message, query
    viewed = [
        (e["actor"], e["action"], e["subject"], e["after"])
        for e in await rows("audit_entry")
        if e["action"].startswith("subject.") and e["actor"] != "citizen:ussd"
    ]
    assert viewed == [
        ("staff:vera", "subject.viewed", subject["bst"], {"by": "msisdn"}),
        ("staff:vera", "subject.viewed", subject["bst"], {"by": "reference"}),
        ("staff:vera", "subject.viewed", subject["bst"], {"by": "bst"}),
        ("staff:vera", "subject.not_found", None, {"by": "msisdn"}),
    ]
    assert "722000000" not in str(await rows("audit_entry"))


async def test_audit_browse_filter_and_verify_finds_a_tampered_entry(
    services: Services, settings: Settings, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    vera = await member(services, "vera", Role.VIEWER)
    await excluded(services)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, vera, clock)
        await pilot.press("a")
        await settle(pilot)
        assert [row[3] for row in cells(pilot, "#entries")][:3] == [
            "staff.signed_in",
            "exclusion.created",
            "subject.created",
        ]
        await type_into(pilot, "#action", "exclusion.")
        await pilot.press("enter")
        await settle(pilot)
        assert [row[3] for row in cells(pilot, "#entries")] == ["exclusion.created"]
        await sequence(services)
        await pilot.press("escape", "v")
        await settle(pilot)
        assert status(pilot) == "Audit log verified: all 7 entries are intact."
        await sequence(services)
        await as_superuser(settings, "UPDATE audit_entry SET action = 'x' WHERE id = 6")
        await pilot.press("v")
        await settle(pilot)
        assert status(pilot).startswith("! Audit log MISMATCH: ")
        assert "6" in status(pilot)
    verified = [e["after"] for e in await rows("audit_entry") if e["action"] == "audit.verified"]
    assert verified == [
        {"leaves": 7, "checkpoints": 1, "ok": True},
        {"leaves": 8, "checkpoints": 0, "ok": False},  # the rebuilt tree matches no checkpoint
    ]


async def test_the_audit_screen_lists_the_signed_checkpoints_newest_first(
    services: Services, make_app: AppFactory, clock: Clock
) -> None:
    vera = await member(services, "vera", Role.VIEWER)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, vera, clock)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert "No checkpoint signed yet." in screen_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        first = await sequence(services)
        await excluded(services)
        clock.advance(seconds=10)
        second = await sequence(services)
        await pilot.press("c")
        await settle(pilot)
        shown = screen_text(pilot)
    assert first.checkpoint is not None
    assert second.checkpoint is not None
    newest = f"{second.size} entries, signed "
    older = f"{first.size} entries, signed "
    assert newest in shown
    assert older in shown
    assert shown.index(newest) < shown.index(older)
    assert f"root {second.checkpoint.root.hex()[:16]}" in shown


async def test_a_database_that_does_not_answer_gets_a_clear_line_not_a_crash(
    settings: Settings, clock: Clock
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    gone = settings.model_copy(update={"database_url": f"postgresql://nser@127.0.0.1:{port}/x"})
    app = BackofficeApp(open_services=lambda: open_services(gone, clock=clock, pool_size=1))
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "#username", "vera")
        await type_into(pilot, "#password", "correct horse battery")
        await type_into(pilot, "#code", "123456")
        await pilot.press("enter")
        await settle(pilot)
        assert status(pilot) == (
            "! The database is not answering. Nothing was changed; try again shortly."
        )
        assert type(app.screen).__name__ == "LoginScreen"
