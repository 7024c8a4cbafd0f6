"""The identity queue and detach by maker-checker under Pilot at 80×24: what staff see (never
an ID's value), what changed in the database and the audit log, and every role boundary."""

from __future__ import annotations

from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Input, Label, Static

from core import subjects
from core.exclusions import Outcome
from core.models import IdentifierKind, Role
from core.services import Services
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
from tests.support.audit import refused_actions
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.staff import Member, member, self_excluded

LINE_A = "+254712000001"
LINE_B = "+254712000002"
ID = "12345678"
REASON = "Recycled number: the new holder came in with papers."


def detail(pilot: Pilot[Any]) -> str:
    """The line below the table: the selected row in words."""
    return str(pilot.app.screen.query_one("#detail", Static).render())


async def claimed_by(services: Services, msisdn: str) -> Outcome:
    """``msisdn`` self-excluded by USSD, claiming the national ID :data:`ID`."""
    document = subjects.identifier(services.keyring, IdentifierKind.NATIONAL_ID, ID)
    return await self_excluded(services, msisdn, document=document)


async def open_screen(pilot: Pilot[Any], who: Member, clock: Clock, key: str) -> None:
    await sign_in(pilot, who, clock)
    await pilot.press(key)
    await settle(pilot)


async def resolve(pilot: Pilot[Any], note: str) -> None:
    await pilot.press("y")
    await settle(pilot)
    await type_into(pilot, "#note", note)
    await pilot.press("enter")
    await settle(pilot)


async def test_an_officer_sees_a_conflict_and_a_supervisor_resolves_it_keeping_both_excluded(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    one = await claimed_by(services, LINE_A)
    two = await claimed_by(services, LINE_B)
    olive = await member(services, "olive", Role.OFFICER)
    sam = await member(services, "sam", Role.SUPERVISOR)
    links_before = await rows("subject_identifier")
    async with make_app().run_test(size=SIZE) as officer:
        await open_screen(officer, olive, clock, "i")
        [row] = cells(officer, "#conflicts")
        assert row[:4] == ["1", "Kenyan ID", two.subject.bst, one.subject.bst]
        shown = screen_text(officer)
        assert "Identity queue" in shown
        assert detail(officer).startswith(f"#1: one Kenyan ID is linked to {two.subject.bst}")
        assert ID not in shown
        assert officer.app.screen.check_action("resolve", ()) is None  # dimmed for an officer
        await officer.press("y")
        await settle(officer)
        assert type(officer.app.screen).__name__ == "IdentityScreen"  # no form opened
    async with make_app().run_test(size=SIZE) as supervisor:
        clock.advance(seconds=30)
        await open_screen(supervisor, sam, clock, "i")
        await resolve(supervisor, "short")
        assert status(supervisor) == "! Give a note of 10 to 500 characters."
        await resolve(supervisor, "Both hold copies; the second is a typing slip.")
        assert status(supervisor) == "Conflict #1 resolved."
        assert cells(supervisor, "#conflicts") == []
        assert detail(supervisor) == "No ID is claimed by two people."
        await supervisor.press("o")  # all, resolved ones included
        await settle(supervisor)
        assert len(cells(supervisor, "#conflicts")) == 1
        assert detail(supervisor).endswith("the second is a typing slip.")
    [conflict] = await rows("identifier_conflict")
    assert (conflict["resolved_by"], conflict["resolution"]) == (
        "staff:sam",
        "Both hold copies; the second is a typing slip.",
    )
    # Resolving weakens nobody: every link and both exclusions stay.
    assert await rows("subject_identifier") == links_before
    assert [e["status"] for e in await rows("exclusion")] == ["active", "active"]
    resolved = [e for e in await rows("audit_entry") if e["action"].startswith("identifier.conf")]
    assert [(e["actor"], e["action"]) for e in resolved][-1] == (
        "staff:sam",
        "identifier.conflict_resolved",
    )
    assert ID not in str(await rows("audit_entry"))


async def test_a_viewer_is_refused_the_identity_queue_and_detaches_in_core(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    await claimed_by(services, LINE_A)
    await claimed_by(services, LINE_B)
    vera = await member(services, "vera", Role.VIEWER)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_screen(pilot, vera, clock, "i")
        assert status(pilot) == "! Refused: this needs the officer role."
        assert cells(pilot, "#conflicts") == []
        await pilot.press("u")
        await settle(pilot)
        assert status(pilot) == "! Refused: this needs the officer role."
        assert pilot.app.screen.check_action("request", ()) is None
    assert await refused_actions(rows) == ["identifier.conflict_list", "identifier.detach_list"]


async def request_detach(pilot: Pilot[Any], bst: str, typed: str, reason: str = REASON) -> None:
    """Open the form and fill it as staff do: each field, then Enter to the next (the last
    Enter sends it)."""
    await pilot.press("n")
    await settle(pilot)
    for field, text in (("bst", bst), ("value", typed), ("reason", reason)):
        focused = pilot.app.focused
        assert isinstance(focused, Input)
        assert focused.id == field
        focused.value = text
        await pilot.press("enter")
    await settle(pilot)


async def decide(pilot: Pilot[Any], key: str) -> None:
    await pilot.press(key)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def test_an_officer_asks_and_another_supervisor_detaches_only_that_id(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    person = await claimed_by(services, LINE_A)
    bst = person.subject.bst
    olive = await member(services, "olive", Role.OFFICER)
    sam = await member(services, "sam", Role.SUPERVISOR)
    async with make_app().run_test(size=SIZE) as officer:
        await open_screen(officer, olive, clock, "u")
        await request_detach(officer, bst, "id 1234 5678")
        assert status(officer) == f"Detach #1 requested for {bst}; a supervisor decides next."
        assert cells(officer, "#detaches") == [
            ["1", bst, "national ID", "awaiting decision", "olive", "-"]
        ]
        assert detail(officer) == f"#1, national ID of {bst}: {REASON}"
        assert ID not in screen_text(officer)
        await officer.press("y")  # an officer's approve key does nothing
        await settle(officer)
        async with make_app().run_test(size=SIZE) as supervisor:
            clock.advance(seconds=30)
            await open_screen(supervisor, sam, clock, "u")
            await decide(supervisor, "y")
            assert status(supervisor) == "Detach #1 approved: the link is gone."
            assert cells(supervisor, "#detaches") == []  # open ones only
            await supervisor.press("o")
            await settle(supervisor)
            assert cells(supervisor, "#detaches") == [
                ["1", bst, "national ID", "detached", "olive", "sam"]
            ]  # the kind is kept with the request: the link it was read from is gone
            assert detail(supervisor) == f"#1, national ID of {bst}: {REASON}"
    [made] = await rows("detach_request")
    assert (made["status"], made["reason"], made["kind"]) == ("detached", REASON, "national_id")
    assert [r["kind"] for r in await rows("subject_identifier")] == ["msisdn"]
    [exclusion] = await rows("exclusion")
    assert exclusion["status"] == "active"  # the exclusion itself stays
    trail = [
        (e["actor"], e["action"])
        for e in await rows("audit_entry")
        if e["action"].startswith("identifier.detach")
    ]
    assert trail == [
        ("staff:olive", "identifier.detach_requested"),
        ("staff:sam", "identifier.detach_detached"),
    ]


async def test_a_supervisor_cannot_decide_their_own_detach_and_another_rejects_it(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    person = await self_excluded(services, LINE_A)
    sam = await member(services, "sam", Role.SUPERVISOR)
    sue = await member(services, "sue", Role.SUPERVISOR)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_screen(pilot, sam, clock, "u")
        await request_detach(pilot, person.subject.bst, "0712 000 001")  # a number alone
        await decide(pilot, "y")
        assert status(pilot) == "! Refused: you made this request, so someone else must decide it."
        await decide(pilot, "x")
        assert status(pilot) == "! Refused: you made this request, so someone else must decide it."
        assert cells(pilot, "#detaches")[0][3] == "awaiting decision"
    async with make_app().run_test(size=SIZE) as pilot:
        clock.advance(seconds=30)
        await open_screen(pilot, sue, clock, "u")
        await decide(pilot, "x")
        assert status(pilot) == "Detach #1 rejected."
    assert await refused_actions(rows) == ["identifier.detach_approve", "identifier.detach_reject"]
    [made] = await rows("detach_request")
    assert made["status"] == "rejected"
    assert [r["kind"] for r in await rows("subject_identifier")] == ["msisdn"]


async def test_bad_detach_input_gets_clear_messages_and_changes_nothing(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    person = await claimed_by(services, LINE_A)
    bst = person.subject.bst
    olive = await member(services, "olive", Role.OFFICER)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_screen(pilot, olive, clock, "u")
        for typed in (f"visa {ID}", "id", ID):  # an unknown kind, no value, no kind
            await request_detach(pilot, bst, typed)
            assert status(pilot) == (
                "! Type the kind, then the number: phone, id, maisha, passport or alien."
            ), typed
        await request_detach(pilot, bst, "id 12A45678")
        assert status(pilot) == "! That ID number does not follow its rules."
        await request_detach(pilot, bst, "phone 0201234567")
        assert status(pilot) == "! That is not a Kenyan mobile number."
        await request_detach(pilot, bst, "Passport AK0123456")
        assert status(pilot) == "! That person holds no such number or ID."
        await request_detach(pilot, "BST-NOBODY", f"id {ID}")
        assert status(pilot) == "! That person holds no such number or ID."
        await request_detach(pilot, bst, f"id {ID}", reason="mistake")
        assert status(pilot) == "! Give a reason of 10 to 500 characters."
        await request_detach(pilot, bst, f"id {ID}")
        await request_detach(pilot, bst, f"id {ID}")
        assert status(pilot) == "! A detach of that number or ID is already under way."
    assert len(await rows("detach_request")) == 1
    assert len(await rows("subject_identifier")) == 2


@pytest.mark.parametrize("language", ["en", "sw"])
async def test_the_detach_request_form_fits_80_by_24_in_either_language(
    services: Services, make_app: AppFactory, clock: Clock, language: str
) -> None:
    olive = await member(services, "olive", Role.OFFICER, language=language)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_screen(pilot, olive, clock, "u")
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen.query_one("#form")
        whole = Region(0, 0, *SIZE)
        assert whole.contains_region(form.region)
        fields = list(pilot.app.screen.query(Input))
        assert [f.id for f in fields] == ["bst", "value", "reason"]
        hint = list(pilot.app.screen.query(Label))[-1]  # "Enter to confirm, Esc to cancel"
        for widget in [*fields, hint]:
            assert form.content_region.contains_region(widget.region), widget
