"""Bad input at the USSD endpoints: clear errors, nothing stored, nothing leaked."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from core.services import Services, open_services
from core.settings import Settings
from nser.web import create_app
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.phone import Phone

GOOD = {
    "sessionId": "ATUid_0123456789abcdef",
    "serviceCode": "*384*7#",
    "phoneNumber": "+254712345678",
    "networkCode": "63902",
    "text": "2*1*2*1",
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sessionId": None}, "missing field sessionId"),
        ({"serviceCode": None}, "missing field serviceCode"),
        ({"phoneNumber": None}, "missing field phoneNumber"),
        ({"text": None}, "missing field text"),
        ({"sessionId": ""}, "malformed field sessionId"),
        ({"sessionId": "a b"}, "malformed field sessionId"),
        ({"serviceCode": "384; DROP"}, "malformed field serviceCode"),
        ({"networkCode": "net"}, "malformed field networkCode"),
        ({"phoneNumber": "  "}, "malformed field phoneNumber"),
        ({"text": "2*1\n*2"}, "field text holds a control character"),
        ({"text": "1" * 1025}, "field text is longer than 1024 characters"),
        ({"phoneNumber": "+254712345678\x00"}, "field phoneNumber holds a control character"),
        ({"sessionId": "A\x00"}, "field sessionId holds a control character"),
    ],
)
async def test_malformed_callback_is_400_with_reason_and_stores_nothing(
    client: httpx.AsyncClient,
    rows: RowFetcher,
    services: Services,
    change: dict[str, str | None],
    reason: str,
) -> None:
    form = {key: value for key, value in {**GOOD, **change}.items() if value is not None}
    response = await client.post("/ussd", data=form)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == f"{reason}\n"
    assert await rows("subject") == []
    assert await rows("exclusion") == []
    assert await services.redis.dbsize() == 0


async def test_json_body_is_rejected_not_guessed(client: httpx.AsyncClient) -> None:
    response = await client.post("/ussd", json=GOOD)
    assert response.status_code == 400
    assert response.text == "missing field sessionId\n"


async def test_with_redis_unreachable_menus_status_and_exclusion_still_work(
    settings: Settings, rows: RowFetcher, clock: Clock
) -> None:
    # Nobody listens on port 1: every Redis call fails at once. Redis holds only hints.
    unreachable = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    broken = open_services(unreachable, clock=clock)
    app = create_app(settings, services=broken)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            period = await http.post("/ussd", data={**GOOD, "text": "2*1"})
            done = await http.post("/ussd", data={**GOOD, "text": "2*1*2*1"})
            status = await http.post("/ussd", data={**GOOD, "sessionId": "S2", "text": "2*2"})
    finally:
        await broken.close()
    assert period.text.startswith("CON Stop betting for how long?")
    assert done.text.startswith("END Done. You are excluded from betting until 21/11/2027.")
    assert status.text.startswith("CON You are excluded from betting until 21/11/2027.")
    assert len(await rows("exclusion")) == 1


async def test_with_the_database_unreachable_menus_work_and_the_rest_apologises(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = "postgresql://postgres@127.0.0.1:1/nowhere"
    broken = open_services(settings.model_copy(update={"database_url": unreachable}))
    app = create_app(settings, services=broken)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            with caplog.at_level(logging.ERROR):
                menu = await http.post("/ussd", data={**GOOD, "text": "2*1"})
                english = await http.post("/ussd", data={**GOOD, "text": "2*2"})
                swahili = await http.post("/ussd", data={**GOOD, "text": "1*1*2*1"})
                item = await http.post("/ussd", data={**GOOD, "text": "2*4*1*2*1*4"})
                result = await http.post("/ussd", data={**GOOD, "text": "2*4*2*2"})
    finally:
        await broken.close()
    assert menu.text.startswith("CON Stop betting for how long?")
    # A screening's items need no database; its result screen stores, so it apologises.
    assert item.text.startswith("CON 2/9 Have you needed to bet larger amounts")
    assert result.text == "END Sorry, something went wrong. Please try again later."
    assert english.text == "END Sorry, something went wrong. Please try again later."
    assert swahili.text == ("END Samahani, hitilafu imetokea. Tafadhali jaribu tena baadaye.")
    assert "USSD session ATUid_0123456789abcdef failed" in caplog.text
    assert "712345678" not in caplog.text


async def test_end_of_session_notification_is_recorded_without_the_msisdn(
    client: httpx.AsyncClient, rows: RowFetcher
) -> None:
    response = await client.post(
        "/ussd/events",
        data={
            "sessionId": "ATUid_0123456789abcdef",
            "serviceCode": "*384*7#",
            "networkCode": "63902",
            "phoneNumber": "+254712345678",
            "status": "Incomplete",
            "cost": "KES 0.0000",
            "durationInMillis": "30125",
            "hopsCount": "3",
            "input": "2*1*2",
            "lastAppResponse": "CON You will be blocked…",
            "errorMessage": "",
            "date": "2026-11-21 12:00:00",
        },
    )
    assert response.status_code == 200
    assert response.text == "OK"
    [event] = await rows("ussd_session_event")
    assert event["session_id"] == "ATUid_0123456789abcdef"
    assert event["status"] == "Incomplete"
    assert event["duration_ms"] == 30125
    assert event["hops_count"] == 3
    assert "input" not in event  # what the citizen typed may be a phone or ID number
    assert len(event["msisdn_bidx"]) == 64
    assert "712345678" not in repr(event)


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"status": "Success"}, "missing field sessionId"),
        (
            {"sessionId": "s1", "durationInMillis": "soon"},
            "field durationInMillis must be a whole number",
        ),
        (
            {"sessionId": "s1", "durationInMillis": "3000000000"},
            "field durationInMillis is out of range",
        ),
        ({"sessionId": "s1", "hopsCount": "99999999999"}, "field hopsCount is out of range"),
        ({"sessionId": "s1", "hopsCount": "-1"}, "field hopsCount must be a whole number"),
        ({"sessionId": "s1", "hopsCount": "\u0663"}, "field hopsCount must be a whole number"),
        ({"sessionId": "s1", "status": "Incomplete\x00"}, "field status holds a control character"),
        ({"sessionId": "s1", "input": "2*\x001"}, "field input holds a control character"),
        (
            {"sessionId": "s1", "errorMessage": "e" * 513},
            "field errorMessage is longer than 512 characters",
        ),
        ({"sessionId": "s\x00"}, "field sessionId holds a control character"),
    ],
)
async def test_malformed_notification_is_400(
    client: httpx.AsyncClient, rows: RowFetcher, form: dict[str, str], reason: str
) -> None:
    response = await client.post("/ussd/events", data=form)
    assert response.status_code == 400
    assert response.text == f"{reason}\n"
    assert await rows("ussd_session_event") == []


async def test_healthz_reports_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_msisdn_spellings_are_one_subject(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    await phone("0712345678").screen("2*1*1*1")
    answer = await phone("254712345678").screen("2*2")
    assert answer.startswith("CON You are excluded from betting until")
    assert len(await rows("subject")) == 1
