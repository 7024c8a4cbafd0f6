"""Who may call the API, how often, and what is recorded of each call."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from sqlmodel import select

from core import operators, usage
from core.api_access import Principal
from core.models import KeyMode, OperatorStatus, OperatorUsage
from core.services import Services
from tests.api.conftest import Registered, eventually, lookup, register
from tests.support.databases import RowFetcher

NUMBER = "+254712345678"


async def test_no_key_an_unknown_key_and_a_malformed_header_are_401(
    client: httpx.AsyncClient, operator: Registered
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer nser_live_" + "x" * 40},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer " + operator.key[:-1]},
    ):
        response = await client.post("/v1/lookups", json={"msisdn": NUMBER}, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_revoked_key_stops_within_seconds_while_another_key_goes_on(
    client: httpx.AsyncClient, operator: Registered, services: Services
) -> None:
    assert (await lookup(client, operator, msisdn=NUMBER)).status_code == 200
    async with services.db() as db:
        second = await operators.create_key(
            db,
            operator_id=operator.id,
            mode=KeyMode.LIVE,
            actor="test",
            now=services.clock(),
        )
        await operators.revoke_key(
            db, operator_id=operator.id, key_id=operator.key_id, actor="test", now=services.clock()
        )
        await db.commit()

    async def refused() -> bool:
        return (await lookup(client, operator, msisdn=NUMBER)).status_code == 401

    await eventually(refused)
    rotated = Registered(operator.id, second.key, second.id, operator.secret)
    assert (await lookup(client, rotated, msisdn=NUMBER)).status_code == 200


async def test_a_suspended_operator_is_403(
    client: httpx.AsyncClient, operator: Registered, services: Services
) -> None:
    async with services.db() as db:
        await operators.set_status(
            db,
            operator_id=operator.id,
            status=OperatorStatus.SUSPENDED,
            actor="test",
            now=services.clock(),
        )
        await db.commit()

    async def refused() -> bool:
        return (await lookup(client, operator, msisdn=NUMBER)).status_code == 403

    await eventually(refused)
    assert (await lookup(client, operator, msisdn=NUMBER)).json()["title"] == "Operator suspended"


async def test_an_address_outside_the_allowlist_is_403(
    client: httpx.AsyncClient, services: Services
) -> None:
    # httpx's ASGI transport calls from 127.0.0.1.
    outside = await register(services, licence="GRAK-0009", allow=["10.0.0.0/8"])
    inside = await register(services, name="Near", licence="GRAK-0010", allow=["127.0.0.0/8"])
    refused = await lookup(client, outside, msisdn=NUMBER)
    assert refused.status_code == 403
    assert refused.json()["title"] == "Address not allowed"
    assert (await lookup(client, inside, msisdn=NUMBER)).status_code == 200


async def test_past_the_keys_rate_a_429_says_when_to_retry(
    client: httpx.AsyncClient, operator: Registered, services: Services
) -> None:
    desk = await services.operator_desk()
    desk.keys.rate = 2.0  # bursts of 4
    answers = [(await lookup(client, operator, msisdn=NUMBER)).status_code for _ in range(6)]
    assert answers[:4] == [200] * 4
    assert answers[4:] == [429, 429]
    limited = await lookup(client, operator, msisdn=NUMBER)
    assert int(limited.headers["retry-after"]) >= 1


async def test_an_operator_sweeping_numbers_is_stopped_for_the_day(
    client: httpx.AsyncClient, operator: Registered, services: Services
) -> None:
    desk = await services.operator_desk()
    desk.usage.daily_distinct = 20
    # The same customers again and again are fine ...
    for _ in range(3):
        for i in range(10):
            assert (await lookup(client, operator, msisdn=f"+2547220000{i:02}")).status_code == 200
    await desk.usage.flush(services.clock())
    assert desk.usage.blocked_for(operator.id, now=services.clock()) == 0
    # ... ever-new numbers are a sweep.
    batch = [{"id": str(i), "msisdn": f"+2547330{i:05}"} for i in range(50)]
    assert (
        await client.post("/v1/lookups/batch", json={"items": batch}, headers=operator.auth)
    ).status_code == 200
    await desk.usage.flush(services.clock())
    stopped = await lookup(client, operator, msisdn=NUMBER)
    assert stopped.status_code == 429
    assert stopped.json()["title"] == "Daily lookup quota reached"
    assert 0 < int(stopped.headers["retry-after"]) <= 86_400


async def test_calls_are_recorded_without_identifiers_and_counted_per_day(
    client: httpx.AsyncClient, operator: Registered, services: Services, rows: RowFetcher
) -> None:
    await lookup(client, operator, msisdn=NUMBER)
    await lookup(client, operator, msisdn="garbage")
    await client.put("/v1/subscriptions/c1", json={"msisdn": NUMBER}, headers=operator.auth)
    desk = await services.operator_desk()
    await desk.usage.flush(services.clock())
    fetch = rows
    logged = await fetch("operator_request")
    assert [(r["kind"], r["status"], r["items"]) for r in logged] == [
        ("lookup", 200, 1),
        ("lookup", 422, 1),
        ("subscribe", 200, 1),
    ]
    assert all(len(r["request_id"]) == 24 for r in logged)
    assert "712345678" not in repr(logged)
    async with services.db() as db:
        (usage,) = (await db.exec(select(OperatorUsage))).all()
    assert (usage.lookups, usage.subscription_changes) == (2, 1)
    (key,) = [k for k in await fetch("operator_api_key")]
    assert key["last_used_at"] is not None


async def test_a_heavy_second_is_written_whole_in_slices_and_counted_per_nairobi_day(
    operator: Registered, services: Services, rows: RowFetcher
) -> None:
    """More records than one slice, across Nairobi midnight (21:00 UTC), in one flush."""
    desk = await services.operator_desk()
    who = Principal(operator.id, operator.key_id, KeyMode.LIVE, active=True, networks=())
    midnight = datetime(2026, 11, 21, 21, 0, tzinfo=UTC)
    count = 2 * usage.SLICE + 500
    for i in range(count):
        desk.usage.record(
            who,
            request_id=f"r{i:05}",
            kind="lookup",
            items=1,
            excluded=0,
            status=200,
            now=midnight + timedelta(milliseconds=i - 1000),  # 1,000 before midnight
            indexes=[f"{i:016x}"],
        )
    desk.usage.daily_distinct = count - 100  # HyperLogLog counts within about 1 %
    assert await desk.usage.flush(midnight) == count
    assert len(await rows("operator_request")) == count
    async with services.db() as db:
        per_day = {u.day: u.lookups for u in (await db.exec(select(OperatorUsage))).all()}
    assert per_day == {date(2026, 11, 21): 1000, date(2026, 11, 22): count - 1000}
    assert desk.usage.blocked_for(operator.id, now=midnight) > 0
