"""Staff accounts: creation, sign-in with password and TOTP, lockout, reset; all audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import staff, totp
from core.errors import AccountLocked, InvalidInput, SignInRefused, WeakPassword
from core.models import Role
from core.services import Services
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.staff import PASSWORD, add_staff, member


async def sign_in(services: Services, username: str, password: str, code: str) -> staff.SignIn:
    async with services.db() as db:
        return await staff.sign_in(
            db,
            keyring=services.keyring,
            username=username,
            password=password,
            code=code,
            now=services.clock(),
        )


async def actions(rows: RowFetcher) -> list[tuple[str, str]]:
    return [(e["actor"], e["action"]) for e in await rows("audit_entry")]


async def test_a_new_account_signs_in_once_with_its_temporary_password_to_set_up(
    services: Services, rows: RowFetcher
) -> None:
    temporary = await add_staff(services, "Olive", Role.OFFICER)
    assert len(temporary) == 19
    assert temporary.count("-") == 3

    signed = await sign_in(services, "olive", temporary, "")

    assert signed.principal.username == "olive"
    assert signed.principal.role is Role.OFFICER
    assert (signed.must_change_password, signed.must_enrol, signed.ready) == (True, True, False)
    [account] = await rows("staff_account")
    assert account["password_hash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert temporary not in str(account)
    assert await actions(rows) == [
        ("cli:test", "staff.created"),
        ("staff:olive", "staff.signed_in"),
    ]


async def test_a_set_up_account_needs_password_and_a_fresh_code(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    code = olive.code(clock.now)

    signed = await sign_in(services, "olive", PASSWORD, code)
    assert signed.ready

    with pytest.raises(SignInRefused):  # the same code twice (RFC 6238 §5.2)
        await sign_in(services, "olive", PASSWORD, code)
    clock.advance(seconds=30)
    with pytest.raises(SignInRefused):  # the password alone
        await sign_in(services, "olive", PASSWORD, "")
    assert (await sign_in(services, "olive", PASSWORD, olive.code(clock.now))).ready
    [account] = await rows("staff_account")
    sealed = account["totp_secret_sealed"]
    assert olive.secret.encode() not in sealed
    assert account["failed_logins"] == 0
    failed = [
        e["after"] for e in await rows("audit_entry") if e["action"] == "staff.sign_in_failed"
    ]
    assert failed == [{"factor": "code", "failures": 1}, {"factor": "code", "failures": 2}]


async def test_five_failures_lock_the_account_for_fifteen_minutes(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    for _ in range(4):
        with pytest.raises(SignInRefused) as refused:
            await sign_in(services, "olive", "wrong password!", "")
        assert type(refused.value) is SignInRefused
    with pytest.raises(AccountLocked) as locked:
        await sign_in(services, "olive", "wrong password!", "")
    assert locked.value.until == clock.now + timedelta(minutes=15)

    clock.advance(minutes=14)
    with pytest.raises(AccountLocked):  # even the right password and code
        await sign_in(services, "olive", PASSWORD, olive.code(clock.now))
    clock.advance(minutes=1)
    assert (await sign_in(services, "olive", PASSWORD, olive.code(clock.now))).ready

    trail = [action for actor, action in await actions(rows) if actor == "staff:olive"]
    assert trail[-8:] == [
        "staff.sign_in_failed",
        "staff.sign_in_failed",
        "staff.sign_in_failed",
        "staff.sign_in_failed",
        "staff.sign_in_failed",
        "staff.locked",
        "staff.sign_in_refused",
        "staff.signed_in",
    ]


async def test_an_unknown_username_is_audited_without_what_was_typed(
    services: Services, rows: RowFetcher
) -> None:
    with pytest.raises(SignInRefused) as refused:
        await sign_in(services, "my secret password", "whatever", "123456")
    assert str(refused.value) == "wrong username, password or code"
    [entry] = await rows("audit_entry")
    assert (entry["actor"], entry["action"], entry["entity"]) == (
        "anonymous",
        "staff.sign_in_failed",
        "staff:unknown",
    )
    assert "secret" not in str(entry)


async def test_disabled_accounts_and_expired_temporary_passwords_are_refused(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    temporary = await add_staff(services, "sam", Role.SUPERVISOR)
    async with services.db() as db:
        await staff.disable(db, username="olive", actor="cli:test", now=clock.now)
        await db.commit()

    with pytest.raises(SignInRefused):
        await sign_in(services, "olive", PASSWORD, olive.code(clock.now))
    clock.advance(hours=24)
    with pytest.raises(SignInRefused):
        await sign_in(services, "sam", temporary, "")

    refused = [
        e["after"] for e in await rows("audit_entry") if e["action"] == "staff.sign_in_refused"
    ]
    assert refused == [{"reason": "disabled"}, {"reason": "temporary password expired"}]


async def test_reset_forgets_the_authenticator_and_unlocks(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await member(services, "olive", Role.OFFICER)
    for _ in range(5):
        with pytest.raises(SignInRefused):
            await sign_in(services, "olive", "wrong password!", "")
    async with services.db() as db:
        temporary = await staff.reset(db, username="olive", actor="cli:admin", now=clock.now)
        await db.commit()

    signed = await sign_in(services, "olive", temporary, "")
    assert (signed.must_change_password, signed.must_enrol) == (True, True)
    [account] = await rows("staff_account")
    assert account["totp_secret_sealed"] is None
    assert ("cli:admin", "staff.reset") in await actions(rows)


async def test_bad_usernames_passwords_and_enrolment_codes_are_refused(
    services: Services, clock: Clock
) -> None:
    for bad in ("a", "9lives", "with space", "x" * 25):
        with pytest.raises(InvalidInput):
            staff.normalise_username(bad)
    temporary = await add_staff(services, "olive", Role.OFFICER)
    with pytest.raises(InvalidInput, match="taken"):
        await add_staff(services, "OLIVE", Role.VIEWER)
    signed = await sign_in(services, "olive", temporary, "")
    for weak in ("short", "olive is my name", "x" * 129):
        with pytest.raises(WeakPassword):
            async with services.db() as db:
                await staff.change_password(
                    db, principal=signed.principal, current=temporary, new=weak, now=clock.now
                )
    with pytest.raises(InvalidInput):  # must change the password first
        async with services.db() as db:
            await staff.enrol(
                db,
                principal=signed.principal,
                keyring=services.keyring,
                secret=totp.new_secret(),
                code="000000",
                now=clock.now,
            )
    async with services.db() as db:
        await staff.change_password(
            db, principal=signed.principal, current=temporary, new=PASSWORD, now=clock.now
        )
    secret = totp.new_secret()
    with pytest.raises(InvalidInput, match="does not match"):
        async with services.db() as db:
            await staff.enrol(
                db,
                principal=signed.principal,
                keyring=services.keyring,
                secret=secret,
                code="000000" if totp.code_at(secret, clock.now) != "000000" else "111111",
                now=clock.now,
            )
