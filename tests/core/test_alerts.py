"""Alerts go once per incident, audited without the number; the send rate holds across senders."""

from __future__ import annotations

import pytest

from core import alerts
from core.sending import SendRate
from core.services import Services
from tests.support.clock import Clock
from tests.support.databases import RowFetcher

CONTACT = "+254733000111"


async def raise_alert(services: Services, clock: Clock, incident: str, template: str) -> bool:
    async with services.db() as db:
        raised = await alerts.alert(
            db,
            keyring=services.keyring,
            msisdn=CONTACT,
            incident=incident,
            template=template,
            params={"operator": "Example Bet Ltd"},
            actor="system:webhooks",
            now=clock.now,
        )
        await db.commit()
    return raised


async def test_one_sms_per_incident_audited_without_the_number(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    assert await raise_alert(
        services, clock, "webhook.disabled:op-7:1", "operator_webhook_disabled"
    )
    assert not await raise_alert(
        services, clock, "webhook.disabled:op-7:1", "operator_webhook_disabled"
    )
    assert await raise_alert(
        services, clock, "webhook.failing:op-7:2026-11-21T09", "operator_deliveries_failing"
    )
    messages = await rows("sms_message")
    assert [(m["kind"], m["template"], m["language"]) for m in messages] == [
        ("alert", "operator_webhook_disabled", "en"),
        ("alert", "operator_deliveries_failing", "en"),
    ]
    assert all(b"733000111" not in m["msisdn_sealed"] for m in messages)
    entries = [e for e in await rows("audit_entry") if e["action"] == "alert.raised"]
    assert [e["after"]["incident"] for e in entries] == [
        "webhook.disabled:op-7:1",
        "webhook.failing:op-7:2026-11-21T09",
    ]
    assert "733000111" not in str(entries)
    with pytest.raises(KeyError):
        await raise_alert(services, clock, "other", "no_such_template")


async def test_the_send_rate_makes_the_next_sender_wait_for_the_next_second(
    services: Services,
) -> None:
    moment = [1_000_000.25]

    async def sleep(seconds: float) -> None:
        moment[0] += seconds

    rate = SendRate(services.redis, 2, clock=lambda: moment[0], sleep=sleep)
    waits = [await rate.acquire() for _ in range(5)]
    assert waits == [0.0, 0.0, pytest.approx(0.75), 0.0, pytest.approx(1.0)]
