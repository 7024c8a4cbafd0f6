"""Operators and a person's many identifiers: any linked number or claimed ID answers excluded."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from tests.api.conftest import Registered, eventually, lookup
from tests.support.databases import RowFetcher
from tests.support.phone import Phone

REF = re.compile(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}")
LINE_A = "+254712000001"
LINE_B = "+254712000002"


async def test_line_b_and_the_id_answer_excluded_and_b_s_operator_is_told(
    client: httpx.AsyncClient,
    operator: Registered,
    phone: Callable[..., Phone],
    rows: RowFetcher,
) -> None:
    held = await client.put(
        "/v1/subscriptions/cust-b", json={"msisdn": "0712 000 002"}, headers=operator.auth
    )
    assert held.json() == {"customer_ref": "cust-b", "excluded": False}
    # Line A: six months, with a national ID typed with a dash.
    done = await phone(LINE_A).screen("2*1*1*2*1*1234-5678*1")
    reference = REF.search(done)
    assert reference
    # Line B joins by reference.
    joined = await phone(LINE_B).screen(f"2*5*{reference.group(0)}")
    assert joined.startswith("END Done. This number is excluded too")

    async def b_excluded() -> bool:
        return bool((await lookup(client, operator, msisdn=LINE_B)).json()["excluded"])

    await eventually(b_excluded)
    by_b = (await lookup(client, operator, msisdn=LINE_B)).json()
    by_a = (await lookup(client, operator, msisdn=LINE_A)).json()
    by_id = (await lookup(client, operator, national_id="012345678")).json()
    assert by_b == by_a == by_id
    assert by_b["excluded"] is True
    [added] = [r for r in await rows("webhook_delivery") if r["operator_id"] == operator.id]
    assert added["event_type"] == "exclusion.identifier_added"
    assert added["payload"]["data"]["customer_ref"] == "cust-b"
    assert added["payload"]["data"]["bst"] == by_b["bst"]
    assert "712000002" not in str(added["payload"])


async def test_a_maisha_namba_matches_the_operators_national_id_field(
    client: httpx.AsyncClient, operator: Registered, phone: Callable[..., Phone]
) -> None:
    await phone(LINE_A).screen("2*1*4*2*2*1234 567 890*1")

    async def excluded() -> bool:
        body = (await lookup(client, operator, national_id="1234567890")).json()
        return bool(body["excluded"])

    await eventually(excluded)
    batch = await client.post(
        "/v1/lookups/batch",
        json={
            "items": [
                {"id": "maisha", "national_id": "1234-567-890"},
                {"id": "other", "national_id": "1234567891"},
                {"id": "letters", "national_id": "12345678A"},
            ]
        },
        headers=operator.auth,
    )
    answers = {item["id"]: item for item in batch.json()["items"]}
    assert answers["maisha"]["excluded"] is True
    assert answers["maisha"]["until"] is None  # permanent
    assert answers["other"] == {"id": "other", "excluded": False}
    assert answers["letters"]["error"]["errors"][0]["field"] == "national_id"
