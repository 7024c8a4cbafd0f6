"""The MO and delivery-report callbacks: stored once, answered at once, bad input refused."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
import pytest

from core.services import Services, open_services
from core.settings import Settings
from nser.web import create_app
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.texter import Texter
from tests.support.worker import drain

TOKEN = "s3cret-path-token-0123456789"
FORM = {
    "from": "+254712345678",
    "to": "40400",
    "text": "JIZUIE 1Y",
    "date": "2026-11-21 12:00:00",
    "id": "ATXid_1",
    "linkId": "link-1",
    "networkCode": "63902",
}


async def test_an_mo_is_stored_sealed_and_queued_for_processing(
    client: httpx.AsyncClient, rows: RowFetcher, services: Services
) -> None:
    response = await client.post("/sms/inbound", data={**FORM, "text": "JIZUIE\n1Y"})
    assert (response.status_code, response.text) == (200, "OK")
    [mo] = await rows("sms_inbound")
    assert mo["gateway_id"] == "ATXid_1"
    assert (mo["to_code"], mo["link_id"], mo["network_code"]) == ("40400", "link-1", "63902")
    assert mo["processed_at"] is None
    assert b"712345678" not in mo["msisdn_sealed"]
    assert b"JIZUIE" not in mo["text_sealed"]
    assert [str(job.job_id) for job in await services.queue.queued_jobs()] == ["mo:1"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "missing field id"),
        ({"from": None}, "missing field from"),
        ({"text": None}, "missing field text"),
        ({"from": "   "}, "malformed field from"),
        ({"id": "has space"}, "malformed field id"),
        ({"text": "JIZUIE\x00"}, "field text holds a control character"),
        ({"from": "+2547\n12345678"}, "field from holds a control character"),
        ({"text": "x" * 1601}, "field text is longer than 1600 characters"),
        ({"networkCode": "abc"}, "malformed field networkCode"),
    ],
)
async def test_a_malformed_mo_gets_400_and_nothing_is_stored(
    client: httpx.AsyncClient,
    rows: RowFetcher,
    caplog: pytest.LogCaptureFixture,
    change: dict[str, str | None],
    reason: str,
) -> None:
    form = {key: value for key, value in {**FORM, **change}.items() if value is not None}
    with caplog.at_level(logging.DEBUG):
        response = await client.post("/sms/inbound", data=form)
    assert (response.status_code, response.text) == (400, f"{reason}\n")
    assert await rows("sms_inbound") == []
    assert "712345678" not in caplog.text


async def test_a_huge_body_is_refused_without_a_5xx(
    client: httpx.AsyncClient, rows: RowFetcher
) -> None:
    response = await client.post("/sms/inbound", data={**FORM, "text": "JIZUIE " * 100_000})
    assert response.status_code == 400
    assert await rows("sms_inbound") == []


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"status": "Success"}, "missing field id"),
        ({"id": "ATXid_1"}, "missing field status"),
        ({"id": "ATXid_1", "status": "Not A Status!"}, "malformed field status"),
        ({"id": "ATXid_1", "status": "Failed", "retryCount": "-1"}, "field retryCount must be"),
    ],
)
async def test_a_malformed_delivery_report_gets_400(
    client: httpx.AsyncClient, form: dict[str, str], reason: str
) -> None:
    response = await client.post("/sms/delivery-reports", data=form)
    assert response.status_code == 400
    assert response.text.startswith(reason)


async def test_with_a_token_only_the_token_paths_are_served(
    settings: Settings, services: Services, rows: RowFetcher, caplog: pytest.LogCaptureFixture
) -> None:
    guarded = Settings.model_validate({**settings.model_dump(), "callback_token": TOKEN})
    app = create_app(guarded, services=services)
    transport = httpx.ASGITransport(app=app, client=("196.201.214.10", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        with caplog.at_level(logging.INFO):
            bare = await http.post("/sms/inbound", data=FORM)
            wrong = await http.post("/sms/not-the-token-at-all-000/inbound", data=FORM)
            report = await http.post("/sms/delivery-reports", data={"id": "x", "status": "Success"})
            good = await http.post(f"/sms/{TOKEN}/inbound", data=FORM)
            dlr = await http.post(
                f"/sms/{TOKEN}/delivery-reports", data={"id": "x", "status": "Success"}
            )
    assert [bare.status_code, wrong.status_code, report.status_code] == [403, 403, 403]
    assert [good.status_code, dlr.status_code] == [200, 200]
    assert len(await rows("sms_inbound")) == 1
    assert "refused sms callback #1 from 196.201.214.10: wrong or missing path token" in caplog.text
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    assert TOKEN not in ours  # (httpx, the test's client, logs the URLs it calls)
    assert "712345678" not in ours


async def test_with_redis_down_the_mo_is_stored_and_answered_at_once(
    settings: Settings, clock: Clock, rows: RowFetcher, services: Services
) -> None:
    broken = open_services(
        settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}), clock=clock
    )
    transport = httpx.ASGITransport(app=create_app(settings, services=broken))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            started = time.monotonic()
            response = await http.post("/sms/inbound", data=FORM)
            elapsed = time.monotonic() - started
    finally:
        await broken.close()
    assert (response.status_code, response.text) == (200, "OK")
    assert elapsed < 2.0
    [mo] = await rows("sms_inbound")
    assert mo["processed_at"] is None  # the sweeper hands it on (test_conversation)


async def test_console_gateway_replies_can_be_reported_on_by_hand(
    texter: Callable[..., Texter], settings: Settings, services: Services, rows: RowFetcher
) -> None:
    phone = texter()
    await phone.send("HALI")
    await drain(settings, services)
    [message] = await rows("sms_message")
    assert message["gateway_message_id"].startswith("console-")
    response = await phone.client.post(
        "/sms/delivery-reports",
        data={"id": message["gateway_message_id"], "status": "Success", "phoneNumber": "x"},
    )
    assert response.status_code == 200
    assert (await rows("sms_message"))[0]["status"] == "delivered"


async def test_with_the_database_down_the_gateway_is_told_to_send_again(
    settings: Settings, clock: Clock, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    broken = open_services(
        settings.model_copy(update={"database_url": "postgresql://postgres@127.0.0.1:1/nser"}),
        clock=clock,
    )
    transport = httpx.ASGITransport(app=create_app(settings, services=broken))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            started = time.monotonic()
            response = await http.post("/sms/inbound", data=FORM)
            report = await http.post("/sms/delivery-reports", data={"id": "x", "status": "Failed"})
            elapsed = time.monotonic() - started
    finally:
        await broken.close()
    assert (response.status_code, response.text) == (503, "unavailable, try again\n")
    assert response.headers["retry-after"] == "5"
    assert report.status_code == 503
    assert elapsed < 5.0
    assert "712345678" not in caplog.text
