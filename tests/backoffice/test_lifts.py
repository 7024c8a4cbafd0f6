"""Maker-checker lifts in two back-office sessions, and every role boundary on the screen."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from core import staff
from core.models import Role
from core.services import Services
from tests.backoffice.conftest import SIZE, AppFactory, cells, settle, sign_in, status, type_into
from tests.support.audit import refused_actions
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.staff import Member, excluded, member

REASON = "Citizen came to the office with ID; asked to lift."


async def open_lifts(pilot: Pilot[Any], who: Member, clock: Clock) -> None:
    await sign_in(pilot, who, clock)
    await pilot.press("l")
    await settle(pilot)


async def request_lift(pilot: Pilot[Any], reference: str, reason: str = REASON) -> None:
    await pilot.press("n")
    await settle(pilot)
    await type_into(pilot, "#reference", reference)
    await type_into(pilot, "#reason", reason)
    await pilot.press("enter")
    await settle(pilot)


async def test_an_officer_requests_and_another_supervisor_approves_in_two_sessions(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    sam = await member(services, "sam", Role.SUPERVISOR)
    exclusion = await excluded(services)
    officer_app, supervisor_app = make_app(), make_app()
    async with officer_app.run_test(size=SIZE) as officer:
        await open_lifts(officer, olive, clock)
        await request_lift(officer, exclusion.reference)
        assert status(officer) == (
            f"Lift #1 requested for {exclusion.reference}; a supervisor decides next."
        )
        assert cells(officer, "#requests") == [
            ["1", exclusion.reference, "awaiting decision", "olive", "-", "-"]
        ]
        await officer.press("y")  # an officer's approve key does nothing
        await settle(officer)
        async with supervisor_app.run_test(size=SIZE) as supervisor:
            clock.advance(seconds=30)
            await open_lifts(supervisor, sam, clock)
            await supervisor.press("y")
            await settle(supervisor)
            await supervisor.press("enter")
            await settle(supervisor)
            assert status(supervisor) == "Lift #1 approved: it takes effect on 28/11/2026 12:00."
            assert cells(supervisor, "#requests") == [
                ["1", exclusion.reference, "cooling off", "olive", "sam", "28/11/2026 12:00"]
            ]
        await officer.press("r")
        await settle(officer)
        assert cells(officer, "#requests")[0][2:] == [
            "cooling off",
            "olive",
            "sam",
            "28/11/2026 12:00",
        ]
    [lift] = await rows("lift_request")
    assert (lift["status"], lift["reason"]) == ("approved", REASON)
    trail = [
        (e["actor"], e["action"])
        for e in await rows("audit_entry")
        if e["action"].startswith("lift.")
    ]
    assert trail == [("staff:olive", "lift.requested"), ("staff:sam", "lift.approved")]


async def test_a_supervisor_cannot_approve_their_own_request(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    sam = await member(services, "sam", Role.SUPERVISOR)
    exclusion = await excluded(services)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_lifts(pilot, sam, clock)
        await request_lift(pilot, exclusion.reference)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert status(pilot) == (
            "! Refused: you made this request, so someone else must decide it."
        )
        await pilot.press("x")
        await settle(pilot)
        await type_into(pilot, "#note", "I asked for it myself.")
        await pilot.press("enter")
        await settle(pilot)
        assert status(pilot) == (
            "! Refused: you made this request, so someone else must decide it."
        )
        assert cells(pilot, "#requests")[0][2] == "awaiting decision"
    assert await refused_actions(rows) == ["lift.approve", "lift.reject"]


async def test_a_viewer_sees_the_keys_dimmed_and_core_refuses_a_disabled_officer(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    vera = await member(services, "vera", Role.VIEWER)
    olive = await member(services, "olive", Role.OFFICER)
    exclusion = await excluded(services)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_lifts(pilot, vera, clock)
        screen = app.screen
        assert screen.check_action("request", ()) is None  # shown, dimmed
        assert screen.check_action("approve", ()) is None
        await pilot.press("n")
        await settle(pilot)
        assert type(app.screen).__name__ == "LiftsScreen"  # no form opened
    async with make_app().run_test(size=SIZE) as pilot:
        clock.advance(seconds=30)
        await open_lifts(pilot, olive, clock)
        async with services.db() as db:  # an administrator disables olive meanwhile
            await staff.disable(db, username="olive", actor="cli:admin", now=clock.now)
            await db.commit()
        await request_lift(pilot, exclusion.reference)
        assert status(pilot) == "! Refused: your account has been disabled."
    assert await rows("lift_request") == []
    refusal = (await rows("audit_entry"))[-1]
    assert (refusal["actor"], refusal["action"], refusal["after"]["action"]) == (
        "staff:olive",
        "staff.refused",
        "lift.request",
    )


async def test_bad_lift_input_gets_clear_messages_and_changes_nothing(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    exclusion = await excluded(services)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_lifts(pilot, olive, clock)
        await request_lift(pilot, "K7M3-Q9PA")
        assert status(pilot) == "! No exclusion has that reference."
        await request_lift(pilot, exclusion.reference, reason="because")
        assert status(pilot) == "! Give a reason of 10 to 500 characters."
        await request_lift(pilot, exclusion.reference)
        await request_lift(pilot, exclusion.reference)
        assert status(pilot) == "! That exclusion already has a lift request under way."
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "LiftsScreen"
    assert len(await rows("lift_request")) == 1
