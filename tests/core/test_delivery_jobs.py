"""Webhook delivery by a real ARQ worker to real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core import deliveries, operators, outbox, queue, webhooks
from core.delivery_jobs import Push, deliver_webhook
from core.models import OperatorStatus
from core.periods import Period
from core.services import Services
from core.settings import Settings
from core.subjects import MSISDN_FIELD
from nser.receiver import Received
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.push import answers, bookie, run_burst, worker_running
from tests.support.staff import self_excluded

ALICE = "+254712000001"
TECH_DESK = "+254733000222"
PEOPLE = [f"+2547120001{n:02d}" for n in range(10)]


@pytest.fixture
async def push() -> AsyncIterator[Push]:
    """The worker's webhook resources, for calling the delivery job directly."""
    kit = Push.open(per_operator=4)
    yield kit
    await kit.close()


def sent_body(payload: object) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


async def test_a_delivery_is_signed_per_standard_webhooks_and_recorded(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher
) -> None:
    async with bookie(services, customers={"c-1": ALICE}) as op:
        await self_excluded(services, ALICE)
        await run_burst(settings, services)
    [got] = op.receiver.received
    [row] = await rows("webhook_delivery")
    assert got.verified
    assert not got.replay
    assert got.webhook_id == row["message_id"]
    assert got.body == sent_body(row["payload"])
    assert Webhook(op.secret).verify(got.body, got.headers) == row["payload"]
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == "NSER-Webhooks/1"
    assert got.headers["webhook-signature"].startswith("v1,")
    assert " " not in got.headers["webhook-signature"]  # one secret, one signature
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    assert {k: row[k] for k in ("status", "attempts", "last_status", "last_error")} == {
        "status": "delivered",
        "attempts": 1,
        "last_status": 204,
        "last_error": None,
    }
    assert row["delivered_at"] == row["closed_at"] == row["last_attempt_at"] == clock.now
    assert row["leased_until"] is None


async def test_during_a_rotation_both_secrets_sign_and_either_verifies(
    services: Services, settings: Settings, clock: Clock
) -> None:
    async with bookie(services, customers={"c-1": ALICE}) as op:
        async with services.db() as db:
            new = await operators.rotate_secret(
                db, keyring=services.keyring, operator_id=op.id, actor="test", now=clock.now
            )
            await db.commit()
        await self_excluded(services, ALICE)
        await run_burst(settings, services)
    [got] = op.receiver.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (new, op.secret):
        assert Webhook(secret).verify(got.body, got.headers) == got.event
    with pytest.raises(WebhookVerificationError):
        Webhook(operators.new_webhook_secret()).verify(got.body, got.headers)


async def alerts_to(services: Services, rows: RowFetcher, msisdn: str) -> list[str]:
    """The templates of the alert SMS written to ``msisdn``, oldest first."""
    return [
        m["template"]
        for m in await rows("sms_message")
        if m["kind"] == "alert"
        and services.keyring.open(m["msisdn_sealed"], field=MSISDN_FIELD) == msisdn
    ]


async def test_410_disables_the_endpoint_skips_the_rest_and_is_audited(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher
) -> None:
    one_at_a_time = settings.model_copy(update={"webhook_concurrency": 1})
    customers = {"a": ALICE, "b": PEOPLE[0]}
    async with bookie(services, customers=customers, answer=answers(410), contact=TECH_DESK) as op:
        await self_excluded(services, ALICE)
        await self_excluded(services, PEOPLE[0])
        await run_burst(one_at_a_time, services)
        assert len(op.receiver.received) == 1  # the second was skipped, never sent
        await self_excluded(services, ALICE, period=Period.FIVE_YEARS, key="ussd:extend")
    first, second, later = await rows("webhook_delivery")
    assert (first["status"], first["last_status"], first["last_error"]) == (
        "failed",
        410,
        "HTTP 410",
    )
    assert (second["status"], second["last_error"]) == ("skipped", "endpoint disabled (410)")
    assert (later["status"], later["last_error"]) == ("skipped", "no webhook endpoint")
    [operator] = [o for o in await rows("operator") if o["id"] == op.id]
    assert operator["webhook_disabled_at"] == clock.now
    [entry] = [e for e in await rows("audit_entry") if e["action"] == "operator.webhook_disabled"]
    assert (entry["actor"], entry["entity"]) == ("system:webhooks", f"operator:{op.id}")
    assert entry["after"] == {
        "webhook_disabled": True,
        "reason": "410 Gone",
        "delivery_id": first["id"],
        "skipped_deliveries": 1,
    }
    assert await alerts_to(services, rows, TECH_DESK) == ["operator_webhook_disabled"]


async def test_429_retry_after_is_honoured_with_the_same_webhook_id(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher, push: Push
) -> None:
    limited = answers(429, headers={"Retry-After": "120"})
    async with bookie(services, customers={"a": ALICE}, answer=limited) as op:
        await self_excluded(services, ALICE)
        async with worker_running(settings, services):
            await op.receiver.wait_for(lambda r: len(r) == 1, seconds=30)
            await wait_settled(rows)
        [row] = await rows("webhook_delivery")
        assert (row["status"], row["attempts"], row["last_status"]) == ("pending", 1, 429)
        assert row["next_attempt_at"] == clock.now + timedelta(seconds=120)
        [job] = [
            j for j in await services.queue.queued_jobs() if str(j.job_id).startswith("delivery:")
        ]
        assert job.job_id == outbox.job_id(row["id"], 1)
        assert job.score is not None
        assert 110_000 < job.score - time.time() * 1000 <= 120_000  # ARQ waits as asked

        ctx = {"services": services, "push": push}
        clock.advance(seconds=118)  # too early (1 s of leeway for clocks): nothing is sent
        again = {"delivery_id": row["id"], "operator_id": op.id, "attempt": 1}
        assert await deliver_webhook(ctx, **again) == "not due"
        clock.advance(seconds=2)
        assert await deliver_webhook(ctx, **again) == "delivered"
    first, second = op.receiver.received
    assert first.webhook_id == second.webhook_id == row["message_id"]
    assert (first.replay, second.replay) == (False, True)
    [done] = await rows("webhook_delivery")
    assert (done["status"], done["attempts"], done["last_status"]) == ("delivered", 2, 204)


async def wait_settled(rows: RowFetcher) -> None:
    """Until no delivery is leased (the attempt's outcome is written); 30 s at most."""
    for _ in range(600):
        if not any(r["leased_until"] for r in await rows("webhook_delivery")):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("a delivery is still leased after 30 s")


async def test_a_dead_endpoint_is_retried_for_72_hours_then_failed_and_shown_to_staff(
    services: Services, clock: Clock, rows: RowFetcher, push: Push
) -> None:
    ctx = {"services": services, "push": push}
    dead = answers(then=500)
    async with bookie(services, customers={"a": ALICE}, answer=dead, contact=TECH_DESK) as op:
        await self_excluded(services, ALICE)
        start = clock.now
        [row] = await rows("webhook_delivery")
        outcomes: list[str] = []
        alerted: list[datetime] = []
        for attempt in range(30):
            outcome = await deliver_webhook(
                ctx, delivery_id=row["id"], operator_id=op.id, attempt=attempt
            )
            if len(await alerts_to(services, rows, TECH_DESK)) > len(alerted):
                alerted.append(clock.now)
            outcomes.append(outcome)
            if outcome != "pending":
                break
            [row] = await rows("webhook_delivery")
            clock.now = row["next_attempt_at"]
    assert outcomes == ["pending"] * 17 + ["failed"]
    assert clock.now - start == timedelta(hours=72)
    # The technical contact hears once the event is an hour old, then once a day at most.
    assert alerted[0] - start >= timedelta(hours=1)
    assert len({moment.date() for moment in alerted}) == len(alerted) >= 3
    assert set(await alerts_to(services, rows, TECH_DESK)) == {"operator_deliveries_failing"}
    assert {r.webhook_id for r in op.receiver.received} == {row["message_id"]}
    assert len(op.receiver.received) == 18
    [failed] = await rows("webhook_delivery")
    assert (failed["status"], failed["attempts"], failed["last_error"]) == (
        "failed",
        18,
        "HTTP 500",
    )
    async with services.db() as db:
        [problem] = await outbox.problems(db)
    assert (problem.operator_id, problem.pending, problem.failed) == (op.id, 0, 1)
    assert problem.last_failed == clock.now


async def test_staff_send_failed_deliveries_again_with_the_same_webhook_id(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher, push: Push
) -> None:
    ctx = {"services": services, "push": push}
    down_for_three_days = answers(*([500] * 18))
    async with bookie(services, customers={"a": ALICE}, answer=down_for_three_days) as op:
        await self_excluded(services, ALICE)
        [row] = await rows("webhook_delivery")
        for attempt in range(18):
            await deliver_webhook(ctx, delivery_id=row["id"], operator_id=op.id, attempt=attempt)
            [row] = await rows("webhook_delivery")
            clock.now = max(clock.now, row["next_attempt_at"])
        assert row["status"] == "failed"
        await services.redis.flushdb()  # the retry jobs those direct attempts queued: all spent
        async with services.db() as db:
            assert (
                await deliveries.redeliver_failed(
                    db, operator_id=op.id, actor="staff:ann", now=clock.now
                )
                == 1
            )
            await queue.commit(db, services.queue)
        await run_burst(settings, services)  # the endpoint answers again: 204
    [delivered] = await rows("webhook_delivery")
    assert (delivered["status"], delivered["attempts"]) == ("delivered", 19)
    assert len(op.receiver.received) == 19
    assert {r.webhook_id for r in op.receiver.received} == {row["message_id"]}
    [entry] = [
        e for e in await rows("audit_entry") if e["action"] == "operator.deliveries_redelivered"
    ]
    assert (entry["actor"], entry["after"]) == ("staff:ann", {"deliveries": 1})
    async with services.db() as db:  # nothing failed is left to send again
        assert (
            await deliveries.redeliver_failed(db, operator_id=op.id, actor="t", now=clock.now) == 0
        )


async def test_a_suspended_operator_gets_nothing_more(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher
) -> None:
    async with bookie(services, customers={"a": ALICE, "b": PEOPLE[0]}) as op:
        await self_excluded(services, ALICE)
        async with services.db() as db:
            await operators.set_status(
                db, operator_id=op.id, status=OperatorStatus.SUSPENDED, actor="test", now=clock.now
            )
            await db.commit()
        await self_excluded(services, PEOPLE[0])
        await run_burst(settings, services)
    assert op.receiver.received == []
    [row] = await rows("webhook_delivery")  # none at all for the later event
    assert (row["status"], row["last_error"]) == ("skipped", "operator suspended")


async def test_a_hanging_operator_never_delays_the_others(
    services: Services, settings: Settings
) -> None:
    release = asyncio.Event()
    in_flight = {"now": 0, "max": 0}

    async def hang(received: Received) -> tuple[int, dict[str, str]]:
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await release.wait()
        in_flight["now"] -= 1
        return 204, {}

    customers = {f"c{n}": msisdn for n, msisdn in enumerate(PEOPLE)}
    async with (
        bookie(services, name="hangs", customers=customers, answer=hang) as slow,
        bookie(services, name="fine", customers=customers) as fine,
        worker_running(settings, services),
    ):
        for msisdn in PEOPLE:
            await self_excluded(services, msisdn)
        # Every delivery to the healthy operator arrives while the other still hangs.
        await fine.receiver.wait_for(lambda r: len(r) == len(PEOPLE), seconds=30)
        assert len(slow.receiver.received) == settings.webhook_concurrency == 4
        release.set()
        await slow.receiver.wait_for(lambda r: len(r) == len(PEOPLE), seconds=30)
    assert in_flight["max"] == 4
    assert all(r.verified for r in fine.receiver.received + slow.receiver.received)


async def test_a_test_webhook_is_signed_marked_and_leaves_no_outbox_row(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    async with bookie(services, customers={}) as op, webhooks.http_client() as http:
        async with services.db() as db:
            ready = await webhooks.sample(
                db, keyring=services.keyring, operator_id=op.id, now=clock.now
            )
        result = await ready.send(http)
    assert result.status_code == 204
    [got] = op.receiver.received
    assert got.verified
    assert got.webhook_id == ready.message_id
    assert got.event == {
        "type": "exclusion.created",
        "timestamp": "2026-11-21T09:00:00.000Z",
        "data": {
            "event_id": 0,
            "occurred_at": "2026-11-21T09:00:00.000Z",
            "customer_ref": "TEST-CUSTOMER-1",
            "bst": "BST-TESTTEST",
            "until": "2027-05-23T09:00:00.000Z",
            "test": True,
        },
    }
    assert await rows("webhook_delivery") == []
