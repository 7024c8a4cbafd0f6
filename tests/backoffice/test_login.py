"""Signing in: first sign-in set-up with a QR code, wrong answers, lockout; all audited."""

from __future__ import annotations

from core import totp
from core.models import Role
from core.services import Services
from tests.backoffice.conftest import (
    ENROL_SECRET,
    SIZE,
    AppFactory,
    screen_text,
    settle,
    sign_in,
    status,
    type_into,
)
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.staff import PASSWORD, add_staff, member


async def test_first_sign_in_sets_a_password_and_enrols_by_qr_code(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    temporary = await add_staff(services, "olive", Role.OFFICER)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "#username", "olive")
        await type_into(pilot, "#password", temporary)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert "Choose your own password" in screen_text(pilot)
        await type_into(pilot, "#new", PASSWORD)
        await type_into(pilot, "#again", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        shown = screen_text(pilot)
        assert "Set up your authenticator" in shown
        assert totp.grouped(ENROL_SECRET) in shown
        assert "█" in shown
        assert "▀" in shown
        await type_into(
            pilot,
            "#code",
            "000000" if totp.code_at(ENROL_SECRET, clock.now) != "000000" else "111111",
        )
        await pilot.press("enter")
        await settle(pilot)
        assert "That code does not match" in screen_text(pilot)
        await type_into(pilot, "#code", totp.code_at(ENROL_SECRET, clock.now))
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"
        assert "olive (officer)" in screen_text(pilot)
    [account] = await rows("staff_account")
    assert account["must_change_password"] is False
    assert account["totp_secret_sealed"] is not None
    assert [e["action"] for e in await rows("audit_entry")] == [
        "staff.created",
        "staff.signed_in",
        "staff.password_changed",
        "staff.enrolled",
    ]


async def test_wrong_answers_say_little_and_five_lock_the_account(
    services: Services, make_app: AppFactory, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(
            pilot, olive, clock, code="123456" if olive.code(clock.now) != "123456" else "654321"
        )
        assert status(pilot) == "! Wrong username, password or code."
        assert type(app.screen).__name__ == "LoginScreen"
        await pilot.press("d", "slash", "l", "a")  # no screen before sign-in
        for _ in range(4):
            await sign_in(
                pilot,
                olive,
                clock,
                code="000000" if olive.code(clock.now) != "000000" else "111111",
            )
        assert status(pilot) == "! Too many failed attempts: locked until 21/11/2026 12:15."
        await sign_in(pilot, olive, clock)
        assert status(pilot) == "! Too many failed attempts: locked until 21/11/2026 12:15."
        assert type(app.screen).__name__ == "LoginScreen"
    actions = [e["action"] for e in await rows("audit_entry")]
    assert actions.count("staff.sign_in_failed") == 5
    assert actions[-2:] == ["staff.locked", "staff.sign_in_refused"]


async def test_the_staff_members_language_is_used_after_sign_in(
    services: Services, make_app: AppFactory, clock: Clock
) -> None:
    sue = await member(services, "sue", Role.VIEWER, language="sw")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, sue, clock)
        shown = screen_text(pilot)
    assert "Dashibodi" in shown
    assert "sue (mtazamaji)" in shown
