"""A citizen checks their gambling by USSD, end to end, in Swahili and English."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from core import screening
from core.services import Services
from tests.support.audit import sequence, verify_log
from tests.support.databases import RowFetcher
from tests.support.phone import Phone
from tests.support.ussd_screening import (
    BANDS,
    CHECK,
    EN,
    EN_LIE_BET,
    MORE,
    NEGATIVE,
    NO,
    PGSI_TOTALS,
    POSITIVE,
    RESULTS,
    SW,
    SW_LIE_BET,
    YES,
    pgsi_item,
    text,
    to_pgsi_result,
)

LANGS = {"en": EN, "sw": SW}


@pytest.mark.parametrize("lang", ["en", "sw"])
async def test_every_screen_of_a_screening_that_goes_on_to_the_pgsi(
    phone: Callable[..., Phone], rows: RowFetcher, services: Services, lang: str
) -> None:
    handset = phone()
    lie_bet = EN_LIE_BET if lang == "en" else SW_LIE_BET
    inputs = [LANGS[lang], CHECK]
    assert await handset.screen(text(*inputs)) == lie_bet[0]
    inputs.append(YES)
    assert await handset.screen(text(*inputs)) == lie_bet[1]
    inputs.append(NO)
    assert await handset.screen(text(*inputs)) == RESULTS[lang]["positive"]
    inputs.append(MORE)
    for number, typed in enumerate(PGSI_TOTALS[7], start=1):
        assert await handset.screen(text(*inputs)) == pgsi_item(lang, number)
        inputs.append(typed)
    assert await handset.screen(text(*inputs)) == RESULTS[lang]["moderate_risk"]

    lie_bet_row, pgsi_row = await rows("screening_result")
    assert (lie_bet_row["instrument"], lie_bet_row["score"], lie_bet_row["band"]) == (
        "liebet",
        1,
        "positive",
    )
    assert (pgsi_row["instrument"], pgsi_row["score"], pgsi_row["band"]) == (
        "pgsi",
        7,
        "moderate_risk",
    )
    assert {row["channel"] for row in (lie_bet_row, pgsi_row)} == {"ussd"}
    assert {row["request_key"] for row in (lie_bet_row, pgsi_row)} == {f"ussd:{handset.session_id}"}
    sealed = pgsi_row["answers_sealed"]
    assert screening.open_answers(services.keyring, sealed) == (3, 3, 1, 0, 0, 0, 0, 0, 0)
    [subject] = await rows("subject")
    assert subject["language"] == lang
    # The helpline the result screen promises is in the message log, in the citizen's language.
    [sms] = await rows("sms_message")
    assert (sms["kind"], sms["template"], sms["language"]) == (
        "helpline",
        "screening_helpline",
        lang,
    )
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions == ["subject.created", "screening.recorded", "screening.recorded"]
    await sequence(services)
    assert (await verify_log(services)).ok


@pytest.mark.parametrize("lang", ["en", "sw"])
@pytest.mark.parametrize("total", sorted(PGSI_TOTALS))
async def test_the_pgsi_result_names_its_band(
    phone: Callable[..., Phone], rows: RowFetcher, lang: str, total: int
) -> None:
    answer = await phone().screen(to_pgsi_result(LANGS[lang], total))
    band = BANDS[total]
    assert answer == RESULTS[lang][band]
    pgsi_row = (await rows("screening_result"))[-1]
    assert (pgsi_row["score"], pgsi_row["band"]) == (total, band)


@pytest.mark.parametrize("lang", ["en", "sw"])
@pytest.mark.parametrize(
    ("lie_bet", "band"),
    [
        (NEGATIVE, "negative"),
        ((YES, NO), "positive"),
        ((NO, YES), "positive"),
        ((YES, YES), "positive"),
    ],
)
async def test_lie_bet_results_and_asking_for_the_pgsi_after_a_negative_one(
    phone: Callable[..., Phone], rows: RowFetcher, lang: str, lie_bet: tuple[str, str], band: str
) -> None:
    handset = phone()
    assert await handset.screen(text(LANGS[lang], CHECK, *lie_bet)) == RESULTS[lang][band]
    [row] = await rows("screening_result")
    assert (row["instrument"], row["band"]) == ("liebet", band)
    # Either way "1" goes on to the nine PGSI items: asked for, or because it was positive.
    assert await handset.screen(text(LANGS[lang], CHECK, *lie_bet, MORE)) == pgsi_item(lang, 1)
    final = await handset.screen(to_pgsi_result(LANGS[lang], 0, lie_bet))
    assert final == RESULTS[lang]["non_problem"]
    assert [row["instrument"] for row in await rows("screening_result")] == ["liebet", "pgsi"]


@pytest.mark.parametrize(
    ("lang", "screens"),
    [
        (
            "en",
            (
                "CON Stop betting for how long?\n1. 6 months\n2. 1 year\n3. 5 years\n"
                "4. Permanently\n0. Back 00. Main menu",
                "END Done. You are excluded from betting until 21/11/2027.",
            ),
        ),
        (
            "sw",
            (
                "CON Jizuie kubeti kwa muda gani?\n1. Miezi 6\n2. Mwaka 1\n3. Miaka 5\n"
                "4. Kwa kudumu\n0. Rudi 00. Menyu kuu",
                "END Imekamilika. Umejizuia kubeti hadi 21/11/2027.",
            ),
        ),
    ],
)
async def test_moderate_risk_and_above_lead_straight_into_self_exclusion(
    phone: Callable[..., Phone], rows: RowFetcher, lang: str, screens: tuple[str, str]
) -> None:
    handset = phone()
    result = to_pgsi_result(LANGS[lang], 8)
    assert await handset.screen(result) == RESULTS[lang]["problem"]
    assert await handset.screen(text(result, "1")) == screens[0]
    assert (await handset.screen(text(result, "1", "2", "1"))).startswith(screens[1])
    [exclusion] = await rows("exclusion")
    assert (exclusion["period"], exclusion["idempotency_key"]) == (
        "1y",
        f"ussd:{handset.session_id}",
    )
    # Back from the periods is the main menu: the stored result is not shown again.
    back = await handset.screen(text(result, "1", "0"))
    assert back.startswith(("CON National Self-Exclusion Register", "CON Rejista ya Kitaifa"))
    # Stored when shown: the PGSI result was; the Lie/Bet one was never posted here.
    [stored] = await rows("screening_result")
    assert (stored["instrument"], stored["band"]) == ("pgsi", "problem")


@pytest.mark.parametrize(
    ("lang", "done"),
    [
        ("en", "END Done. We will send you an SMS every 3 months to remind you to check again."),
        ("sw", "END Imekamilika. Tutakutumia SMS kila miezi 3 kukukumbusha kupima tena."),
    ],
)
async def test_opting_in_to_quarterly_reminders_at_the_result(
    phone: Callable[..., Phone], rows: RowFetcher, lang: str, done: str
) -> None:
    handset = phone()
    low = to_pgsi_result(LANGS[lang], 1)
    assert await handset.screen(text(low, "1")) == done
    assert await handset.screen(text(low, "1")) == done  # a repeated POST changes nothing more
    [reminder] = await rows("screening_reminder")
    assert reminder["active"] is True
    assert reminder["next_due_at"] == datetime(2027, 2, 21, 9, tzinfo=UTC)
    # The result screen's own POST never arrived here: opting in stores the result first, once.
    [stored] = await rows("screening_result")
    assert (stored["instrument"], stored["band"]) == ("pgsi", "low_risk")
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions == ["subject.created", "screening.recorded", "screening.reminders_on"]


@pytest.mark.parametrize(
    ("lang", "stopped"),
    [
        ("en", "END Done. You will get no more reminders to check your betting."),
        ("sw", "END Imekamilika. Hutapata tena vikumbusho vya kupima tabia yako ya kubeti."),
    ],
)
async def test_stopping_quarterly_reminders_from_the_status_screen(
    phone: Callable[..., Phone], rows: RowFetcher, lang: str, stopped: str
) -> None:
    choice = LANGS[lang]
    assert await phone().screen(text(choice, "2", "2")) == stopped  # never opted in: no change
    assert await rows("screening_reminder") == []
    await phone().screen(text(to_pgsi_result(choice, 1), "1"))  # remind me every 3 months
    handset = phone()
    assert await handset.screen(text(choice, "2", "2")) == stopped
    assert await handset.screen(text(choice, "2", "2")) == stopped  # a repeated POST: no change
    [reminder] = await rows("screening_reminder")
    assert reminder["active"] is False
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions == [
        "subject.created",
        "screening.recorded",
        "screening.reminders_on",
        "screening.reminders_off",
    ]


@pytest.mark.parametrize(
    ("lang", "status", "none", "latest"),
    [
        (
            "en",
            "CON You are not self-excluded. To stop betting, choose 1 on the main menu.\n"
            "1. My last check result\n2. Stop check reminders\n0. Back",
            "END You have not checked your gambling yet. To check, choose 4 on the main menu.",
            "END Your last check, on 21/11/2026: moderate risk.\n"
            "Helpline: TEST Helpline 0800000000",
        ),
        (
            "sw",
            "CON Hujajizuia kubeti. Ili kujizuia, chagua 1 kwenye menyu kuu.\n"
            "1. Matokeo ya kipimo changu cha mwisho\n2. Sitisha vikumbusho\n0. Rudi",
            "END Bado hujapima tabia yako ya kubeti. Ili kupima, chagua 4 kwenye menyu kuu.",
            "END Kipimo chako cha mwisho, tarehe 21/11/2026: hatari ya wastani.\n"
            "Simu ya msaada: TEST Helpline 0800000000",
        ),
    ],
)
async def test_status_shows_the_latest_result_only_when_asked(
    phone: Callable[..., Phone], lang: str, status: str, none: str, latest: str
) -> None:
    choice = LANGS[lang]
    assert await phone().screen(text(choice, "2")) == status
    assert await phone().screen(text(choice, "2", "1")) == none
    await phone().screen(to_pgsi_result(choice, 3))
    # Phones are shared: the plain status screen is exactly as before.
    assert await phone().screen(text(choice, "2")) == status
    assert await phone().screen(text(choice, "2", "1")) == latest
    # Another number has no result.
    assert await phone("+254722000404").screen(text(choice, "2", "1")) == none


async def test_a_second_screening_in_the_same_session_is_stored_too(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    handset = phone()
    first = text(EN, CHECK, *NEGATIVE)
    assert await handset.screen(first) == RESULTS["en"]["negative"]
    assert await handset.screen(text(first, "00")) == (
        "CON National Self-Exclusion Register\n1. Stop betting (self-exclude)\n2. My status\n"
        "3. Help\n4. Check your gambling\n5. My other line\n0. Language"
    )
    second = text(first, "00", CHECK, *POSITIVE)
    assert await handset.screen(second) == RESULTS["en"]["positive"]
    assert [(row["band"], row["seq"]) for row in await rows("screening_result")] == [
        ("negative", 4),
        ("positive", 8),
    ]
