"""The outbox: who gets a delivery row for an exclusion event, with what payload; when jobs go."""

from __future__ import annotations

import json

from sqlalchemy import text

from core import exclusions, identifiers, operators, outbox, queue, subscriptions
from core import subjects as subjects_
from core.models import Channel, IdentifierKind, IdentifierStatus, OperatorStatus
from core.periods import Period
from core.services import Services
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.push import register
from tests.support.staff import self_excluded

ALICE = "+254712000001"
BOB = "+254712000002"
URL = "http://127.0.0.1:9/webhooks"  # never called here


async def queued(services: Services) -> list[str]:
    """The delivery jobs in ARQ's queue (the citizen's SMS jobs are left out)."""
    jobs = (str(job.job_id) for job in await services.queue.queued_jobs())
    return sorted(job for job in jobs if job.startswith("delivery:"))


async def test_only_active_subscribed_operators_get_a_row_with_the_exact_payload(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    holds_alice, _, _ = await register(services, name="A", url=URL, customers={"a-77": ALICE})
    await register(services, name="B", url=URL, customers={"b-1": BOB})
    suspended, _, _ = await register(services, name="C", url=URL, customers={"c-1": ALICE})
    async with services.db() as db:
        await operators.set_status(
            db, operator_id=suspended, status=OperatorStatus.SUSPENDED, actor="test", now=clock.now
        )
        await db.commit()

    outcome = await self_excluded(services, ALICE, period=Period.SIX_MONTHS)

    [delivery] = await rows("webhook_delivery")
    assert delivery["operator_id"] == holds_alice
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 0
    assert delivery["next_attempt_at"] == clock.now
    assert delivery["message_id"].startswith("msg_")
    assert len(delivery["message_id"]) == 36
    assert delivery["payload"] == {
        "type": "exclusion.created",
        "timestamp": "2026-11-21T09:00:00.000Z",
        "data": {
            "event_id": outcome.event.id,
            "occurred_at": "2026-11-21T09:00:00.000Z",
            "customer_ref": "a-77",
            "bst": outcome.subject.bst,
            "until": "2027-05-21T21:00:00.000Z",
        },
    }
    assert await queued(services) == [f"delivery:{delivery['id']}:0"]


async def test_no_identifier_ever_reaches_a_payload(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await register(services, url=URL, customers={"ref-1": ALICE})
    await self_excluded(services, ALICE, period=Period.SIX_MONTHS)
    await self_excluded(services, ALICE, period=Period.PERMANENT, key="ussd:extend")
    payloads = [json.dumps(row["payload"]) for row in await rows("webhook_delivery")]
    assert len(payloads) == 2
    for payload in payloads:
        for spelling in (ALICE, ALICE[1:], "0712000001", "712000001"):
            assert spelling not in payload


async def test_each_account_of_the_person_gets_its_own_row_and_the_national_id_matches(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    operator_id, _, _ = await register(services, url=URL, customers={"acct-1": ALICE})
    # A second account of the same person, known to the operator only by national ID.
    by_id = subscriptions.identifiers(services.keyring, msisdn=None, national_id="12345678")
    async with services.db() as db:
        await subscriptions.subscribe(
            db, operator_id=operator_id, customer_ref="acct-2", identifiers=by_id, now=clock.now
        )
        await db.commit()
    outcome = await self_excluded(services, ALICE)
    # The register learns the person's national ID elsewhere (a walk-in, verified).
    async with services.db() as db:
        await identifiers.link(
            db,
            keyring=services.keyring,
            subject=outcome.subject,
            identifier=subjects_.identifier(
                services.keyring, IdentifierKind.NATIONAL_ID, "12345678"
            ),
            channel=Channel.BACKOFFICE,
            actor="staff:1",
            now=clock.now,
            status=IdentifierStatus.VERIFIED,
        )
        await queue.commit(db, services.queue)
    await self_excluded(services, ALICE, period=Period.PERMANENT, key="ussd:extend")
    refs = [
        (row["event_type"], row["payload"]["data"]["customer_ref"])
        for row in await rows("webhook_delivery")
    ]
    assert refs == [
        ("exclusion.created", "acct-1"),
        ("exclusion.identifier_added", "acct-2"),  # only those who hold the person by the ID
        ("exclusion.extended", "acct-1"),
        ("exclusion.extended", "acct-2"),
    ]


async def test_an_operator_without_a_usable_endpoint_gets_a_skipped_row_and_no_job(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await register(services, name="no url", url=None, customers={"n-1": ALICE})
    await self_excluded(services, ALICE)
    [row] = await rows("webhook_delivery")
    assert (row["status"], row["last_error"], row["closed_at"]) == (
        "skipped",
        "no webhook endpoint",
        clock.now,
    )
    assert await queued(services) == []


async def test_expiry_fans_out_and_its_jobs_go_after_the_commit(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await register(services, url=URL, customers={"r": ALICE})
    await self_excluded(services, ALICE, period=Period.SIX_MONTHS)
    await services.redis.flushdb()
    clock.advance(days=200)
    async with services.db() as db:
        assert await exclusions.expire_due(db, now=clock.now) == 1
        assert await queued(services) == []  # not before the commit
        await queue.commit(db, services.queue)
    expired = (await rows("webhook_delivery"))[-1]
    assert expired["event_type"] == "exclusion.expired"
    assert expired["payload"]["data"]["until"] == "2027-05-21T21:00:00.000Z"
    assert await queued(services) == [f"delivery:{expired['id']}:0"]


async def test_a_rolled_back_event_leaves_no_row_and_no_job(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await register(services, url=URL, customers={"r": ALICE})
    async with services.db() as db:
        await exclusions.self_exclude(
            db,
            keyring=services.keyring,
            msisdn=ALICE,
            period=Period.ONE_YEAR,
            channel=Channel.USSD,
            request_key="k",
            language="en",
            actor="citizen:test",
            now=clock.now,
        )
        await db.rollback()
    assert await rows("webhook_delivery") == []
    assert await queued(services) == []


async def test_the_sweeper_finds_due_unleased_rows_only(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await register(services, url=URL, customers={"a": ALICE, "b": BOB})
    await self_excluded(services, ALICE)
    await self_excluded(services, BOB)
    first, second = (row["id"] for row in await rows("webhook_delivery"))
    async with services.engine.begin() as conn:
        await conn.execute(
            text("UPDATE webhook_delivery SET leased_until = :t WHERE id = :id"),
            {"t": clock.now.replace(minute=1), "id": second},
        )
    async with services.db() as db:
        due = await outbox.due(db, now=clock.now, limit=10)
    assert [(d.id, d.attempts) for d in due] == [(first, 0)]


async def test_a_lift_says_until_now_and_goes_to_the_operator(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await register(services, url=URL, customers={"r": ALICE})
    outcome = await self_excluded(services, ALICE, period=Period.PERMANENT)
    clock.advance(days=30)
    async with services.db() as db:
        await exclusions.lift(
            db, exclusion=outcome.exclusion, bst=outcome.subject.bst, actor="staff:x", now=clock.now
        )
        await queue.commit(db, services.queue)
    created, lifted = await rows("webhook_delivery")
    assert created["payload"]["data"]["until"] is None
    assert lifted["event_type"] == "exclusion.lifted"
    assert lifted["payload"]["data"]["until"] == "2026-12-21T09:00:00.000Z"
    assert await queued(services) == [f"delivery:{created['id']}:0", f"delivery:{lifted['id']}:0"]
