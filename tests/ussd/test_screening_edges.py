"""The USSD screening under bad input, back and home, replays, shared session ids, drops, races."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from core import screening
from core.services import Services
from tests.support.databases import RowFetcher
from tests.support.phone import Phone
from tests.support.ussd_screening import (
    CHECK,
    EN,
    EN_ITEMS,
    EN_LIE_BET,
    EN_SCALE,
    MORE,
    NEGATIVE,
    NO,
    PGSI_TOTALS,
    POSITIVE,
    RESULTS,
    SW,
    YES,
    pgsi_item,
    text,
    to_pgsi_result,
)

MAIN_EN = (
    "CON National Self-Exclusion Register\n1. Stop betting (self-exclude)\n2. My status\n"
    "3. Help\n4. Check your gambling\n5. My other line\n0. Language"
)
ENDED = "END Sorry, this session has ended. Please dial again."


async def test_back_takes_back_exactly_one_answer(
    phone: Callable[..., Phone], rows: RowFetcher, services: Services
) -> None:
    handset = phone()
    assert await handset.screen(text(EN, CHECK, "0")) == MAIN_EN
    assert await handset.screen(text(EN, CHECK, YES, "0")) == EN_LIE_BET[0]
    pgsi = text(EN, CHECK, *POSITIVE, MORE)
    assert await handset.screen(text(pgsi, "4", "3", "0")) == pgsi_item("en", 2)
    assert await handset.screen(text(pgsi, "4", "3", "0", "0")) == pgsi_item("en", 1)
    # Changed answers are the ones stored: 4 then 3 taken back and given as 1 and 1.
    changed = text(pgsi, "4", "3", "0", "0", *PGSI_TOTALS[0])
    assert await handset.screen(changed) == RESULTS["en"]["non_problem"]
    [row] = await rows("screening_result")
    assert screening.open_answers(services.keyring, row["answers_sealed"]) == (0,) * 9
    # 00 from any item is the main menu.
    assert await handset.screen(text(pgsi, "2", "00")) == MAIN_EN


async def test_a_stored_result_cannot_be_left_backwards_or_gone_back_into(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    handset = phone()
    result = text(EN, CHECK, *NEGATIVE)
    assert await handset.screen(result) == RESULTS["en"]["negative"]
    assert await handset.screen(text(result, "0")) == (
        "CON Invalid choice.\n" + RESULTS["en"]["negative"].removeprefix("CON ")
    )
    # From the first PGSI item, back leaves the screening for the main menu.
    assert await handset.screen(text(result, MORE, "0")) == MAIN_EN
    final = to_pgsi_result(EN, 3, NEGATIVE)
    assert await handset.screen(final) == RESULTS["en"]["moderate_risk"]
    assert await handset.screen(text(final, "0", "0")) == (
        "CON Invalid choice.\n"
        + RESULTS["en"]["moderate_risk"].removeprefix("CON ").replace(" (also by SMS)", "")
    )
    assert [row["band"] for row in await rows("screening_result")] == ["negative", "moderate_risk"]


@pytest.mark.parametrize("typed", ["3", "9", "abc", "", "٣", "1 2", "-1"])
async def test_an_answer_that_is_not_offered_asks_again(
    phone: Callable[..., Phone], rows: RowFetcher, typed: str
) -> None:
    handset = phone()
    assert await handset.screen(text(EN, CHECK, typed)) == (
        "CON Invalid choice.\nHave you ever felt the need to bet more and more money?\n"
        "1. Yes\n2. No"
    )
    pgsi = text(EN, CHECK, *POSITIVE, MORE, "2")
    assert await handset.screen(text(pgsi, typed if typed != "3" else "5")) == (
        f"CON Invalid choice.\n{EN_ITEMS[1]}\n{EN_SCALE}"
    )
    # The next valid answer is taken from the same item.
    assert await handset.screen(text(EN, CHECK, typed, YES)) == EN_LIE_BET[1]
    assert await rows("screening_result") == []


async def test_swahili_re_prompt(phone: Callable[..., Phone]) -> None:
    assert await phone().screen(text(SW, CHECK, *POSITIVE, MORE, "7")) == (
        "CON Chaguo si sahihi.\n"
        "Je, umebeti zaidi ya kiasi ambacho ungeweza kumudu kupoteza?\n"
        "1. Kamwe\n2. Wakati mwingine\n3. Mara nyingi\n4. Karibu kila mara"
    )


async def test_a_replayed_result_post_stores_one_result(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    handset = phone()
    final = to_pgsi_result(EN, 27)
    answers = [await handset.screen(final) for _ in range(3)]
    answers += await asyncio.gather(*(handset.screen(final) for _ in range(5)))
    assert set(answers) == {RESULTS["en"]["problem"]}
    assert [row["band"] for row in await rows("screening_result")] == ["problem"]
    assert [entry["action"] for entry in await rows("audit_entry")] == [
        "subject.created",
        "screening.recorded",
    ]


async def test_a_session_id_reused_by_another_phone_neither_sees_nor_stores_a_result(
    client: httpx.AsyncClient, phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    first = phone("+254722000501")
    final = to_pgsi_result(EN, 8)
    assert await first.screen(final) == RESULTS["en"]["problem"]
    stranger = Phone(client, "+254722000502", session_id=first.session_id)
    assert await stranger.screen(final) == ENDED  # the first caller's step
    assert await stranger.screen(to_pgsi_result(EN, 0, NEGATIVE)) == ENDED  # a step of its own
    assert await stranger.screen(text(final, "2")) == ENDED  # nor opt in on it
    [row] = await rows("screening_result")
    assert row["band"] == "problem"
    assert await rows("screening_reminder") == []
    # The stranger has no result of their own either.
    assert await phone("+254722000502").screen(text(EN, "2", "1")) == (
        "END You have not checked your gambling yet. To check, choose 4 on the main menu."
    )


async def test_two_screenings_at_once_from_one_phone_each_get_their_own_result(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    one, two = phone(), phone()
    low, problem = to_pgsi_result(EN, 1).split("*"), to_pgsi_result(EN, 8).split("*")
    for step in range(1, len(low)):
        screens = await asyncio.gather(
            one.screen(text(*low[:step])), two.screen(text(*problem[:step]))
        )
        assert all(screen.startswith("CON ") for screen in screens)
    results = list(await asyncio.gather(one.screen(text(*low)), two.screen(text(*problem))))
    assert results == [RESULTS["en"]["low_risk"], RESULTS["en"]["problem"]]
    stored = await rows("screening_result")
    assert sorted((row["instrument"], row["band"]) for row in stored) == [
        ("liebet", "positive"),
        ("liebet", "positive"),
        ("pgsi", "low_risk"),
        ("pgsi", "problem"),
    ]
    assert len({row["subject_id"] for row in stored}) == 1


async def test_a_dropped_screening_resumes_and_is_stored_only_when_complete(
    phone: Callable[..., Phone], rows: RowFetcher, services: Services
) -> None:
    dropped = phone()
    started = text(EN, CHECK, *POSITIVE, MORE, "4", "4", "2", "1")
    assert await dropped.screen(text(EN, CHECK, *POSITIVE)) == RESULTS["en"]["positive"]
    assert await dropped.screen(started) == pgsi_item("en", 5)
    # Dropped mid-PGSI: the Lie/Bet result is stored, nothing of the PGSI.
    assert [row["instrument"] for row in await rows("screening_result")] == ["liebet"]
    # The resume hint holds the answers so far, so it is sealed, not readable in Redis.
    [key] = [key async for key in services.redis.scan_iter("nser:ussd:resume:*")]
    stored_hint = await services.redis.get(key)
    assert stored_hint is not None
    assert b"path" not in stored_hint
    assert b'"4"' not in stored_hint

    again = dropped.redial()
    assert await again.screen("") == "CON Continue where you left off?\n1. Continue\n2. Start again"
    assert await again.screen("1") == pgsi_item("en", 5)
    # Back in the resumed session goes back through the answers, never into the stored result.
    assert await again.screen(text("1", "0")) == pgsi_item("en", 4)
    assert await again.screen(text("1", "0", "0", "0", "0", "0")) == MAIN_EN
    finished = text("1", "1", "1", "1", "1", "1")
    assert await again.screen(finished) == RESULTS["en"]["moderate_risk"]
    lie_bet, pgsi = await rows("screening_result")
    assert lie_bet["instrument"] == "liebet"
    assert pgsi["request_key"] == f"ussd:{again.session_id}"
    assert screening.open_answers(services.keyring, pgsi["answers_sealed"]) == (
        3, 3, 1, 0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    # A result screen is not a place to resume: a drop there offers nothing next time.
    assert (await again.redial().screen("")).startswith("CON Karibu NSER")


async def test_a_drop_on_a_result_screen_is_not_resumed(phone: Callable[..., Phone]) -> None:
    dropped = phone()
    await dropped.screen(text(EN, CHECK, NO, YES, MORE, "2"))  # mid-PGSI: resumable
    assert await dropped.screen(to_pgsi_result(EN, 2, (NO, YES))) == RESULTS["en"]["low_risk"]
    assert (await dropped.redial().screen("")).startswith("CON Karibu NSER")
