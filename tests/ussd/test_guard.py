"""Only the gateway may call the USSD callbacks: path token, source networks, service codes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from core.errors import ConfigurationError
from core.services import Services
from core.settings import Settings
from nser.web import create_app
from tests.support.databases import RowFetcher
from tests.support.keys import TEST_AUDIT_SIGNING_KEY, TEST_ENCRYPTION_KEYS, TEST_INDEX_KEY

TOKEN = "s3cret-path-token-0123456789"
FORM = {
    "sessionId": "ATUid_guard",
    "serviceCode": "*384*7#",
    "phoneNumber": "+254712345678",
    "networkCode": "63902",
    "text": "2*1*4*1",
}
GATEWAY = "196.201.214.10"

Client = Callable[..., Any]


@asynccontextmanager
async def calling(
    settings: Settings, services: Services, *, source: str = GATEWAY, **config: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling the app built with ``config`` from address ``source``."""
    app = create_app(
        Settings.model_validate({**settings.model_dump(), **config}), services=services
    )
    transport = httpx.ASGITransport(app=app, client=(source, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def assert_nothing_stored(rows: RowFetcher, services: Services) -> None:
    assert await rows("subject") == []
    assert await rows("exclusion") == []
    assert await rows("ussd_session_event") == []
    assert await services.redis.dbsize() == 0


async def test_with_a_token_only_the_token_path_is_served(
    settings: Settings, services: Services, rows: RowFetcher, caplog: pytest.LogCaptureFixture
) -> None:
    async with calling(settings, services, callback_token=TOKEN) as http:
        with caplog.at_level(logging.WARNING):
            bare = await http.post("/ussd", data=FORM)
            wrong = await http.post("/ussd/not-the-token-at-all-000", data=FORM)
            events = await http.post("/ussd/events", data={"sessionId": "x"})
        assert bare.status_code == wrong.status_code == events.status_code == 403
        assert bare.text == "forbidden\n"
        await assert_nothing_stored(rows, services)
        assert "refused ussd callback #1 from 196.201.214.10: wrong or missing path token" in (
            caplog.text
        )
        assert "refused ussd callback #3" in caplog.text
        assert "712345678" not in caplog.text
        good = await http.post(f"/ussd/{TOKEN}", data={**FORM, "text": ""})
        assert good.status_code == 200
        assert good.text.startswith("CON Karibu NSER")
        noted = await http.post(f"/ussd/{TOKEN}/events", data={"sessionId": "x"})
        assert noted.status_code == 200


async def test_without_a_token_a_token_path_is_refused(
    settings: Settings, services: Services, rows: RowFetcher
) -> None:
    async with calling(settings, services) as http:
        response = await http.post(f"/ussd/{TOKEN}", data=FORM)
    assert response.status_code == 403
    await assert_nothing_stored(rows, services)


async def test_the_allowlist_refuses_other_sources(
    settings: Settings, services: Services, rows: RowFetcher
) -> None:
    allow = {"callback_allow": "196.201.214.0/24, 2001:db8::/32"}
    async with calling(settings, services, source="203.0.113.9", **allow) as http:
        refused = await http.post("/ussd", data=FORM)
        # A forwarded header from an untrusted peer is not believed.
        spoofed = await http.post("/ussd", data=FORM, headers={"X-Forwarded-For": GATEWAY})
    assert refused.status_code == spoofed.status_code == 403
    await assert_nothing_stored(rows, services)
    async with calling(settings, services, source=GATEWAY, **allow) as http:
        assert (await http.post("/ussd", data={**FORM, "text": ""})).status_code == 200


async def test_a_trusted_proxy_forwards_the_gateway_address(
    settings: Settings, services: Services, rows: RowFetcher
) -> None:
    config = {"callback_allow": "196.201.214.0/24", "trusted_proxies": "10.0.0.0/8"}
    async with calling(settings, services, source="10.1.2.3", **config) as http:
        through = await http.post(
            "/ussd", data={**FORM, "text": ""}, headers={"X-Forwarded-For": f"{GATEWAY}"}
        )
        # The right-most untrusted hop counts: a client-supplied left-most value does not.
        forged = await http.post(
            "/ussd",
            data={**FORM, "text": ""},
            headers={"X-Forwarded-For": f"{GATEWAY}, 203.0.113.9"},
        )
        direct = await http.post("/ussd", data={**FORM, "text": ""})
    assert through.status_code == 200
    assert forged.status_code == 403
    assert direct.status_code == 403  # the proxy itself is not the gateway


async def test_a_service_code_that_is_not_ours_is_refused(
    settings: Settings, services: Services, rows: RowFetcher
) -> None:
    async with calling(settings, services, ussd_service_codes="*384*7#,*483#") as http:
        other = await http.post("/ussd", data={**FORM, "serviceCode": "*999#"})
        ours = await http.post("/ussd", data={**FORM, "serviceCode": "*483#", "text": ""})
    assert other.status_code == 403
    assert ours.status_code == 200
    assert await rows("exclusion") == []


@pytest.mark.parametrize(
    ("extra", "missing"),
    [
        ({}, "NSER_CALLBACK_TOKEN or NSER_CALLBACK_ALLOW"),
        ({"callback_token": TOKEN}, "NSER_USSD_SERVICE_CODES"),
    ],
)
def test_production_refuses_to_start_open_to_anyone(extra: dict[str, str], missing: str) -> None:
    base = {
        "env": "production",
        "database_url": "postgresql://db/nser",
        "redis_url": "redis://cache/0",
        "encryption_keys": TEST_ENCRYPTION_KEYS,
        "index_key": TEST_INDEX_KEY,
        "audit_signing_key": TEST_AUDIT_SIGNING_KEY,
        "helpline_name": "Real Helpline",
        "helpline_number": "0800123456",
        "regulator_contact": "GRAK 0800720001",
        "sms_gateway": "africastalking",
        "africastalking_username": "nser",
        "africastalking_api_key": "at-key",
        "sms_sender": "40400",
        "ops_alert_number": "+254722000000",
    }
    with pytest.raises(ConfigurationError, match=missing):
        Settings.model_validate({**base, **extra})
    Settings.model_validate(
        {**base, "callback_token": TOKEN, "ussd_service_codes": "*384*7#", **extra}
    )


@pytest.mark.parametrize(
    ("field", "value"), [("callback_allow", "not-a-network"), ("callback_token", "short")]
)
def test_bad_guard_settings_are_refused(field: str, value: str) -> None:
    with pytest.raises(ConfigurationError):
        Settings.model_validate({field: value})
