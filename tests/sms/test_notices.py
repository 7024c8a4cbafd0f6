"""Every exclusion, whatever the channel, is confirmed by SMS; reminders and notices come once."""

from __future__ import annotations

import re
from collections.abc import Callable

from core import exclusions, notices, queue
from core.models import Channel
from core.periods import Period
from core.services import Services
from core.settings import Settings
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.phone import Phone
from tests.support.texter import Texter
from tests.support.worker import drain, run_job

REF = r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}"


async def test_a_ussd_exclusion_is_confirmed_by_sms(
    phone: Callable[..., Phone],
    texter: Callable[..., Texter],
    settings: Settings,
    services: Services,
    rows: RowFetcher,
) -> None:
    answer = await phone().screen("1*1*3*1")
    assert answer.endswith("\nSMS itafuata.")
    await drain(settings, services)
    [sms] = await texter().inbox()
    assert re.fullmatch(
        rf"NSER: umejizuia kubeti hadi 21/11/2031\.\nNambari ya kumbukumbu: {REF}\n"
        r"Simu ya msaada: TEST Helpline 0800000000",
        sms,
    )
    reference = (await rows("exclusion"))[0]["reference"]
    assert reference in sms
    [message] = await rows("sms_message")
    assert (message["kind"], message["status"], message["language"]) == (
        "confirmation",
        "sent",
        "sw",
    )


async def exclude(services: Services, clock: Clock, period: Period, key: str) -> None:
    async with services.db() as db:
        await exclusions.self_exclude(
            db,
            keyring=services.keyring,
            msisdn="+254712345678",
            period=period,
            channel=Channel.USSD,
            request_key=key,
            language="en",
            actor="citizen:test",
            now=clock.now,
        )
        await db.commit()


async def test_reminder_once_before_the_end_offers_a_one_reply_extension(
    texter: Callable[..., Texter],
    settings: Settings,
    services: Services,
    rows: RowFetcher,
    clock: Clock,
) -> None:
    await exclude(services, clock, Period.SIX_MONTHS, "k1")  # until 21/05/2027
    clock.advance(days=170)  # 10 days before the end: not yet
    await run_job(settings, services, "send_reminders")
    clock.advance(days=5)  # 6.5 days before
    await run_job(settings, services, "send_reminders")
    await run_job(settings, services, "send_reminders")
    phone = texter()
    inbox = await phone.inbox()
    assert len(inbox) == 2
    assert inbox[1] == (
        "NSER: your exclusion lasts until 21/05/2027. To stay excluded until 15/11/2027, "
        "reply YES. You cannot cancel this later. No more reminders: send STOP."
    )
    clock.advance(days=1)
    await phone.send("YES")
    await drain(settings, services)
    [exclusion] = await rows("exclusion")
    assert exclusion["period"] == "6m"
    assert (await phone.inbox())[-1].startswith(
        "NSER: your exclusion now lasts until 16/11/2027.\nReference: "
    )
    await run_job(settings, services, "send_reminders")  # the new end is far: nothing
    assert len(await phone.inbox()) == 3


async def test_expiry_notice_once_and_stop_turns_both_off(
    texter: Callable[..., Texter],
    settings: Settings,
    services: Services,
    rows: RowFetcher,
    clock: Clock,
) -> None:
    await exclude(services, clock, Period.SIX_MONTHS, "k1")
    clock.advance(days=183)  # past the end
    await run_job(settings, services, "expire_exclusions")
    await run_job(settings, services, "expire_exclusions")
    phone = texter()
    assert (await phone.inbox())[1:] == [
        "NSER: your exclusion has ended. To stop betting again, send EXCLUDE 1Y.\n"
        "Helpline: TEST Helpline 0800000000"
    ]
    # Excluded again, then STOP: neither a reminder nor a notice any more; confirmations still.
    await exclude(services, clock, Period.SIX_MONTHS, "k2")
    await phone.send("STOP")
    await drain(settings, services)
    assert (await phone.inbox())[-1] == (
        "You will get no more reminders. An exclusion stays in force until its end; "
        "SMS cannot stop it."
    )
    clock.advance(days=178)
    await run_job(settings, services, "send_reminders")
    clock.advance(days=10)
    await run_job(settings, services, "expire_exclusions")
    kinds = [m["kind"] for m in await rows("sms_message")]
    assert kinds == ["confirmation", "expiry", "confirmation", "reply"]
    assert [e["action"] for e in await rows("audit_entry")].count("sms.reminders_stopped") == 1


async def test_unasked_sms_wait_for_daytime(
    texter: Callable[..., Texter],
    settings: Settings,
    services: Services,
    rows: RowFetcher,
    clock: Clock,
) -> None:
    await exclude(services, clock, Period.SIX_MONTHS, "k1")  # ends at Nairobi midnight
    clock.advance(days=181, hours=12, minutes=5)  # 22/05/2027 00:05 in Nairobi: just ended
    await run_job(settings, services, "expire_exclusions")
    notice = next(m for m in await rows("sms_message") if m["kind"] == "expiry")
    assert (notice["status"], notice["body"]) == ("queued", None)
    assert notice["next_attempt_at"].isoformat() == "2027-05-22T05:00:00+00:00"  # 08:00 local
    clock.advance(hours=7)  # 07:05: still night
    await run_job(settings, services, "sweep_messages")
    assert (await rows("sms_message"))[-1]["status"] == "queued"
    clock.advance(hours=1)  # 08:05
    await run_job(settings, services, "sweep_messages")
    assert (await rows("sms_message"))[-1]["status"] == "sent"
    assert (await texter().inbox())[-1].startswith("NSER: your exclusion has ended.")


async def test_screening_sms_for_the_screening_seam(
    texter: Callable[..., Texter],
    settings: Settings,
    services: Services,
    rows: RowFetcher,
    clock: Clock,
) -> None:
    await exclude(services, clock, Period.SIX_MONTHS, "k1")
    [subject] = await rows("subject")
    async with services.db() as db:
        for _ in range(2):  # the same result twice: one SMS
            await notices.helpline_after_screening(
                db, subject_id=subject["id"], result_key="result:7", now=clock.now
            )
        await notices.rescreening_due(db, subject_id=subject["id"], now=clock.now)
        await queue.commit(db, services.queue)
    await drain(settings, services)
    assert (await texter().inbox())[1:] == [
        "NSER: talking to someone can help.\nHelpline: TEST Helpline 0800000000\n"
        "To stop betting, send EXCLUDE 1Y.",
        "NSER: as you asked, it is time to check your betting again. "
        "Dial the NSER code and choose 4, or send CHECK. No more reminders: send STOP.",
    ]
