"""Maker-checker lifts: request, decide, cooling-off, the cron, withdrawal; every step audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core import exclusions, lifts
from core.errors import LiftConflict, MakerCheckerViolation, NotFound, PermissionDenied
from core.models import Channel, Role
from core.periods import Period
from core.permissions import Principal
from core.services import Services
from core.settings import Settings
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.staff import excluded, member
from tests.support.worker import run_job

REASON = "Citizen asked at the Nairobi office; ID seen."
WEEK = timedelta(days=7)


async def request(services: Services, officer: Principal, reference: str) -> lifts.LiftView:
    async with services.db() as db:
        view = await lifts.request(
            db, principal=officer, reference=reference, reason=REASON, now=services.clock()
        )
        await db.commit()
    return view


async def approve(services: Services, who: Principal, request_id: int) -> lifts.LiftView:
    async with services.db() as db:
        view = await lifts.approve(
            db, principal=who, request_id=request_id, cooling_off=WEEK, now=services.clock()
        )
        await db.commit()
    return view


async def run_cron(settings: Settings, services: Services) -> int:
    result = await run_job(settings, services, "apply_lifts")
    assert isinstance(result, int)
    return result


async def test_a_lift_takes_effect_after_the_cooling_off_through_the_worker(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher
) -> None:
    olive = (await member(services, "olive", Role.OFFICER)).principal
    sam = (await member(services, "sam", Role.SUPERVISOR)).principal
    exclusion = await excluded(services)

    requested = await request(services, olive, exclusion.reference.lower().replace("-", ""))
    assert (requested.status, requested.requested_by, requested.reason) == (
        "requested",
        "olive",
        REASON,
    )
    approved = await approve(services, sam, requested.id)
    assert approved.status == "approved"
    assert approved.decided_by == "sam"
    assert approved.effective_at == clock.now + WEEK

    clock.advance(days=7, seconds=-1)
    assert await run_cron(settings, services) == 0
    assert [e["status"] for e in await rows("exclusion")] == ["active"]
    clock.advance(seconds=1)
    assert await run_cron(settings, services) == 1

    [row] = await rows("exclusion")
    assert row["status"] == "lifted"
    assert [e["type"] for e in await rows("exclusion_event")] == [
        "exclusion.created",
        "exclusion.lifted",
    ]
    [lift] = await rows("lift_request")
    assert (lift["status"], lift["closed_at"]) == ("lifted", clock.now)
    trail = [
        (e["actor"], e["action"], e["entity"])
        for e in await rows("audit_entry")
        if e["subject"] is not None
    ]
    assert trail == [
        ("citizen:ussd", "subject.created", "subject:1"),
        ("citizen:ussd", "exclusion.created", "exclusion:1"),
        ("staff:olive", "lift.requested", "lift_request:1"),
        ("staff:sam", "lift.approved", "lift_request:1"),
        ("system:lift", "exclusion.lifted", "exclusion:1"),
        ("system:lift", "lift.completed", "lift_request:1"),
    ]
    assert REASON not in str(await rows("audit_entry"))
    async with services.db() as db:
        standing = await exclusions.status(
            db, keyring=services.keyring, msisdn="0712345678", now=clock.now
        )
    assert not standing.excluded


async def test_the_requester_can_never_decide_even_as_a_supervisor(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    sam = (await member(services, "sam", Role.SUPERVISOR)).principal
    exclusion = await excluded(services)
    requested = await request(services, sam, exclusion.reference)

    async with services.db() as db:
        with pytest.raises(MakerCheckerViolation):
            await lifts.approve(
                db, principal=sam, request_id=requested.id, cooling_off=WEEK, now=clock.now
            )
    async with services.db() as db:
        with pytest.raises(MakerCheckerViolation):
            await lifts.reject(
                db,
                principal=sam,
                request_id=requested.id,
                note="no, I changed my mind",
                now=clock.now,
            )
    [lift] = await rows("lift_request")
    assert lift["status"] == "requested"
    refused = [e["after"] for e in await rows("audit_entry") if e["action"] == "staff.refused"]
    assert refused == [
        {"action": "lift.approve", "reason": "maker-checker: own request"},
        {"action": "lift.reject", "reason": "maker-checker: own request"},
    ]
    # The database refuses it too, whoever writes to it.
    async with services.engine.begin() as conn:
        with pytest.raises(IntegrityError, match="lift_request_maker_checker"):
            await conn.execute(text("UPDATE lift_request SET decided_by = requested_by"))


async def test_roles_conflicts_and_unknown_references(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    vera = (await member(services, "vera", Role.VIEWER)).principal
    olive = (await member(services, "olive", Role.OFFICER)).principal
    sam = (await member(services, "sam", Role.SUPERVISOR)).principal
    exclusion = await excluded(services)
    with pytest.raises(PermissionDenied):
        await request(services, vera, exclusion.reference)
    with pytest.raises(NotFound):
        await request(services, olive, "K7M3-Q9PA")
    requested = await request(services, olive, exclusion.reference)
    with pytest.raises(LiftConflict, match="already has a lift request"):
        await request(services, sam, exclusion.reference)
    with pytest.raises(PermissionDenied):
        await approve(services, olive, requested.id)
    async with services.db() as db:
        rejected = await lifts.reject(
            db,
            principal=sam,
            request_id=requested.id,
            note="No document was shown.",
            now=clock.now,
        )
        await db.commit()
    assert (rejected.status, rejected.decision_note) == ("rejected", "No document was shown.")
    with pytest.raises(LiftConflict, match="rejected already"):
        await approve(services, sam, requested.id)
    async with services.db() as db:
        listing = await lifts.listing(db, principal=vera, open_only=False)
        assert [view.status for view in listing] == ["rejected"]
        assert await lifts.listing(db, principal=vera, open_only=True) == []


async def test_extending_during_the_cooling_off_withdraws_the_lift(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher
) -> None:
    olive = (await member(services, "olive", Role.OFFICER)).principal
    sam = (await member(services, "sam", Role.SUPERVISOR)).principal
    exclusion = await excluded(services, period=Period.SIX_MONTHS)
    approved = await approve(
        services, sam, (await request(services, olive, exclusion.reference)).id
    )
    clock.advance(days=2)
    async with services.db() as db:
        await exclusions.self_exclude(
            db,
            keyring=services.keyring,
            msisdn="+254712345678",
            period=Period.FIVE_YEARS,
            channel=Channel.USSD,
            request_key="ussd:longer",
            language="sw",
            actor="citizen:ussd",
            now=clock.now,
        )
        await db.commit()
    clock.advance(days=6)
    assert await run_cron(settings, services) == 0
    [lift] = await rows("lift_request")
    assert lift["id"] == approved.id
    assert lift["status"] == "withdrawn"
    assert [e["status"] for e in await rows("exclusion")] == ["active"]
    withdrawn = [e for e in await rows("audit_entry") if e["action"] == "lift.withdrawn"]
    assert [(e["actor"], e["after"]) for e in withdrawn] == [
        ("system:lift", {"status": "withdrawn", "because": "exclusion.extended"}),
    ]


async def test_an_exclusion_that_ends_during_the_cooling_off_lapses_the_lift(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    olive = (await member(services, "olive", Role.OFFICER)).principal
    sam = (await member(services, "sam", Role.SUPERVISOR)).principal
    exclusion = await excluded(services, period=Period.SIX_MONTHS)
    clock.advance(days=180)
    approved = await approve(
        services, sam, (await request(services, olive, exclusion.reference)).id
    )
    clock.advance(days=7)
    async with services.db() as db:
        assert await lifts.apply_due(db, now=clock.now) == 1
        await db.commit()
    [lift] = await rows("lift_request")
    assert (lift["id"], lift["status"]) == (approved.id, "lapsed")
    assert [e["type"] for e in await rows("exclusion_event")] == ["exclusion.created"]


async def test_only_an_exclusion_in_force_can_be_requested(
    services: Services, clock: Clock
) -> None:
    olive = (await member(services, "olive", Role.OFFICER)).principal
    exclusion = await excluded(services, period=Period.SIX_MONTHS)
    clock.advance(days=400)
    with pytest.raises(LiftConflict, match="in force"):
        await request(services, olive, exclusion.reference)
