"""The DSM-5 checklist under Pilot at 80×24: stored as a back-office screening, audited,
the helpline texted at a band where NSER refers, and refused below officer."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import SelectionList, Static

from backoffice.screens.checklist import ChecklistScreen
from core import screening
from core.models import Role
from core.services import Services
from tests.backoffice.conftest import (
    SIZE,
    AppFactory,
    screen_text,
    settle,
    sign_in,
    status,
    type_into,
)
from tests.support.audit import refused_actions
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.staff import Member, member


async def open_checklist(pilot: Pilot[Any], who: Member, clock: Clock) -> None:
    await sign_in(pilot, who, clock)
    await pilot.press("k")
    await settle(pilot)


async def tick(pilot: Pilot[Any], *criteria: int) -> None:
    """Tick criteria by their number on the form (1..9) with the keyboard."""
    listing = pilot.app.screen.query_one("#criteria", SelectionList)
    listing.focus()
    for number in criteria:
        listing.highlighted = number - 1
        await pilot.press("space")
    await pilot.pause()


def tally(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#tally", Static).render())


async def test_an_officer_records_a_moderate_checklist_and_the_helpline_is_texted(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_checklist(pilot, olive, clock)
        shown = screen_text(pilot)
        assert "1. Needs to gamble with more and more money" in shown
        assert "9. Relies on others for money" in shown
        assert tally(pilot) == "Criteria met (-): 0 of 9: criteria not met"
        await tick(pilot, 1, 2, 3, 6, 7, 9)
        assert tally(pilot) == "Criteria met (1, 2, 3, 6, 7, 9): 6 of 9: moderate"
        await type_into(pilot, "#phone", "0712 345 678")
        await pilot.press("ctrl+s")
        await settle(pilot)
        [subject] = await rows("subject")
        assert status(pilot) == (
            f"Saved for {subject['bst']}: 6 of 9 criteria, moderate."
            " The helpline is being texted to them."
        )
        assert tally(pilot) == "Criteria met (-): 0 of 9: criteria not met"
        assert app.screen.query_one("#phone").value == ""  # type: ignore[attr-defined]
    [result] = await rows("screening_result")
    assert (result["instrument"], result["score"], result["band"], result["channel"]) == (
        "dsm5",
        6,
        "moderate",
        "backoffice",
    )
    answers = screening.open_answers(services.keyring, result["answers_sealed"])
    assert answers == (0, 0, 0, 1, 1, 0, 0, 1, 0)
    [recorded] = [e for e in await rows("audit_entry") if e["action"] == "screening.recorded"]
    assert (recorded["actor"], recorded["subject"]) == ("staff:olive", subject["bst"])
    assert recorded["after"] == {"instrument": "dsm5", "version": "2013.1", "channel": "backoffice"}
    [sms] = await rows("sms_message")
    assert sms["kind"] == "helpline"
    assert "712345678" not in str(await rows("audit_entry"))


async def test_bad_input_and_a_viewer_are_refused_and_nothing_is_stored(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    vera = await member(services, "vera", Role.VIEWER)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_checklist(pilot, olive, clock)
        await tick(pilot, 1, 2)
        await type_into(pilot, "#phone", "0201234567")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status(pilot) == "! That is not a Kenyan mobile number."
        await type_into(pilot, "#phone", "0712345678")
        await type_into(pilot, "#language", "fr")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status(pilot) == "! Language: type sw or en."
    async with make_app().run_test(size=SIZE) as pilot:
        clock.advance(seconds=30)
        await open_checklist(pilot, vera, clock)
        assert pilot.app.screen.check_action("save", ()) is None
        await type_into(pilot, "#phone", "0712345678")
        screen = pilot.app.screen
        assert isinstance(screen, ChecklistScreen)
        await screen.action_save()  # as if the key were not dimmed: core refuses
        await settle(pilot)
        assert status(pilot) == "! Refused: this needs the officer role."
    assert await rows("screening_result") == []
    assert await rows("subject") == []
    assert await refused_actions(rows) == ["screening.assess"]
