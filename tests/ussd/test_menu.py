"""The menu state machine, replayed from the gateway's ``text`` alone."""

from __future__ import annotations

import pytest

from core.instruments import InstrumentCode
from core.periods import Period
from ussd.menu import Action, Screen, replay, replay_last, split
from ussd.state import Quiz


def at(text: str) -> tuple[str | None, Screen, Action | None, Period | None, bool]:
    state = replay(split(text))
    return state.lang, state.screen, state.action, state.period, state.error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (None, Screen.LANGUAGE, None, None, False)),
        ("1", ("sw", Screen.MAIN, None, None, False)),
        ("2*1", ("en", Screen.PERIOD, None, None, False)),
        ("2*1*4", ("en", Screen.CONFIRM, None, None, False)),
        ("2*1*4*1", ("en", Screen.CONFIRM, Action.EXCLUDE, Period.PERMANENT, False)),
        ("1*1*1*1", ("sw", Screen.CONFIRM, Action.EXCLUDE, Period.SIX_MONTHS, False)),
        ("1*2", ("sw", Screen.STATUS, None, None, False)),
        ("1*2*1", ("sw", Screen.STATUS, Action.LAST_RESULT, None, False)),
        ("2*2*2", ("en", Screen.STATUS, Action.STOP_REMINDERS, None, False)),
        ("2*2*3", ("en", Screen.STATUS, Action.NOT_MINE, None, False)),
        ("2*2*4", ("en", Screen.STATUS, None, None, True)),
        ("1*2*0", ("sw", Screen.MAIN, None, None, False)),
        ("2*4", ("en", Screen.QUESTION, None, None, False)),
        ("2*3", ("en", Screen.MAIN, Action.HELP, None, False)),
        ("2*1*2*0", ("en", Screen.PERIOD, None, None, False)),
        ("2*1*2*0*3*1", ("en", Screen.CONFIRM, Action.EXCLUDE, Period.FIVE_YEARS, False)),
        ("2*1*2*00", ("en", Screen.MAIN, None, None, False)),
        ("2*0", (None, Screen.LANGUAGE, None, None, False)),
        ("2*0*1", ("sw", Screen.MAIN, None, None, False)),
        ("00", (None, Screen.LANGUAGE, None, None, False)),
        ("0", (None, Screen.LANGUAGE, None, None, True)),
        ("3", (None, Screen.LANGUAGE, None, None, True)),
        ("2*", ("en", Screen.MAIN, None, None, True)),
        ("2*1*2*3", ("en", Screen.CONFIRM, None, None, True)),
        ("2*1*2*1*0*0", ("en", Screen.CONFIRM, Action.EXCLUDE, Period.ONE_YEAR, False)),
        (" 2 * 1 ", ("en", Screen.PERIOD, None, None, False)),
    ],
)
def test_replay(text: str, expected: tuple[object, ...]) -> None:
    assert at(text) == expected


@pytest.mark.parametrize("text", ["", "2", "2*1*2*1", "2*1*2*1*0*0", "2*2*4", "2*1*2*00", "1*2*0"])
@pytest.mark.parametrize("offer", [None, ("2", "1")])
def test_replay_last_gives_the_states_before_and_after_the_last_input(
    text: str, offer: tuple[str, ...] | None
) -> None:
    tokens = split(text)
    lang = "en" if offer else None
    before, after = replay_last(tokens, offer_resume=offer, lang=lang)
    assert before == replay(tokens[:-1], offer_resume=offer, lang=lang)
    assert after == replay(tokens, offer_resume=offer, lang=lang)
    assert (before == after) == (not tokens or before.action is not None)


def test_replay_is_a_pure_function_of_text() -> None:
    assert replay(split("2*1*9*2")) == replay(split("2*1*9*2"))


def test_path_drops_detours_and_errors() -> None:
    state = replay(split("2*9*1*0*1*3"))
    assert state.path == ("2", "1", "3")
    assert state.resumable
    assert not replay(split("2")).resumable


def test_resume_offer_continues_or_starts_again() -> None:
    dropped = ("2", "1", "3")
    assert replay([], offer_resume=dropped, lang="en").screen is Screen.RESUME
    resumed = replay(["1"], offer_resume=dropped, lang="en")
    assert (resumed.lang, resumed.screen, resumed.stack[-1].period) == (
        "en",
        Screen.CONFIRM,
        Period.FIVE_YEARS,
    )
    assert replay(["1", "1"], offer_resume=dropped, lang="en").action is Action.EXCLUDE
    assert replay(["2"], offer_resume=dropped, lang="en").screen is Screen.LANGUAGE
    wrong = replay(["00"], offer_resume=dropped, lang="en")
    assert (wrong.screen, wrong.error) == (Screen.RESUME, True)


def test_a_screening_carries_its_answers_and_completes_on_a_numbered_input() -> None:
    state = replay(split("2*4*1*2*1*4*3"))
    assert (state.screen, state.quiz) == (Screen.QUESTION, Quiz(InstrumentCode.PGSI, (3, 2)))
    assert state.resumable
    done = replay(split("2*4*9*1*2"))  # an invalid answer still counts as an input
    assert (done.screen, done.quiz) == (
        Screen.RESULT,
        Quiz(InstrumentCode.LIE_BET, (0, 1), seq=5),
    )
    assert not done.resumable  # stored when shown: never resumed into


def test_back_never_crosses_a_stored_result() -> None:
    assert replay(split("2*4*2*2*0")).screen is Screen.RESULT  # "0" is not offered there
    assert replay(split("2*4*2*2*0")).error
    home = replay(split("2*4*2*2*1*0"))  # back from the first PGSI item
    assert (home.screen, home.path) == (Screen.MAIN, ("2",))


def test_self_excluding_from_a_result_is_the_main_menu_flow() -> None:
    pgsi = "2*4*1*1*1*" + "*".join(["4"] * 9)
    periods = replay(split(pgsi + "*1"))
    assert (periods.screen, periods.path) == (Screen.PERIOD, ("2", "1"))
    assert replay(split(pgsi + "*1*2*1")).action is Action.EXCLUDE
    assert replay(split(pgsi + "*2")).action is Action.REMIND
    # A low-risk result offers only the reminder, as its "1".
    low = "2*4*1*1*1*2" + "*1" * 8
    assert replay(split(low + "*1")).action is Action.REMIND
    assert replay(split(low + "*2")).error
