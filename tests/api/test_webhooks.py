"""``POST /v1/webhooks/test``: a test key sends a signed sample event to the operator's endpoint."""

from __future__ import annotations

import httpx

from core.services import Services
from tests.api.conftest import make_test_key, register
from tests.support.databases import RowFetcher
from tests.support.ports import free_port
from tests.support.push import bookie


async def test_a_test_key_sends_a_signed_sample_the_endpoint_verifies(
    client: httpx.AsyncClient, services: Services, rows: RowFetcher
) -> None:
    async with bookie(services, customers={}) as op:
        key = await make_test_key(services, op.id)
        answer = await client.post(
            "/v1/webhooks/test",
            json={"customer_ref": "acct-42"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert answer.status_code == 200
    [got] = op.receiver.received
    assert got.verified
    assert answer.json() == {
        "webhook_id": got.webhook_id,
        "delivered": True,
        "status": 204,
        "error": None,
    }
    assert got.webhook_id.startswith("msg_test_")
    assert got.event is not None
    assert got.event["data"]["customer_ref"] == "acct-42"
    assert got.event["data"]["test"] is True
    assert await rows("webhook_delivery") == []  # nothing in the outbox or the feed


async def test_an_endpoint_that_is_down_is_reported_not_raised(
    client: httpx.AsyncClient, services: Services
) -> None:
    down = await register(services, webhook_url=f"http://127.0.0.1:{free_port()}/hook")
    key = await make_test_key(services, down.id)
    answer = await client.post(
        "/v1/webhooks/test", json={}, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["delivered"], body["status"], body["error"]) == (False, None, "ConnectError")


async def test_a_live_key_or_a_missing_url_is_refused(
    client: httpx.AsyncClient, services: Services
) -> None:
    no_url = await register(services)
    key = await make_test_key(services, no_url.id)  # before the first call loads the keys
    live = await client.post("/v1/webhooks/test", json={}, headers=no_url.auth)
    assert live.status_code == 403
    assert live.json()["title"] == "Test key required"
    missing = await client.post(
        "/v1/webhooks/test", json={}, headers={"Authorization": f"Bearer {key}"}
    )
    assert missing.status_code == 422
    assert missing.json()["detail"] == "no webhook URL is set for this operator"
