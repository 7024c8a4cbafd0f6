"""Issue 12's "Done means", end to end, every back-office session at 80×24.

Citizens exclude themselves by USSD and by SMS, and an operator subscribes and
looks them up through its API, all through the real HTTP app. An admin creates
that operator and a key on the operators screen (its webhook points at a real
receiver). An officer requests a lift of the USSD exclusion in one session, a
supervisor approves it in another (and cannot approve his own request); once
the cooling-off is over the real worker lifts it and the operator receives a
signed ``exclusion.lifted``. ``nser audit verify`` passes, and the month's
report is exported as CSV from the reports screen.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import httpx
from textual.pilot import Pilot
from textual.widgets import Label

from core.models import Role
from core.services import Services
from core.settings import Settings
from tests.api.conftest import eventually
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
from tests.support.audit import nser, sequence
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.phone import Phone
from tests.support.push import receiving, run_burst
from tests.support.staff import Member, member
from tests.support.texter import Texter
from tests.support.worker import run_job

USSD_LINE = "+254712345678"
SMS_LINE = "+254722000001"
REFERENCE = re.compile(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}")
REASON = "Citizen came to the office with ID; asked to lift."


async def open_screen(pilot: Pilot[Any], who: Member, clock: Clock, key: str) -> None:
    """Sign ``who`` in (a fresh authenticator step) and open the screen under ``key``."""
    clock.advance(seconds=30)
    await sign_in(pilot, who, clock)
    await pilot.press(key)
    await settle(pilot)


async def shown_once(pilot: Pilot[Any], pattern: str) -> str:
    """The credential matching ``pattern`` in the window that shows it once; closes it."""
    text = "\n".join(str(label.render()) for label in pilot.app.screen.query(Label))
    found = re.search(pattern, text)
    assert found, text
    await pilot.press("enter")
    await settle(pilot)
    return found.group(0)


async def test_done_means(
    services: Services,
    settings: Settings,
    make_app: AppFactory,
    clock: Clock,
    rows: RowFetcher,
    client: httpx.AsyncClient,
    phone: Callable[..., Phone],
) -> None:
    ada = await member(services, "ada", Role.ADMIN)
    olive = await member(services, "olive", Role.OFFICER)
    sam = await member(services, "sam", Role.SUPERVISOR)
    async with receiving() as (receiver, webhook_url):
        # An admin creates the operator (its first key and webhook secret) and one more key.
        async with make_app().run_test(size=SIZE) as admin:
            await open_screen(admin, ada, clock, "p")
            await fill(admin, "n", name="Bookie", licence="BCLB-00777", webhook_url=webhook_url)
            secret = await shown_once(admin, r"whsec_\S+")
            assert status(admin) == "Operator #1 added."
            await fill(admin, "k", mode="")
            key = await shown_once(admin, r"nser_live_\S+")
            assert status(admin).startswith("Key 2 (nser_live_")
            assert cells(admin, "#operators") == [
                ["1", "Bookie", "BCLB-00777", "active", "0", "0", "-"]
            ]
            assert f"Webhook: {webhook_url}" in screen_text(admin)
        receiver.secrets.append(secret)
        api = {"Authorization": f"Bearer {key}"}

        # The operator registers its customers, then each citizen excludes themself.
        for ref, line in (("cust-ussd", USSD_LINE), ("cust-sms", SMS_LINE)):
            held = await client.put(f"/v1/subscriptions/{ref}", json={"msisdn": line}, headers=api)
            assert held.json() == {"customer_ref": ref, "excluded": False}
        done = await phone(USSD_LINE).screen("2*1*2*1")  # English, exclude, 1 year, confirm
        assert done.startswith("END ")
        found = REFERENCE.search(done)
        assert found
        reference = found.group(0)
        texter = Texter(client, services, SMS_LINE)
        for message in ("EXCLUDE 1Y", "YES"):
            await texter.send(message)
            await run_burst(settings, services)  # the worker handles each MO
        assert [(e["channel"], e["status"]) for e in await rows("exclusion")] == [
            ("ussd", "active"),
            ("sms", "active"),
        ]
        lookups = 0

        async def excluded(line: str) -> bool:
            nonlocal lookups
            lookups += 1
            looked = await client.post("/v1/lookups", json={"msisdn": line}, headers=api)
            return bool(looked.json()["excluded"])

        for line in (USSD_LINE, SMS_LINE):  # every web process knows within about a second
            await eventually(functools.partial(excluded, line))
        await (await services.operator_desk()).usage.flush(clock.now)  # as the web process does
        await run_burst(settings, services)
        created = [r.event for r in receiver.received if r.event is not None]
        assert [(e["type"], e["data"]["customer_ref"]) for e in created] == [
            ("exclusion.created", "cust-ussd"),
            ("exclusion.created", "cust-sms"),
        ]
        bst = created[0]["data"]["bst"]

        # Maker-checker in two sessions: the officer asks, the supervisor decides.
        async with make_app().run_test(size=SIZE) as officer:
            await open_screen(officer, olive, clock, "l")
            await fill(officer, "n", reference=reference, reason=REASON)
            assert status(officer) == (
                f"Lift #1 requested for {reference}; a supervisor decides next."
            )
            await officer.press("y")  # not a supervisor: the key does nothing
            await settle(officer)
            assert type(officer.app.screen).__name__ == "LiftsScreen"
        sms_reference = (await rows("exclusion"))[1]["reference"]
        async with make_app().run_test(size=SIZE) as supervisor:
            await open_screen(supervisor, sam, clock, "l")
            await fill(supervisor, "n", reference=sms_reference, reason=REASON)
            assert cells(supervisor, "#requests")[0][:3] == [
                "2",
                sms_reference,
                "awaiting decision",
            ]
            await fill(supervisor, "y")  # his own request
            assert status(supervisor) == (
                "! Refused: you made this request, so someone else must decide it."
            )
            await supervisor.press("down")
            await settle(supervisor)
            await fill(supervisor, "y")  # the officer's
            assert status(supervisor) == "Lift #1 approved: it takes effect on 28/11/2026 12:01."
            assert cells(supervisor, "#requests") == [
                ["2", sms_reference, "awaiting decision", "sam", "-", "-"],
                ["1", reference, "cooling off", "olive", "sam", "28/11/2026 12:01"],
            ]

        # After the cooling-off the worker lifts it and pushes exclusion.lifted, signed.
        clock.advance(days=7, minutes=1)
        assert await run_job(settings, services, "apply_lifts") == 1
        await run_burst(settings, services)
        lifted = receiver.received[-1]
        assert lifted.verified
        assert lifted.headers["webhook-signature"].startswith("v1,")
        assert lifted.event is not None
        assert (lifted.event["type"], lifted.event["data"]["customer_ref"]) == (
            "exclusion.lifted",
            "cust-ussd",
        )
        assert lifted.event["data"]["bst"] == bst
    assert [e["status"] for e in await rows("exclusion")] == ["lifted", "active"]

    # The audit log verifies, and the month's figures go out as CSV.
    await sequence(services)
    verified = nser(settings, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("audit log OK: ")
    async with make_app().run_test(size=SIZE) as reports:
        await open_screen(reports, olive, clock, "e")
        await reports.press("ctrl+s")
        await settle(reports)
        path = settings.reports_path / "nser-2026-11.csv"
        assert status(reports) == f"Exported to {path}"
    assert path.read_text().splitlines() == [
        "section,day,group,subgroup,measure,value",
        "exclusions,2026-11-21,sms,1y,created,1",
        "exclusions,2026-11-21,ussd,1y,created,1",
        f"operator_usage,2026-11-21,Bookie,,lookups,{lookups}",
        "operator_usage,2026-11-21,Bookie,,subscription_changes,2",
        "deliveries,,Bookie,,delivered,3",
    ]
