"""Lookups: what an operator learns about a person, and how fast it learns it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx

from core.services import Services
from tests.api.conftest import Registered, eventually, lookup, make_test_key
from tests.support.clock import Clock
from tests.support.phone import Phone

NUMBER = "+254712345678"


async def _exclude(phone: Callable[..., Phone], number: str = NUMBER) -> str:
    """Self-exclude ``number`` for 6 months by USSD; returns the END screen."""
    handset = phone(number)
    for step in ("", "2", "2*1", "2*1*1"):
        await handset.screen(step)
    return await handset.screen("2*1*1*1")


async def test_a_stranger_is_not_excluded(client: httpx.AsyncClient, operator: Registered) -> None:
    response = await lookup(client, operator, msisdn="0712 345 678")
    assert response.status_code == 200
    assert response.json() == {"excluded": False}
    assert response.headers["content-type"] == "application/json"


async def test_an_exclusion_is_seen_within_a_second_of_commit(
    client: httpx.AsyncClient, operator: Registered, phone: Callable[..., Phone]
) -> None:
    assert (await lookup(client, operator, msisdn=NUMBER)).json() == {"excluded": False}
    screen = await _exclude(phone)
    assert screen.startswith("END")

    async def excluded() -> bool:
        body = (await lookup(client, operator, msisdn="254712345678")).json()
        return bool(body["excluded"])

    await eventually(excluded, within=1.5)
    body = (await lookup(client, operator, msisdn="0712345678")).json()
    assert set(body) == {"excluded", "bst", "until"}
    assert body["bst"].startswith("BST-")
    assert body["until"].endswith("Z")


async def test_someone_the_register_knows_but_not_excluded_looks_like_a_stranger(
    client: httpx.AsyncClient,
    operator: Registered,
    phone: Callable[..., Phone],
    services: Services,
    clock: Clock,
) -> None:
    await _exclude(phone)
    stranger = await lookup(client, operator, msisdn="+254722000111")

    async def excluded() -> bool:
        return bool((await lookup(client, operator, msisdn=NUMBER)).json()["excluded"])

    await eventually(excluded)
    clock.advance(days=200)  # past the 6-month end: no longer in force
    known = await lookup(client, operator, msisdn=NUMBER)
    assert known.status_code == stranger.status_code == 200
    assert known.content == stranger.content == b'{"excluded":false}'
    assert set(known.headers) - {"x-request-id", "content-length"} == set(stranger.headers) - {
        "x-request-id",
        "content-length",
    }


async def test_a_batch_answers_each_item_in_order_with_per_item_errors(
    client: httpx.AsyncClient, operator: Registered, phone: Callable[..., Phone]
) -> None:
    await _exclude(phone)

    async def excluded() -> bool:
        return bool((await lookup(client, operator, msisdn=NUMBER)).json()["excluded"])

    await eventually(excluded)
    items = [
        {"id": "a", "msisdn": "+254722000111"},
        {"id": "b", "msisdn": NUMBER},
        {"id": "c", "msisdn": "12345"},
        {"id": "d", "national_id": "12-34"},
        {"id": "e"},
    ]
    response = await client.post("/v1/lookups/batch", json={"items": items}, headers=operator.auth)
    assert response.status_code == 200
    answers = response.json()["items"]
    assert [a["id"] for a in answers] == ["a", "b", "c", "d", "e"]
    assert answers[0] == {"id": "a", "excluded": False}
    assert answers[1]["excluded"] is True
    assert answers[2]["error"]["errors"][0]["field"] == "msisdn"
    assert answers[3]["error"]["errors"][0]["field"] == "national_id"
    assert answers[4]["error"]["errors"][0]["message"] == "give msisdn and/or national_id"


async def test_a_batch_over_1000_is_refused_whole(
    client: httpx.AsyncClient, operator: Registered
) -> None:
    items = [{"id": str(i), "msisdn": NUMBER} for i in range(1001)]
    response = await client.post("/v1/lookups/batch", json={"items": items}, headers=operator.auth)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "items"


async def test_bad_input_gets_422_with_the_field(
    client: httpx.AsyncClient, operator: Registered
) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"msisdn": "not a number"}, "msisdn"),
        ({"msisdn": "+442071838750"}, "msisdn"),  # a valid number, but not a Kenyan mobile
        ({"national_id": "12"}, "national_id"),
        ({"msisdn": 712345678}, "msisdn"),
        ({"msisdn": NUMBER, "name": "x"}, "name"),
        ({}, "msisdn"),
    ]
    for body, field in cases:
        response = await lookup(client, operator, **body)
        assert response.status_code == 422, body
        problem = response.json()
        assert problem["type"] == "https://nser.go.ke/problems/invalid-input"
        assert problem["status"] == 422
        assert field in [e["field"] for e in problem["errors"]], (body, problem)
    raw = await client.post(
        "/v1/lookups",
        content=b"{not json",
        headers={**operator.auth, "content-type": "application/json"},
    )
    assert raw.status_code == 422


async def test_an_oversized_body_gets_413(client: httpx.AsyncClient, operator: Registered) -> None:
    response = await client.post(
        "/v1/lookups", content=b"{" + b" " * 10_000 + b"}", headers=operator.auth
    )
    assert response.status_code == 413
    assert response.json()["title"] == "Body too large"


async def test_an_oversized_body_sent_in_chunks_without_a_length_gets_413(
    client: httpx.AsyncClient, operator: Registered
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"msisdn": "' + NUMBER.encode() + b'"'
        for _ in range(5):
            yield b" " * 1_000

    response = await client.post("/v1/lookups", content=chunks(), headers=operator.auth)
    assert response.status_code == 413
    assert response.json()["title"] == "Body too large"


async def test_a_body_sent_in_chunks_is_read_whole(
    client: httpx.AsyncClient, operator: Registered
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"msisdn": '
        yield b'"' + NUMBER.encode() + b'"}'

    response = await client.post("/v1/lookups", content=chunks(), headers=operator.auth)
    assert response.status_code == 200
    assert response.json() == {"excluded": False}


async def test_every_answer_carries_a_request_id_and_echoes_the_callers(
    client: httpx.AsyncClient, operator: Registered
) -> None:
    mine = await client.post(
        "/v1/lookups", json={"msisdn": NUMBER}, headers={**operator.auth, "X-Request-Id": "abc-123"}
    )
    assert mine.headers["x-request-id"] == "abc-123"
    made = await client.post("/v1/lookups", json={"msisdn": "x"}, headers=operator.auth)
    assert len(made.headers["x-request-id"]) == 24
    assert made.json()["request_id"] == made.headers["x-request-id"]
    odd = await client.post(
        "/v1/lookups", json={"msisdn": NUMBER}, headers={**operator.auth, "X-Request-Id": "a b\tc"}
    )
    assert odd.headers["x-request-id"] != "a b\tc"
    missing = await client.get("/v1/nothing-here", headers=operator.auth)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "x-request-id" in missing.headers


async def test_a_test_key_answers_from_the_documented_numbers_only(
    client: httpx.AsyncClient,
    operator: Registered,
    services: Services,
    phone: Callable[..., Phone],
) -> None:
    await _exclude(phone)
    key = await make_test_key(services, operator.id)

    async def known() -> bool:
        headers = {"Authorization": f"Bearer {key}"}
        first = await client.post("/v1/lookups", json={"msisdn": NUMBER}, headers=headers)
        return first.status_code == 200

    await eventually(known)
    headers = {"Authorization": f"Bearer {key}"}
    real = await client.post("/v1/lookups", json={"msisdn": NUMBER}, headers=headers)
    assert real.json() == {"excluded": False}  # the real register is never consulted
    always = await client.post("/v1/lookups", json={"msisdn": "0700000001"}, headers=headers)
    assert always.json() == {"excluded": True, "bst": "BST-TESTTEST", "until": None}
    never = await client.post("/v1/lookups", json={"msisdn": "+254700000002"}, headers=headers)
    assert never.json() == {"excluded": False}
    by_id = await client.post("/v1/lookups", json={"national_id": "11111111"}, headers=headers)
    assert by_id.json()["excluded"] is True
