"""A citizen texts keywords to the shortcode; the worker answers by SMS (console gateway)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import pytest

from core.services import Services
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.texter import Texter

REF = r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}"
Work = Callable[[], Awaitable[None]]

EN_ASK = (
    "You will be blocked from all licensed betting until 21/11/2027. "
    "You cannot cancel this later. Reply YES within 10 minutes to confirm."
)
EN_DONE = (
    rf"NSER: you are excluded from betting until 21/11/2027\.\nReference: ({REF})\n"
    r"Helpline: TEST Helpline 0800000000"
)
SW_ASK = (
    "Utazuiwa kubeti kwenye kampuni zote zenye leseni hadi 21/11/2027. "
    "Hutaweza kughairi baadaye. Jibu NDIYO ndani ya dakika 10 kuthibitisha."
)
SW_DONE = (
    rf"NSER: umejizuia kubeti hadi 21/11/2027\.\nNambari ya kumbukumbu: ({REF})\n"
    r"Simu ya msaada: TEST Helpline 0800000000"
)
NOT_UNDERSTOOD = (
    "Samahani, hatukuelewa. Tuma JIZUIE, HALI au MSAADA.\n"
    "Sorry, we did not understand. Send EXCLUDE, STATUS or HELP."
)


@pytest.mark.parametrize(
    ("ask", "yes", "asked", "done", "lang"),
    [
        ("EXCLUDE 1Y", "YES", EN_ASK, EN_DONE, "en"),
        ("  jizuie, mwaka 1! ", "Ndio", SW_ASK, SW_DONE, "sw"),
    ],
    ids=["english", "swahili"],
)
async def test_keyword_then_yes_excludes_once_and_confirms_by_sms(
    texter: Callable[..., Texter],
    work: Work,
    rows: RowFetcher,
    services: Services,
    caplog: pytest.LogCaptureFixture,
    ask: str,
    yes: str,
    asked: str,
    done: str,
    lang: str,
) -> None:
    phone = texter()
    with caplog.at_level(logging.INFO):
        await phone.send(ask)
        await work()
        assert await phone.inbox() == [asked]
        assert await rows("exclusion") == []  # asking changes nothing
        await phone.send(yes)
        await work()
    first, second = await phone.inbox()
    assert first == asked
    match = re.fullmatch(done, second)
    assert match, second
    [exclusion] = await rows("exclusion")
    assert exclusion["reference"] == match.group(1)
    assert exclusion["channel"] == "sms"
    assert exclusion["period"] == "1y"
    assert exclusion["idempotency_key"] == f"sms:{phone.sent[1]}"
    [subject] = await rows("subject")
    assert subject["language"] == lang
    messages = await rows("sms_message")
    assert [m["status"] for m in messages] == ["sent", "sent"]
    assert [m["kind"] for m in messages] == ["reply", "confirmation"]
    assert all(b"712345678" not in m["msisdn_sealed"] for m in messages)
    inbound = await rows("sms_inbound")
    assert [m["outcome"] for m in inbound] == ["asked", "confirmed"]
    assert all(b"712345678" not in m["msisdn_sealed"] for m in inbound)
    assert all(ask.encode() not in m["text_sealed"] for m in inbound)
    assert "SMS to +2547*****678: " in caplog.text  # the console gateway, number masked
    assert "712345678" not in caplog.text
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions == ["subject.created", "exclusion.created"]


async def test_a_repeated_mo_is_stored_and_answered_once(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher
) -> None:
    phone = texter()
    await phone.send("STATUS", message_id="ATXid_same")
    await phone.send("STATUS", message_id="ATXid_same")
    await work()
    await phone.send("STATUS", message_id="ATXid_same")
    await work()
    assert len(await rows("sms_inbound")) == 1
    assert await phone.inbox() == ["You are not self-excluded. To stop betting, send EXCLUDE 1Y."]


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("", NOT_UNDERSTOOD),
        ("   \n ", NOT_UNDERSTOOD),
        ("asdf qwerty", NOT_UNDERSTOOD),
        ("JIONDOE", NOT_UNDERSTOOD),
        ("x" * 1600, NOT_UNDERSTOOD),
        ("HALI", "Hujajizuia kubeti. Ili kujizuia, tuma JIZUIE MWAKA 1."),
        (
            "help",
            "NSER helps you block yourself from all licensed betting in Kenya.\n"
            "Send EXCLUDE 1Y, STATUS or LANGUAGE.\nHelpline: TEST Helpline 0800000000",
        ),
        (
            "MSAADA",
            "NSER inakusaidia kujizuia kubeti kwa kampuni zote zenye leseni.\n"
            "Tuma JIZUIE MWAKA 1, HALI au LUGHA.\nSimu ya msaada: TEST Helpline 0800000000",
        ),
        (
            "EXCLUDE 7 YEARS",
            "For how long? Send EXCLUDE 6M, EXCLUDE 1Y, EXCLUDE 5Y or EXCLUDE PERMANENT.",
        ),
        (
            "JIZUIE",
            "Kwa muda gani? Tuma JIZUIE MIEZI 6, JIZUIE MWAKA 1, JIZUIE MIAKA 5 au JIZUIE KUDUMU.",
        ),
        (
            "YES",
            "There is nothing to confirm, or more than 10 minutes have passed. "
            "To stop betting, send EXCLUDE 1Y.",
        ),
        ("HAPANA", "Sawa, hakuna kilichobadilishwa."),
    ],
    ids=lambda value: value[:16],
)
async def test_every_message_gets_one_short_helpful_reply(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher, body: str, reply: str
) -> None:
    phone = texter()
    await phone.send(body)
    await work()
    assert await phone.inbox() == [reply]
    assert await rows("exclusion") == []


async def test_a_late_yes_is_refused_and_no_withdraws(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher, clock: Clock
) -> None:
    phone = texter()
    await phone.send("EXCLUDE PERMANENT")
    await work()
    clock.advance(minutes=10, seconds=1)
    await phone.send("YES")
    await work()
    await phone.send("EXCLUDE 6 months")
    await phone.send("NO")
    await phone.send("YES")
    await work()
    inbox = await phone.inbox()
    assert inbox[0].startswith("You will be blocked from all licensed betting permanently.")
    assert inbox[1].startswith("There is nothing to confirm, or more than 10 minutes")
    assert inbox[2].startswith("You will be blocked from all licensed betting until 21/05/2027")
    assert inbox[3] == "OK, nothing was changed."
    assert inbox[4].startswith("There is nothing to confirm")
    assert await rows("exclusion") == []


async def test_already_excluded_and_extension_behave_as_on_ussd(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher, clock: Clock
) -> None:
    phone = texter()
    await phone.send("EXCLUDE 1Y")
    await phone.send("YES")
    await work()
    await phone.send("EXCLUDE 6M")
    await work()
    reference = (await rows("exclusion"))[0]["reference"]
    assert (await phone.inbox())[-1] == (
        f"You are already excluded until 21/11/2027.\nReference: {reference}\n"
        "An exclusion can only be made longer, never shorter."
    )
    clock.advance(days=30)
    await phone.send("EXCLUDE 5Y")
    await work()
    assert (await phone.inbox())[-1] == (
        "You are excluded until 21/11/2027. Stay excluded until 21/12/2031? "
        "You cannot cancel this later. Reply YES within 10 minutes to confirm."
    )
    await phone.send("yes")
    await work()
    assert (await phone.inbox())[-1] == (
        f"NSER: your exclusion now lasts until 21/12/2031.\nReference: {reference}\n"
        "Helpline: TEST Helpline 0800000000"
    )
    await phone.send("status")
    await work()
    assert (await phone.inbox())[-1] == (
        f"You are excluded from betting until 21/12/2031.\nReference: {reference}"
    )
    events = [event["type"] for event in await rows("exclusion_event")]
    assert events == ["exclusion.created", "exclusion.extended"]


async def test_language_keyword_sets_the_preferred_language(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher
) -> None:
    phone = texter()
    await phone.send("JIZUIE MIEZI 6")
    await phone.send("NDIYO")
    await work()
    await phone.send("LANGUAGE")
    await work()
    assert (await phone.inbox())[-1] == "Your language is now English. For Kiswahili, send LUGHA."
    assert [s["language"] for s in await rows("subject")] == ["en"]
    await phone.send("lugha")
    await work()
    assert (await phone.inbox())[-1] == "Lugha yako sasa ni Kiswahili. For English, send LANGUAGE."
    assert [s["language"] for s in await rows("subject")] == ["sw"]
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions.count("subject.language_changed") == 2


@pytest.mark.parametrize("sender", ["+447700900123", "not-a-number", "+254202222222"])
async def test_a_sender_we_cannot_answer_is_stored_and_gets_nothing(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher, sender: str
) -> None:
    phone = texter(sender)
    await phone.send("EXCLUDE 1Y")
    await work()
    [inbound] = await rows("sms_inbound")
    assert inbound["outcome"] == "ignored"
    assert await rows("sms_message") == []
    assert await rows("subject") == []


async def test_messages_of_one_sender_are_handled_in_order_even_if_swept_late(
    texter: Callable[..., Texter],
    work: Work,
    rows: RowFetcher,
    services: Services,
    clock: Clock,
) -> None:
    phone = texter()
    await phone.send("JIZUIE MWAKA 1")
    await phone.send("NDIYO")
    await services.redis.flushdb()  # the jobs are lost: Redis went down after the commits
    clock.advance(minutes=30)  # the worker comes back much later
    await work()
    assert [mo["processed_at"] for mo in await rows("sms_inbound")] == [None, None]
    assert await rows("exclusion") == []  # nothing without the sweeper
    await services.queue.enqueue_job("sweep_inbound")
    await work()
    [exclusion] = await rows("exclusion")
    assert exclusion["channel"] == "sms"
    inbox = await phone.inbox()
    assert inbox[0] == SW_ASK
    assert re.fullmatch(SW_DONE.replace("21/11/2027", "21/11/2027"), inbox[1])
