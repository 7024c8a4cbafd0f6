"""The operators screen under Pilot at 80×24: an admin's changes, and everyone else refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text as sql
from textual.pilot import Pilot
from textual.widgets import Label

from core import operators
from core.models import Role
from core.services import Services
from tests.backoffice.conftest import (
    SIZE,
    AppFactory,
    cells,
    fill,
    screen_text,
    settle,
    sign_in,
    status,
)
from tests.support.audit import refused_actions
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.push import register
from tests.support.staff import Member, excluded, member


async def open_operators(pilot: Pilot[Any], who: Member, clock: Clock) -> None:
    await sign_in(pilot, who, clock)
    await pilot.press("p")
    await settle(pilot)


def shown_once(pilot: Pilot[Any]) -> str:
    """The text of the window that shows a credential once."""
    return "\n".join(str(label.render()) for label in pilot.app.screen.query(Label))


async def test_an_admin_adds_an_operator_makes_and_revokes_keys_and_rotates_the_secret(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    ada = await member(services, "ada", Role.ADMIN)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_operators(pilot, ada, clock)
        await fill(
            pilot,
            "n",
            name="Bahati Bets",
            licence="BCLB-00042",
            webhook_url="https://bahati.example/hooks",
        )
        window = shown_once(pilot)
        assert "nser_live_" in window
        assert "whsec_" in window
        assert "shown once" in window
        await pilot.press("enter")
        await settle(pilot)
        assert status(pilot) == "Operator #1 added."
        assert cells(pilot, "#operators") == [
            ["1", "Bahati Bets", "BCLB-00042", "active", "0", "0", "-"]
        ]
        shown = screen_text(pilot)
        assert "Webhook: https://bahati.example/hooks" in shown
        assert "key 1 nser_live_" in shown
        assert "last used never" in shown
        await fill(pilot, "k", mode="test")
        assert "nser_test_" in shown_once(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert status(pilot).startswith("Key 2 (nser_test_")
        await fill(pilot, "x", key_id="1")
        assert status(pilot) == "Key 1 revoked."
        await fill(pilot, "x", key_id="1")
        assert status(pilot) == "! This operator has no active key with that number."
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "whsec_" in shown_once(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert status(pilot) == "Webhook secret rotated."
        assert "key 2 nser_test_" in screen_text(pilot)
        assert "key 1 " not in screen_text(pilot)
    [key_one, key_two] = await rows("operator_api_key")
    assert key_one["revoked_at"] is not None
    assert key_two["mode"] == "test"
    trail = [
        (e["actor"], e["action"])
        for e in await rows("audit_entry")
        if e["action"].startswith("operator.")
    ]
    assert trail == [
        ("staff:ada", "operator.registered"),
        ("staff:ada", "operator.key_created"),
        ("staff:ada", "operator.key_created"),
        ("staff:ada", "operator.key_revoked"),
        ("staff:ada", "operator.secret_rotated"),
    ]


async def test_an_admin_suspends_configures_and_sees_delivery_health(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    ada = await member(services, "ada", Role.ADMIN)
    operator_id, _, _ = await register(
        services,
        name="Tatu Sports",
        url="https://tatu.example/hooks",
        customers={"c-1": "+254712345678"},
    )
    await excluded(services)  # one push owed to Tatu
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_operators(pilot, ada, clock)
        assert cells(pilot, "#operators")[0][3:] == ["active", "1", "0", "pending"]
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert status(pilot) == f"Operator #{operator_id} suspended."
        assert cells(pilot, "#operators")[0][3] == "suspended"
        await fill(pilot, "c", allow="10.1.2.3/8, 192.0.2.7", contact_phone="not a phone")
        assert status(pilot) == ("! Not saved: give an https URL, IP networks and a mobile number.")
        await fill(
            pilot,
            "c",
            webhook_url="-",
            allow="10.1.2.3/8, 192.0.2.7",
            contact_name="Wanjiku",
            contact_phone="0722 000 111",
        )
        assert status(pilot) == f"Operator #{operator_id} configured."
        shown = screen_text(pilot)
        assert "Webhook: -" in shown
        assert "Allowed networks: 10.0.0.0/8, 192.0.2.7/32" in shown
    async with services.db() as db:
        operator = await operators.get(db, operator_id)
    assert (operator.status, operator.webhook_url, operator.contact_name) == (
        "suspended",
        None,
        "Wanjiku",
    )
    assert services.keyring.open(
        operator.contact_phone_sealed or b"", field=operators.CONTACT_FIELD
    ) == ("+254722000111")
    [configured] = [e for e in await rows("audit_entry") if e["action"] == "operator.configured"]
    assert configured["actor"] == "staff:ada"
    assert configured["after"]["contact_phone_changed"] is True
    assert "722000111" not in str(await rows("audit_entry"))


async def test_an_admin_sends_failed_pushes_again(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    ada = await member(services, "ada", Role.ADMIN)
    await register(
        services,
        name="Tatu Sports",
        url="https://tatu.example/hooks",
        customers={"c-1": "+254712345678"},
    )
    await excluded(services)
    async with services.engine.begin() as conn:  # three days of refusals, in short
        await conn.execute(sql("UPDATE webhook_delivery SET status = 'failed', attempts = 18"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_operators(pilot, ada, clock)
        assert cells(pilot, "#operators")[0][3:] == ["active", "0", "1", "failed"]
        await pilot.press("d")
        await settle(pilot)
        assert "Send Tatu Sports's 1 failed pushes again?" in shown_once(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert status(pilot) == "1 failed pushes sent again."
        assert cells(pilot, "#operators")[0][3:] == ["active", "1", "0", "pending"]
        await pilot.press("d")
        await settle(pilot)
        assert status(pilot) == "Tatu Sports has no failed pushes."
    [delivery] = await rows("webhook_delivery")
    assert (delivery["status"], delivery["attempts"]) == ("pending", 18)
    [entry] = [
        e for e in await rows("audit_entry") if e["action"] == "operator.deliveries_redelivered"
    ]
    assert (entry["actor"], entry["after"]) == ("staff:ada", {"deliveries": 1})


async def test_a_supervisor_is_refused_the_operators_screen_in_core_and_audited(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    sam = await member(services, "sam", Role.SUPERVISOR)
    await register(services, url=None, customers={})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_operators(pilot, sam, clock)
        assert status(pilot) == "! Refused: this needs the admin role."
        assert cells(pilot, "#operators") == []
        assert app.screen.check_action("add", ()) is None
        await pilot.press("n")
        await settle(pilot)
        assert type(app.screen).__name__ == "OperatorsScreen"  # no form opened
    assert await refused_actions(rows) == ["operator.list"]
