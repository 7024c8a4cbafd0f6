"""SVG snapshots of the key screens at 80×24 (pytest-textual-snapshot).

Deterministic: the clock is fixed, the data is fixed (subjects and exclusions
inserted with known BSTs and references), and so is the enrolment secret.
``pytest --snapshot-update`` rewrites them after a deliberate change; review the
SVGs in ``__snapshots__`` before committing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from textual.pilot import Pilot

from backoffice.app import BackofficeApp
from core import audit, detach, lifts, subjects
from core.models import (
    Channel,
    Exclusion,
    ExclusionEvent,
    IdentifierFamily,
    IdentifierKind,
    Role,
    Subject,
    SubjectIdentifier,
)
from core.periods import Period, ends_at
from core.services import Services, open_services
from core.settings import Settings
from tests.backoffice.conftest import ENROL_SECRET, settle, sign_in, type_into
from tests.support.audit import sequence
from tests.support.clock import Clock
from tests.support.databases import empty_tables
from tests.support.staff import add_staff, member

SnapCompare = Callable[..., bool]
FIXED = [
    ("+254712000001", "BST-2345678X", "K7M3-Q9PD", Period.SIX_MONTHS, Channel.USSD, 0),
    ("+254712000002", "BST-3456789J", "M4NP-2RTD", Period.PERMANENT, Channel.USSD, 3),
    ("+254712000003", "BST-456789C3", "X9YZ-8WV5", Period.ONE_YEAR, Channel.SMS, 1),
]


@pytest.fixture
def clean(settings: Settings) -> None:
    """Empty tables and Redis, synchronously (snapshots run the app in a loop of their own)."""
    assert settings.database_owner_url is not None
    assert settings.redis_url is not None
    asyncio.run(empty_tables(settings.database_owner_url))
    with redis.Redis.from_url(settings.redis_url) as client:
        client.flushdb()


async def seed(services: Services) -> None:
    """Three citizens excluded over the last days, with fixed codes."""
    async with services.db() as db:
        for msisdn, bst, reference, period, channel, days_ago in FIXED:
            when = services.clock() - timedelta(days=days_ago)
            sealed = services.keyring.seal(msisdn, field=subjects.MSISDN_FIELD)
            bidx = subjects.msisdn_index(services.keyring, msisdn)
            subject = Subject(
                msisdn_sealed=sealed,
                msisdn_bidx=bidx,
                bst=bst,
                language="sw",
                created_at=when,
                updated_at=when,
            )
            db.add(subject)
            await db.flush()
            assert subject.id is not None
            db.add(
                SubjectIdentifier(
                    subject_id=subject.id,
                    kind=IdentifierKind.MSISDN.value,
                    family=IdentifierFamily.MSISDN.value,
                    sealed=sealed,
                    bidx=bidx,
                    channel=channel.value,
                    created_at=when,
                )
            )
            exclusion = Exclusion(
                subject_id=subject.id,
                period=period.value,
                starts_at=when,
                ends_at=ends_at(period, starts_at=when),
                reference=reference,
                channel=channel.value,
                idempotency_key=f"{channel}:{reference}",
                created_at=when,
                updated_at=when,
            )
            db.add(exclusion)
            await db.flush()
            assert exclusion.id is not None
            db.add(
                ExclusionEvent(
                    exclusion_id=exclusion.id,
                    type="exclusion.created",
                    period=period.value,
                    ends_at=exclusion.ends_at,
                    occurred_at=when,
                )
            )
            await audit.append(
                db,
                actor=f"citizen:{channel}",
                action="exclusion.created",
                entity=f"exclusion:{exclusion.id}",
                subject=bst,
                occurred_at=when,
            )
        await db.commit()


def app_for(settings: Settings, clock: Clock) -> BackofficeApp:
    return BackofficeApp(
        open_services=lambda: open_services(settings, clock=clock, pool_size=2),
        new_secret=lambda: ENROL_SECRET,
    )


def signed_in_at(
    role: Role, then: Callable[[Pilot[Any]], Awaitable[None]] | None = None
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: BackofficeApp = pilot.app  # type: ignore[assignment]
        await seed(app.core)
        who = await member(app.core, "olive" if role is Role.OFFICER else "sam", role)
        await sign_in(pilot, who, app.core.clock)  # type: ignore[arg-type]
        if then is not None:
            await then(pilot)
        await settle(pilot)

    return run_before


@pytest.mark.usefixtures("clean")
def test_login(snap_compare: SnapCompare, settings: Settings, clock: Clock) -> None:
    assert snap_compare(app_for(settings, clock), terminal_size=(80, 24))


@pytest.mark.usefixtures("clean")
def test_enrolment_draws_the_qr_code(
    snap_compare: SnapCompare, settings: Settings, clock: Clock
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: BackofficeApp = pilot.app  # type: ignore[assignment]
        temporary = await add_staff(app.core, "olive", Role.OFFICER)
        await type_into(pilot, "#username", "olive")
        await type_into(pilot, "#password", temporary)
        await pilot.press("enter", "enter")
        await settle(pilot)
        await type_into(pilot, "#new", "correct horse battery")
        await type_into(pilot, "#again", "correct horse battery")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app_for(settings, clock), run_before=run_before)


@pytest.mark.usefixtures("clean")
def test_dashboard(snap_compare: SnapCompare, settings: Settings, clock: Clock) -> None:
    assert snap_compare(app_for(settings, clock), run_before=signed_in_at(Role.OFFICER))


@pytest.mark.usefixtures("clean")
def test_search_result(snap_compare: SnapCompare, settings: Settings, clock: Clock) -> None:
    async def search(pilot: Pilot[Any]) -> None:
        await pilot.press("slash")
        await settle(pilot)
        await type_into(pilot, "#query", "m4np2rtd")
        await pilot.press("enter")

    assert snap_compare(app_for(settings, clock), run_before=signed_in_at(Role.OFFICER, search))


@pytest.mark.usefixtures("clean")
def test_lift_awaiting_a_supervisor(
    snap_compare: SnapCompare, settings: Settings, clock: Clock
) -> None:
    async def lifts_screen(pilot: Pilot[Any]) -> None:
        app: BackofficeApp = pilot.app  # type: ignore[assignment]
        olive = await member(app.core, "olive", Role.OFFICER)
        async with app.core.db() as db:
            await lifts.request(
                db,
                principal=olive.principal,
                reference="K7M3-Q9PD",
                reason="Came to the office with ID; asked to lift.",
                now=app.core.clock(),
            )
            await db.commit()
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("y")

    assert snap_compare(
        app_for(settings, clock), run_before=signed_in_at(Role.SUPERVISOR, lifts_screen)
    )


@pytest.mark.usefixtures("clean")
def test_detach_awaiting_a_supervisor(
    snap_compare: SnapCompare, settings: Settings, clock: Clock
) -> None:
    async def detach_screen(pilot: Pilot[Any]) -> None:
        app: BackofficeApp = pilot.app  # type: ignore[assignment]
        olive = await member(app.core, "olive", Role.OFFICER)
        async with app.core.db() as db:
            await detach.request(
                db,
                principal=olive.principal,
                keyring=app.core.keyring,
                bst="BST-2345678X",
                kind=IdentifierKind.MSISDN,
                value="+254712000001",
                reason="Recycled by the network; the new holder came in.",
                now=app.core.clock(),
            )
            await db.commit()
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")

    assert snap_compare(
        app_for(settings, clock), run_before=signed_in_at(Role.SUPERVISOR, detach_screen)
    )


@pytest.mark.usefixtures("clean")
def test_audit_verified(snap_compare: SnapCompare, settings: Settings, clock: Clock) -> None:
    async def verify(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app, BackofficeApp)
        await sequence(pilot.app.core)  # as the worker would have: the entries become leaves
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("v")

    assert snap_compare(app_for(settings, clock), run_before=signed_in_at(Role.OFFICER, verify))


@pytest.mark.usefixtures("clean")
def test_help(snap_compare: SnapCompare, settings: Settings, clock: Clock) -> None:
    async def help_panel(pilot: Pilot[Any]) -> None:
        await pilot.press("question_mark")

    assert snap_compare(app_for(settings, clock), run_before=signed_in_at(Role.OFFICER, help_panel))


@pytest.mark.usefixtures("clean")
def test_dsm5_checklist(snap_compare: SnapCompare, settings: Settings, clock: Clock) -> None:
    async def checklist(pilot: Pilot[Any]) -> None:
        await pilot.press("k")
        await settle(pilot)
        await type_into(pilot, "#phone", "0712 000 001")
        await pilot.press("tab", "tab", "space", "down", "space", "down", "down", "space")
        await pilot.press("down", "space")

    assert snap_compare(app_for(settings, clock), run_before=signed_in_at(Role.OFFICER, checklist))


@pytest.mark.usefixtures("clean")
def test_walkin_code_texted(snap_compare: SnapCompare, settings: Settings, clock: Clock) -> None:
    async def walk_in(pilot: Pilot[Any]) -> None:
        await pilot.press("w")
        await settle(pilot)
        await type_into(pilot, "#phone", "0712 000 009")
        await pilot.press("ctrl+t")

    assert snap_compare(app_for(settings, clock), run_before=signed_in_at(Role.OFFICER, walk_in))
