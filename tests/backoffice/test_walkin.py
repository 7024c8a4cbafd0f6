"""Walk-in registration under Pilot at 80×24: the code texted through the SMS outbox, the
exclusion made by the same rule as USSD only with that code, and every refusal audited."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static

from backoffice.screens.walkin import WalkInScreen
from core import subjects, walkin
from core.models import IdentifierKind, Role
from core.periods import Period
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
from tests.support.staff import Member, excluded, member, self_excluded


async def open_walkin(pilot: Pilot[Any], who: Member, clock: Clock) -> None:
    await sign_in(pilot, who, clock)
    await pilot.press("w")
    await settle(pilot)


async def text_code(pilot: Pilot[Any], phone: str, language: str = "sw") -> None:
    await type_into(pilot, "#phone", phone)
    await type_into(pilot, "#language", language)
    await pilot.press("ctrl+t")
    await settle(pilot)


async def type_code(pilot: Pilot[Any], code: str) -> None:
    await type_into(pilot, "#code", code)
    await pilot.press("enter")
    await settle(pilot)


async def texted_code(rows: RowFetcher) -> str:
    """The code on the person's phone: the newest walk-in SMS written."""
    sent = [m for m in await rows("sms_message") if m["template"] == "walkin_code"]
    return str(sent[-1]["params"]["code"])


def outcome(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#outcome", Static).render())


async def test_the_person_reads_out_the_code_and_is_excluded_as_on_ussd(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_walkin(pilot, olive, clock)
        assert "1. Type their number, Ctrl+T texts them a code." in screen_text(pilot)
        assert pilot.app.screen.query_one("#code").disabled  # no code field before a code
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status(pilot) == "! Text them a code first (Ctrl+T)."
        await text_code(pilot, "0712 345 678")
        assert status(pilot) == (
            "Code texted. It is good until 21/11/2026 12:10; ask them to read it out."
        )
        [sms] = await rows("sms_message")
        assert (sms["kind"], sms["language"], sms["template"]) == ("reply", "sw", "walkin_code")
        code = await texted_code(rows)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        await type_code(pilot, wrong)
        assert status(pilot) == (
            "! That is not the code texted. Check it with them and type it again."
        )
        assert await rows("exclusion") == []
        pilot.app.screen.query_one("#p-5y").value = True  # type: ignore[attr-defined]
        await type_code(pilot, code)
        [exclusion] = await rows("exclusion")
        assert outcome(pilot) == (
            f"Excluded until 21/11/2031. Reference: {exclusion['reference']}."
            " A confirmation SMS follows."
        )
        assert status(pilot) == "Done. The next person may start."
        assert pilot.app.screen.query_one("#code").disabled  # cleared for the next person
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status(pilot) == "! Text them a code first (Ctrl+T)."
    assert (exclusion["channel"], exclusion["period"]) == ("backoffice", "5y")
    entries = await rows("audit_entry")
    trail = [
        (e["actor"], e["action"])
        for e in entries
        if e["action"].startswith(("walkin.", "exclusion."))
    ]
    assert trail == [
        ("staff:olive", "walkin.code_sent"),
        ("staff:olive", "walkin.code_refused"),
        ("staff:olive", "exclusion.created"),
    ]
    assert "712345678" not in str(entries)
    assert code not in str(entries)
    kinds = sorted(m["kind"] for m in await rows("sms_message"))
    assert kinds == ["confirmation", "reply"]


async def test_a_code_expires_runs_out_of_tries_and_binds_to_its_officer(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    sam = await member(services, "sam", Role.SUPERVISOR)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_walkin(pilot, olive, clock)
        await text_code(pilot, "0712345678", language="en")
        code = await texted_code(rows)
        clock.advance(minutes=10)
        await type_code(pilot, code)
        assert status(pilot) == "! That code has expired; text a new one (Ctrl+T)."
        await text_code(pilot, "0712345678", language="en")
        code = await texted_code(rows)
        for _ in range(walkin.MAX_TRIES):
            await type_code(pilot, "000000" if code != "000000" else "111111")
        await type_code(pilot, code)
        assert status(pilot) == "! Too many wrong codes; text a new one (Ctrl+T)."
        screen = pilot.app.screen
        assert isinstance(screen, WalkInScreen)
        challenge = screen.challenge
        assert challenge is not None
    async with services.db() as db:  # sam holds olive's challenge: refused
        fresh = walkin.Challenge(
            challenge.id, challenge.msisdn, "en", olive.principal.staff_id, clock.now
        )
        try:
            await walkin.register(
                db,
                principal=sam.principal,
                keyring=services.keyring,
                challenge=fresh,
                code=walkin.code_for(services.keyring, fresh),
                period=Period.ONE_YEAR,
                now=clock.now,
            )
        except Exception as exc:
            refused = exc
    assert getattr(refused, "kind", None) == "other"
    assert await rows("exclusion") == []
    reasons = [
        e["after"]["reason"]
        for e in await rows("audit_entry")
        if e["action"] == "walkin.code_refused"
    ]
    assert reasons == ["expired", *["wrong"] * walkin.MAX_TRIES, "tries", "other"]


async def test_someone_already_excluded_longer_is_told_and_nothing_changes(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    earlier = await excluded(services, "+254712345678", Period.PERMANENT)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_walkin(pilot, olive, clock)
        await text_code(pilot, "+254 712 345 678")
        await type_code(pilot, await texted_code(rows))
        assert outcome(pilot) == (
            f"Already excluded permanently, reference {earlier.reference}: nothing changed."
        )
    assert len(await rows("exclusion")) == 1
    [visit] = [e for e in await rows("audit_entry") if e["action"] == "walkin.already_excluded"]
    assert (visit["actor"], visit["after"]) == (
        "staff:olive",
        {"reference": earlier.reference, "document": None},
    )


async def test_the_id_seen_is_recorded_as_verified_for_someone_already_excluded(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    earlier = await excluded(services, "+254712345678", Period.PERMANENT)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_walkin(pilot, olive, clock)
        await text_code(pilot, "0712345678")
        await type_into(pilot, "#document-kind", "passport")
        await type_into(pilot, "#document", "ak1234567")
        await type_code(pilot, await texted_code(rows))
        assert outcome(pilot) == (
            f"Already excluded permanently, reference {earlier.reference}: exclusion unchanged."
            " ID recorded as verified."
        )
    assert len(await rows("exclusion")) == 1
    links = sorted((r["kind"], r["status"], r["channel"]) for r in await rows("subject_identifier"))
    assert links == [("msisdn", "claimed", "ussd"), ("passport", "verified", "backoffice")]
    entries = await rows("audit_entry")
    assert "AK1234567" not in str(entries).upper()
    mine = [(e["action"], e["subject"], e["after"]) for e in entries if e["actor"] == "staff:olive"]
    bst = (await rows("subject"))[0]["bst"]
    assert [m[:2] for m in mine[-3:]] == [
        ("identifier.added", bst),
        ("exclusion.identifier_added", bst),
        ("walkin.already_excluded", bst),
    ]
    assert mine[-1][2] == {"reference": earlier.reference, "document": "passport"}


async def test_bad_numbers_and_a_viewer_are_refused_and_nothing_is_sent(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    vera = await member(services, "vera", Role.VIEWER)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_walkin(pilot, olive, clock)
        await text_code(pilot, "0201234567")
        assert status(pilot) == "! That is not a Kenyan mobile number."
        await text_code(pilot, "0712345678", language="fr")
        assert status(pilot) == "! Language: type sw or en."
    async with make_app().run_test(size=SIZE) as pilot:
        clock.advance(seconds=30)
        await open_walkin(pilot, vera, clock)
        screen = pilot.app.screen
        assert isinstance(screen, WalkInScreen)
        assert screen.check_action("send", ()) is None
        await type_into(pilot, "#phone", "0712345678")
        await screen.action_send()  # as if the key were not dimmed: core refuses
        await settle(pilot)
        assert status(pilot) == "! Refused: this needs the officer role."
    assert await rows("sms_message") == []
    assert await refused_actions(rows) == ["walkin.start"]


async def test_the_id_seen_is_recorded_as_verified_and_a_bad_one_creates_nothing(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_walkin(pilot, olive, clock)
        await text_code(pilot, "0712345678")
        code = await texted_code(rows)
        await type_into(pilot, "#document-kind", "visa")
        await type_code(pilot, code)
        assert status(pilot) == "! ID kind: type id, maisha, passport or alien."
        await type_into(pilot, "#document-kind", "id")
        await type_code(pilot, code)
        assert status(pilot) == "! Type the ID number seen, or clear the ID kind."
        await type_into(pilot, "#document", "12A45678")
        await type_code(pilot, code)
        assert status(pilot) == "! That ID number does not follow its rules; nothing was done."
        assert await rows("exclusion") == []
        assert [r["kind"] for r in await rows("subject_identifier")] == []
        await type_into(pilot, "#document", "1234-5678")
        await type_code(pilot, code)
        [exclusion] = await rows("exclusion")
        assert outcome(pilot) == (
            f"Excluded until 21/11/2027. Reference: {exclusion['reference']}."
            " A confirmation SMS follows. ID recorded as verified."
        )
        assert pilot.app.screen.query_one("#document", Input).value == ""
    links = {r["kind"]: r["status"] for r in await rows("subject_identifier")}
    assert links == {"msisdn": "claimed", "national_id": "verified"}
    entries = await rows("audit_entry")
    assert "12345678" not in str(entries)
    actions = [e["action"] for e in entries if e["actor"] == "staff:olive"]
    assert actions[-3:] == ["exclusion.created", "identifier.added", "exclusion.identifier_added"]
    # No code try was spent on the bad ID (only the code texted is in the log).
    assert "walkin.code_refused" not in actions


async def test_an_id_the_person_had_claimed_becomes_verified_at_the_desk(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    claimed = subjects.identifier(services.keyring, IdentifierKind.NATIONAL_ID, "12345678")
    await self_excluded(services, "+254712345678", Period.SIX_MONTHS, document=claimed)
    async with make_app().run_test(size=SIZE) as pilot:
        await open_walkin(pilot, olive, clock)
        await text_code(pilot, "0712345678")
        await type_into(pilot, "#document-kind", "ID")
        await type_into(pilot, "#document", "12345678")
        await type_code(pilot, await texted_code(rows))
        assert outcome(pilot).endswith("ID recorded as verified.")
    links = sorted((r["kind"], r["status"]) for r in await rows("subject_identifier"))
    assert links == [("msisdn", "claimed"), ("national_id", "verified")]
    assert len(await rows("subject")) == 1
    [upgrade] = [e for e in await rows("audit_entry") if e["action"] == "identifier.verified"]
    assert (upgrade["actor"], upgrade["before"], upgrade["after"]) == (
        "staff:olive",
        {"kind": "national_id", "status": "claimed"},
        {"kind": "national_id", "status": "verified"},
    )
