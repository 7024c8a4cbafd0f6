"""Subscriptions: registering the customers an operator holds, one by one or in bulk."""

from __future__ import annotations

import httpx

from core.services import Services
from tests.api.conftest import Registered, register
from tests.support.databases import RowFetcher

NUMBER = "+254712345678"


async def test_put_is_idempotent_and_answers_the_standing(
    client: httpx.AsyncClient, operator: Registered, rows: RowFetcher
) -> None:
    for _ in range(2):
        response = await client.put(
            "/v1/subscriptions/cust-42", json={"msisdn": "0712345678"}, headers=operator.auth
        )
        assert response.status_code == 200
        assert response.json() == {"customer_ref": "cust-42", "excluded": False}
    held = await rows("operator_subscription")
    assert len(held) == 1
    assert held[0]["customer_ref"] == "cust-42"
    assert held[0]["national_id_bidx"] is None
    assert len(held[0]["msisdn_bidx"]) == 64  # only the blind index is kept
    assert "712345678" not in repr(held)
    # A second PUT with other identifiers replaces them.
    await client.put(
        "/v1/subscriptions/cust-42", json={"national_id": "1234567"}, headers=operator.auth
    )
    (again,) = await rows("operator_subscription")
    assert again["msisdn_bidx"] is None
    assert again["national_id_bidx"] is not None
    actions = [e["action"] for e in await rows("audit_entry")]
    assert actions.count("subscription.put") == 3


async def test_delete_is_idempotent(
    client: httpx.AsyncClient, operator: Registered, rows: RowFetcher
) -> None:
    await client.put("/v1/subscriptions/c1", json={"msisdn": NUMBER}, headers=operator.auth)
    for _ in range(2):
        response = await client.delete("/v1/subscriptions/c1", headers=operator.auth)
        assert response.status_code == 204
    assert await rows("operator_subscription") == []


async def test_one_operator_never_sees_anothers_subscriptions(
    client: httpx.AsyncClient, operator: Registered, services: Services
) -> None:
    other = await register(services, name="Other Bets", licence="GRAK-0002")
    await client.put("/v1/subscriptions/mine", json={"msisdn": NUMBER}, headers=operator.auth)
    theirs = await client.get("/v1/subscriptions", headers=other.auth)
    assert theirs.json() == {"items": [], "next": None}
    # Deleting "mine" with the other operator's key changes nothing of the first.
    await client.delete("/v1/subscriptions/mine", headers=other.auth)
    mine = await client.get("/v1/subscriptions", headers=operator.auth)
    assert [i["customer_ref"] for i in mine.json()["items"]] == ["mine"]


async def test_bulk_reports_each_item_and_stores_the_good_ones(
    client: httpx.AsyncClient, operator: Registered, rows: RowFetcher
) -> None:
    items = [
        {"customer_ref": "ok-1", "msisdn": "+254722000001"},
        {"customer_ref": "bad phone", "msisdn": "+254722000002"},
        {"customer_ref": "bad-2", "msisdn": "12"},
        {"customer_ref": "ok-2", "national_id": "12345678"},
    ]
    response = await client.post(
        "/v1/subscriptions/bulk", json={"items": items}, headers=operator.auth
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["subscribed"], body["failed"], body["excluded"]) == (2, 2, 0)
    assert [i["status"] for i in body["items"]] == ["subscribed", "error", "error", "subscribed"]
    assert body["items"][1]["errors"][0]["field"] == "customer_ref"
    assert sorted(r["customer_ref"] for r in await rows("operator_subscription")) == [
        "ok-1",
        "ok-2",
    ]


async def test_the_list_pages_by_cursor(client: httpx.AsyncClient, operator: Registered) -> None:
    items = [{"customer_ref": f"c{i:03}", "msisdn": f"+2547220{i:05}"} for i in range(25)]
    await client.post("/v1/subscriptions/bulk", json={"items": items}, headers=operator.auth)
    seen: list[str] = []
    after = 0
    while True:
        page = await client.get(f"/v1/subscriptions?after={after}&limit=10", headers=operator.auth)
        assert page.status_code == 200
        body = page.json()
        seen += [i["customer_ref"] for i in body["items"]]
        assert all(i["has_msisdn"] and not i["has_national_id"] for i in body["items"])
        if body["next"] is None:
            break
        after = body["next"]
    assert seen == [f"c{i:03}" for i in range(25)]
    bad = await client.get("/v1/subscriptions?limit=5000", headers=operator.auth)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "limit"


async def test_a_bad_customer_ref_is_422(client: httpx.AsyncClient, operator: Registered) -> None:
    response = await client.put(
        "/v1/subscriptions/" + "x" * 129, json={"msisdn": NUMBER}, headers=operator.auth
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "customer_ref"
