"""A citizen checks their gambling by SMS: CHECK/PIMA, one item per SMS, numbered answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from core import screening
from core.instruments import LIE_BET, PGSI
from core.services import Services
from core.settings import Settings
from sms import screening as sms_screening
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.texter import Texter
from tests.support.ussd_screening import (
    EN_ITEMS,
    EN_SCALE,
    HELPLINE,
    PGSI_TOTALS,
    SW_ITEMS,
    SW_SCALE,
)
from tests.support.worker import run_job

Work = Callable[[], Awaitable[None]]

WORDS = {
    "en": {
        "check": "CHECK",
        "stop": "STOP",
        "opening": "Check your betting, privately. Reply with a number; STOP ends it.",
        "lie_bet": (
            "Have you ever felt the need to bet more and more money?",
            "Have you ever had to lie to people important to you about how much you gambled?",
        ),
        "yes_no": "1. Yes\n2. No",
        "items": EN_ITEMS,
        "scale": EN_SCALE,
        "positive": "Your answers suggest betting may be harming you. 9 more questions about "
        "the last 12 months will tell more.\n1. Continue",
        "moderate": f"Your result: moderate risk.\nHelpline: {HELPLINE}\n"
        "To stop betting, send EXCLUDE 1Y.\n1. Remind me every 3 months",
        "helpline_sms": f"NSER: talking to someone can help.\nHelpline: {HELPLINE}\n"
        "To stop betting, send EXCLUDE 1Y.",
        "reminders_on": "Done. We will send you an SMS every 3 months "
        "to remind you to check again.",
        "exclude": "EXCLUDE 1Y",
        "asked": "You will be blocked from all licensed betting until 21/11/2027. "
        "You cannot cancel this later. Reply YES within 10 minutes to confirm.",
    },
    "sw": {
        "check": "pima",
        "stop": "SITISHA",
        "opening": "Pima tabia yako ya kubeti kwa siri. Jibu kwa nambari; tuma SITISHA kuacha.",
        "lie_bet": (
            "Je, umewahi kuhisi haja ya kubeti pesa zaidi na zaidi?",
            "Je, umewahi kulazimika kuwadanganya watu muhimu kwako kuhusu kiasi ulichobeti?",
        ),
        "yes_no": "1. Ndiyo\n2. Hapana",
        "items": SW_ITEMS,
        "scale": SW_SCALE,
        "positive": "Majibu yako yanaonyesha kwamba huenda kubeti kunakudhuru. Maswali 9 zaidi "
        "kuhusu miezi 12 iliyopita yataeleza zaidi.\n1. Endelea",
        "moderate": f"Matokeo: hatari ya wastani.\nSimu ya msaada: {HELPLINE}\n"
        "Ili kujizuia kubeti, tuma JIZUIE MWAKA 1.\n1. Nikumbushe kila miezi 3",
        "helpline_sms": f"NSER: kuzungumza na mtu kunaweza kusaidia.\nSimu ya msaada: {HELPLINE}\n"
        "Ili kujizuia kubeti, tuma JIZUIE MWAKA 1.",
        "reminders_on": "Imekamilika. Tutakutumia SMS kila miezi 3 kukukumbusha kupima tena.",
        "exclude": "JIZUIE MWAKA 1",
        "asked": "Utazuiwa kubeti kwenye kampuni zote zenye leseni hadi 21/11/2027. "
        "Hutaweza kughairi baadaye. Jibu NDIYO ndani ya dakika 10 kuthibitisha.",
    },
}


@pytest.mark.parametrize("lang", ["en", "sw"])
async def test_a_screening_by_sms_to_moderate_risk_then_reminders_and_exclusion(
    texter: Callable[..., Texter],
    work: Work,
    rows: RowFetcher,
    services: Services,
    lang: str,
) -> None:
    words = WORDS[lang]
    phone = texter()
    await phone.send(str(words["check"]))
    await phone.send("1")  # Lie/Bet: yes
    await phone.send(" 2. ")  # no (spaces and punctuation do not matter)
    await phone.send("1")  # on to the PGSI
    for typed in PGSI_TOTALS[7]:
        await phone.send(typed)
    await work()
    lie_bet, yes_no = words["lie_bet"], words["yes_no"]
    items, scale = words["items"], words["scale"]
    expected = [
        f"{words['opening']}\n1/2 {lie_bet[0]}\n{yes_no}",
        f"2/2 {lie_bet[1]}\n{yes_no}",
        words["positive"],
        *(f"{number}/9 {items[number - 1]}\n{scale}" for number in range(1, 10)),
        # The helpline SMS is written with the result (as after a USSD result), then the reply.
        words["helpline_sms"],
        words["moderate"],
    ]
    assert await phone.inbox() == expected

    lie_bet_row, pgsi_row = await rows("screening_result")
    assert (lie_bet_row["instrument"], lie_bet_row["version"], lie_bet_row["band"]) == (
        "liebet",
        LIE_BET.version,
        "positive",
    )
    assert (pgsi_row["instrument"], pgsi_row["version"], pgsi_row["score"]) == (
        "pgsi",
        PGSI.version,
        7,
    )
    assert pgsi_row["band"] == "moderate_risk"
    assert {row["channel"] for row in (lie_bet_row, pgsi_row)} == {"sms"}
    # Each result is keyed on the MO that completed it.
    assert lie_bet_row["request_key"] == f"sms:{phone.sent[2]}"
    assert pgsi_row["request_key"] == f"sms:{phone.sent[-1]}"
    assert screening.open_answers(services.keyring, pgsi_row["answers_sealed"]) == (
        3,
        3,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
    )
    [helpline] = [m for m in await rows("sms_message") if m["kind"] == "helpline"]
    assert helpline["language"] == lang
    assert {mo["outcome"] for mo in await rows("sms_inbound")} == {"screening"}

    await phone.send("1")  # remind me every 3 months
    await phone.send(str(words["exclude"]))  # the keyword the result offered
    await work()
    assert (await phone.inbox())[-2:] == [words["reminders_on"], words["asked"]]
    [reminder] = await rows("screening_reminder")
    assert (reminder["active"], reminder["channel"]) == (True, "sms")
    assert await rows("sms_screening") == []
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions == [
        "subject.created",
        "screening.recorded",
        "screening.recorded",
        "screening.reminders_on",
    ]


async def test_a_reply_that_is_not_an_answer_is_asked_again_once_then_the_check_stops(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher
) -> None:
    phone = texter()
    await phone.send("CHECK")
    await phone.send("maybe")
    await phone.send("1")  # a valid answer: the count of invalid replies starts again
    await phone.send("3")  # not an option of a yes/no item
    await phone.send("٢")  # not a number NSER reads
    await phone.send("1")  # no screening any more: not understood
    await work()
    inbox = await phone.inbox()
    assert inbox[1] == (
        "Please reply to question 1/2 with the number of your answer:\n1. Yes\n2. No"
    )
    assert inbox[2].startswith("2/2 Have you ever had to lie")
    assert inbox[3] == (
        "Please reply to question 2/2 with the number of your answer:\n1. Yes\n2. No"
    )
    assert inbox[4] == (
        "The check is stopped and your unfinished answers were deleted. To start again, send CHECK."
    )
    assert inbox[5].startswith("Samahani, hatukuelewa.")
    assert await rows("screening_result") == []
    assert await rows("sms_screening") == []


async def test_stop_ends_an_unfinished_check_and_a_second_stop_the_reminders(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher
) -> None:
    phone = texter()
    await phone.send("PIMA")
    await phone.send("1")
    await phone.send("sitisha")
    await phone.send("SITISHA")
    await work()
    inbox = await phone.inbox()
    assert inbox[2] == (
        "Sawa, kipimo kimesitishwa na majibu yako ambayo hayajakamilika yamefutwa. "
        "Kusitisha vikumbusho pia, tuma SITISHA tena."
    )
    assert inbox[3] == (
        "Hutapata vikumbusho tena. Kujizuia kwako kunaendelea hadi mwisho wake; "
        "hakuwezi kusitishwa kwa SMS."
    )
    assert await rows("screening_result") == []
    assert await rows("sms_screening") == []


async def test_other_keywords_are_answered_during_a_check_and_leave_it_open(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher
) -> None:
    phone = texter()
    await phone.send("CHECK")
    await phone.send("STATUS")
    await phone.send("2")
    await phone.send("2")
    await work()
    inbox = await phone.inbox()
    assert inbox[1] == "You are not self-excluded. To stop betting, send EXCLUDE 1Y."
    assert inbox[2].startswith("2/2 ")
    assert inbox[3] == (
        "No sign of harm from betting in your answers.\n"
        "1. 9 more questions (last 12 months)\n2. Remind me every 3 months"
    )
    [result] = await rows("screening_result")
    assert (result["instrument"], result["band"]) == ("liebet", "negative")
    await phone.send("1")  # the PGSI, asked for
    await phone.send("CHECK")  # starts again from the first Lie/Bet item
    await work()
    inbox = await phone.inbox()
    assert inbox[4] == f"1/9 {EN_ITEMS[0]}\n{EN_SCALE}"
    assert inbox[5].startswith("Check your betting, privately.")
    [screening_row] = await rows("sms_screening")
    assert screening_row["instrument"] == "liebet"


async def test_an_answer_after_a_day_of_silence_is_told_the_check_expired(
    texter: Callable[..., Texter],
    work: Work,
    rows: RowFetcher,
    settings: Settings,
    services: Services,
    clock: Clock,
) -> None:
    phone = texter()
    await phone.send("CHECK")
    await phone.send("1")
    await work()
    clock.advance(hours=23, minutes=59)  # a day counts from the last reply
    await phone.send("1")
    await work()
    assert (await phone.inbox())[-1].startswith("Your answers suggest betting may be harming")
    await phone.send("1")
    await work()
    await phone.send("3")  # PGSI 1/9: sometimes
    await work()
    clock.advance(hours=24, seconds=1)
    # The sweeper forgets the unfinished answers even if the citizen never texts again.
    await run_job(settings, services, "sweep_inbound")
    [row] = await rows("sms_screening")
    opened = services.keyring.open(row["answers_sealed"], field=sms_screening.ANSWERS_FIELD)
    assert opened == "[]"
    await phone.send("2")
    await work()
    assert (await phone.inbox())[-1] == (
        "Your check expired after 24 hours without a reply and its unfinished answers were "
        "deleted. To start again, send CHECK."
    )
    assert [row["instrument"] for row in await rows("screening_result")] == ["liebet"]
    assert await rows("sms_screening") == []
    await phone.send("CHECK")
    await work()
    clock.advance(days=8, minutes=1)  # a week after it expired, its row goes too
    await run_job(settings, services, "sweep_inbound")
    assert await rows("sms_screening") == []


async def test_a_repeated_answer_mo_stores_one_result(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher
) -> None:
    phone = texter()
    await phone.send("CHECK")
    await phone.send("2")
    await work()
    await phone.send("2", message_id="ATXid_last_answer")
    await phone.send("2", message_id="ATXid_last_answer")
    await work()
    await phone.send("2", message_id="ATXid_last_answer")
    await work()
    [result] = await rows("screening_result")
    assert result["request_key"] == "sms:ATXid_last_answer"
    assert len(await phone.inbox()) == 3


async def test_stop_turns_the_quarterly_reminders_off_and_a_later_opt_in_wins(
    texter: Callable[..., Texter],
    work: Work,
    rows: RowFetcher,
    settings: Settings,
    services: Services,
    clock: Clock,
) -> None:
    phone = texter()
    for body in ("CHECK", "2", "2", "2"):  # negative, then "remind me every 3 months"
        await phone.send(body)
    await phone.send("STOP")
    await work()
    assert (await phone.inbox())[-1].startswith("You will get no more reminders.")
    [reminder] = await rows("screening_reminder")
    assert reminder["active"] is False
    stops = [e["action"] for e in await rows("audit_entry") if "reminders" in e["action"]]
    assert stops == ["screening.reminders_on", "sms.reminders_stopped", "screening.reminders_off"]

    for body in ("CHECK", "2", "2", "2"):  # asked for again, after STOP
        await phone.send(body)
    await work()
    clock.now = datetime(2027, 2, 21, 10, tzinfo=UTC)  # a quarter on, 13:00 in Nairobi
    assert await run_job(settings, services, "remind_rescreening") == 1
    assert (await phone.inbox())[-1] == (
        "NSER: as you asked, it is time to check your betting again. "
        "Dial the NSER code and choose 4, or send CHECK. No more reminders: send STOP."
    )


async def test_yes_and_no_answer_a_lie_bet_item_unless_an_offer_came_after_it(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher, clock: Clock
) -> None:
    phone = texter()
    await phone.send("EXCLUDE 1Y")  # an offer, older than the check
    clock.advance(minutes=1)
    await phone.send("CHECK")
    await phone.send("Yes")  # answers item 1/2: it was asked after the offer
    await phone.send("HAPANA")
    await work()
    inbox = await phone.inbox()
    assert inbox[2].startswith("2/2 Have you ever had to lie")
    assert inbox[3].startswith("Your answers suggest betting may be harming you.")
    assert await rows("exclusion") == []
    [result] = await rows("screening_result")
    assert (result["instrument"], result["band"]) == ("liebet", "positive")

    other = texter("+254722000111")
    await other.send("CHECK")
    clock.advance(minutes=1)
    await other.send("EXCLUDE 1Y")  # the newest question: YES answers it
    await other.send("YES")
    await other.send("2")  # the check is still open on item 1/2
    await work()
    inbox = await other.inbox()
    assert inbox[2].startswith("NSER: you are excluded from betting until 21/11/2027.")
    assert inbox[3].startswith("2/2 Have you ever had to lie")
    [exclusion] = await rows("exclusion")
    assert exclusion["channel"] == "sms"
