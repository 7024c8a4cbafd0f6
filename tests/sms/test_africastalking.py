"""MT through the real africastalking SDK, over real HTTP, to a fake Africa's Talking server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from core import messages
from core.errors import ConfigurationError
from core.sending import BACKOFF, MAX_ATTEMPTS
from core.services import Services
from core.settings import Settings
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.fake_africastalking import FakeAfricasTalking, fake_africastalking
from tests.support.texter import Texter
from tests.support.worker import drain, run_job

OPS = "+254700000999"
CITIZEN = "+254712345678"
STATUS_REPLY = "You are not self-excluded. To stop betting, send EXCLUDE 1Y."


@pytest.fixture
def fake() -> Iterator[FakeAfricasTalking]:
    with fake_africastalking() as server:
        yield server


@pytest.fixture
def at_settings(settings: Settings, services: Services, fake: FakeAfricasTalking) -> Settings:
    """The test settings with Africa's Talking as the gateway, pointed at the fake.

    The open services read them too (jobs take the alert number and timeouts there).
    """
    services.settings = Settings.model_validate(
        {
            **settings.model_dump(),
            "sms_gateway": "africastalking",
            "africastalking_username": "nser-test",
            "africastalking_api_key": "at-test-key",
            "africastalking_api_url": fake.url,
            "sms_sender": "40400",
            "ops_alert_number": OPS,
            "sms_timeout": 3,
        }
    )
    return services.settings


async def test_the_sdk_posts_to_the_configured_url_and_the_log_records_it(
    texter: Callable[..., Texter],
    at_settings: Settings,
    services: Services,
    fake: FakeAfricasTalking,
    rows: RowFetcher,
) -> None:
    phone = texter()
    await phone.send("STATUS")
    await drain(at_settings, services)
    [request] = fake.requests
    assert request.path == "/version1/messaging"
    assert request.headers["apikey"] == "at-test-key"
    assert request.headers["accept"] == "application/json"
    assert request.form == {
        "username": "nser-test",
        "to": CITIZEN,
        "message": STATUS_REPLY,
        "bulkSMSMode": "1",
        "from": "40400",
    }
    [message] = await rows("sms_message")
    assert message["status"] == "sent"
    assert message["gateway_message_id"] == "ATXid_fake_1"
    assert message["gateway_status"] == "Success"
    assert message["cost"] == "KES 0.8000"
    assert message["attempts"] == 1


async def test_a_reply_to_an_mo_with_a_link_id_is_a_premium_reply_linked_to_it(
    texter: Callable[..., Texter],
    at_settings: Settings,
    services: Services,
    fake: FakeAfricasTalking,
    rows: RowFetcher,
) -> None:
    phone = texter()
    phone.shortcode = "22384"  # a premium shortcode: the reply comes from it, not NSER_SMS_SENDER
    await phone.send("STATUS", link_id="SampleLinkId123")
    await phone.send("JIZUIE MWAKA 1", link_id="SampleLinkId124")
    await phone.send("NDIYO", link_id="SampleLinkId125")
    await drain(at_settings, services)
    status, asked, confirmation = fake.requests
    assert status.path == "/version1/messaging"  # the content API, at the configured URL
    assert status.headers["apikey"] == "at-test-key"
    assert status.form == {
        "username": "nser-test",
        "to": CITIZEN,
        "from": "22384",
        "message": STATUS_REPLY,
        "bulkSMSMode": "0",
        "linkId": "SampleLinkId123",
    }
    assert (asked.form["linkId"], asked.form["from"]) == ("SampleLinkId124", "22384")
    # The confirmation is a notice of the exclusion (any channel), not a reply: a bulk send.
    assert "linkId" not in confirmation.form
    assert (confirmation.form["bulkSMSMode"], confirmation.form["from"]) == ("1", "40400")
    messages_ = await rows("sms_message")
    assert [(m["kind"], m["link_id"], m["short_code"]) for m in messages_] == [
        ("reply", "SampleLinkId123", "22384"),
        ("reply", "SampleLinkId124", "22384"),
        ("confirmation", None, None),
    ]
    assert [m["status"] for m in messages_] == ["sent"] * 3


async def test_delivery_reports_update_the_log_in_any_order_any_number_of_times(
    texter: Callable[..., Texter],
    at_settings: Settings,
    services: Services,
    rows: RowFetcher,
) -> None:
    phone = texter()
    await phone.send("STATUS")
    await drain(at_settings, services)

    async def report(status: str, **extra: str) -> None:
        form = {"id": "ATXid_fake_1", "status": status, "phoneNumber": CITIZEN, **extra}
        response = await phone.client.post("/sms/delivery-reports", data=form)
        assert (response.status_code, response.text) == (200, "OK")

    await report("Buffered", networkCode="63902")
    assert (await rows("sms_message"))[0]["status"] == "sent"
    assert (await rows("sms_message"))[0]["gateway_status"] == "Buffered"
    await report("Failed", failureReason="AbsentSubscriber", retryCount="2")
    await report("Success")  # late, out of order: the first final report stands
    await report("Failed", failureReason="AbsentSubscriber")  # repeated
    await report("Submitted")
    [message] = await rows("sms_message")
    assert message["status"] == "failed"
    assert message["gateway_status"] == "Failed"
    assert message["failure_reason"] == "AbsentSubscriber"
    unknown = await phone.client.post(
        "/sms/delivery-reports", data={"id": "ATXid_nobody", "status": "Success"}
    )
    assert unknown.status_code == 200


@pytest.mark.parametrize("refusal", ["UserInBlacklist", "InvalidPhoneNumber"])
async def test_a_refusal_for_good_fails_the_message_at_once(
    texter: Callable[..., Texter],
    at_settings: Settings,
    services: Services,
    fake: FakeAfricasTalking,
    rows: RowFetcher,
    clock: Clock,
    refusal: str,
) -> None:
    fake.answer(CITIZEN, refusal)
    await texter().send("STATUS")
    await drain(at_settings, services)
    [message] = await rows("sms_message")
    assert (message["status"], message["gateway_status"]) == ("failed", refusal)
    assert message["final_at"] is not None
    assert len(fake.requests) == 1
    async with services.db() as db:  # what the back-office lists for staff
        [failure] = await messages.failures(db, since=clock.now - timedelta(hours=1))
    assert (failure.id, failure.kind, failure.gateway_status) == (message["id"], "reply", refusal)


async def test_insufficient_balance_is_retried_and_alerts_operations_once(
    texter: Callable[..., Texter],
    at_settings: Settings,
    services: Services,
    fake: FakeAfricasTalking,
    rows: RowFetcher,
    clock: Clock,
) -> None:
    fake.answer(CITIZEN, "InsufficientBalance", "InsufficientBalance")
    phone = texter()
    await phone.send("STATUS")
    await phone.send("HELP")
    await drain(at_settings, services)
    by_kind = {m["kind"]: m for m in await rows("sms_message")}
    assert by_kind["reply"]["status"] == "queued"
    assert by_kind["reply"]["gateway_status"] == "InsufficientBalance"
    alert = by_kind["alert"]
    assert alert["status"] == "sent"
    assert alert["body"] == (
        "NSER alert: the SMS gateway reports insufficient balance. Citizens' messages are "
        "waiting. Please top up the account."
    )
    assert [r.form["to"] for r in fake.requests].count(OPS) == 1
    raised = [e for e in await rows("audit_entry") if e["action"] == "alert.raised"]
    assert [e["after"] for e in raised] == [
        {"incident": "sms.low_balance:2026-11-21", "template": "ops_low_balance"}
    ]
    clock.advance(seconds=BACKOFF[0])
    await run_job(at_settings, services, "sweep_messages")
    assert {m["status"] for m in await rows("sms_message")} == {"sent"}
    assert len([m for m in await rows("sms_message") if m["kind"] == "alert"]) == 1


async def test_http_errors_are_retried_then_fail_and_alert_after_minutes(
    texter: Callable[..., Texter],
    at_settings: Settings,
    services: Services,
    fake: FakeAfricasTalking,
    rows: RowFetcher,
    clock: Clock,
) -> None:
    fake.answer(CITIZEN, *([503] * MAX_ATTEMPTS))
    await texter().send("STATUS")
    await drain(at_settings, services)
    for pause in BACKOFF:
        clock.advance(seconds=pause)
        await run_job(at_settings, services, "sweep_messages")
    messages = await rows("sms_message")
    reply = next(m for m in messages if m["kind"] == "reply")
    assert (reply["status"], reply["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert reply["failure_reason"] == "HTTPError"
    assert len([r for r in fake.requests if r.form["to"] == CITIZEN]) == MAX_ATTEMPTS
    [alert] = [m for m in messages if m["kind"] == "alert"]
    assert alert["body"] == (
        "NSER alert: SMS sending has been failing for 18 minutes (HTTPError). "
        "Messages are kept and retried."
    )


async def test_an_unreachable_gateway_is_retried(
    texter: Callable[..., Texter], at_settings: Settings, services: Services, rows: RowFetcher
) -> None:
    closed = at_settings.model_copy(update={"africastalking_api_url": "http://127.0.0.1:9"})
    await texter().send("STATUS")
    await drain(closed, services)
    [message] = await rows("sms_message")
    assert (message["status"], message["gateway_status"]) == ("queued", "ConnectionError")


def test_settings_refuse_africastalking_without_credentials() -> None:
    with pytest.raises(ConfigurationError, match="AFRICASTALKING_USERNAME and"):
        Settings.model_validate({"sms_gateway": "africastalking", "africastalking_username": "x"})
    with pytest.raises(ConfigurationError, match="NSER_AFRICASTALKING_API_URL"):
        Settings.model_validate({"africastalking_api_url": "ftp://example"})
    with pytest.raises(ConfigurationError, match="NSER_OPS_ALERT_NUMBER"):
        Settings.model_validate({"ops_alert_number": "020 2222222"})
