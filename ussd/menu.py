"""The USSD menu as a pure state machine over the gateway's ``text``.

Africa's Talking sends every input of the session so far, joined by ``*``
(``""`` on the first request, then ``"2"``, ``"2*1"``, …). Each request is
answered by replaying that whole history from the start, so a repeated or
re-ordered POST lands on the same state and side effects happen only on the
screens that act (a terminal action, a screening's result), keyed on the
session (see :mod:`ussd.routes`).

Navigation: ``0`` goes back one screen, ``00`` goes to the main menu (or the
language screen if no language is chosen yet); anything a screen does not
offer keeps the screen and flags an error. A stored screening result is
sealed: ``0`` does not leave it backwards, and ``0`` on the screen after it
goes to the main menu instead of back into it. Input after a terminal state
is ignored.

The states are in :mod:`ussd.state`; the screening dialogue's transitions in
:mod:`ussd.screening_menu`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from core.errors import InvalidInput
from core.models import IdentifierKind
from core.periods import Period
from core.subjects import normalise
from ussd import screening_menu
from ussd.state import (
    BACK,
    FRESH,
    HOME,
    MAIN_EXCLUDE,
    MAIN_HELP,
    MAIN_LINK,
    MAIN_SCREENING,
    MAIN_STATUS,
    SEALED,
    Action,
    Document,
    Frame,
    Screen,
    State,
    act,
    push,
)

__all__ = ["LANGUAGE_CHOICES", "Action", "Screen", "State", "replay", "split", "step"]

PERIOD_CHOICES = {
    "1": Period.SIX_MONTHS,
    "2": Period.ONE_YEAR,
    "3": Period.FIVE_YEARS,
    "4": Period.PERMANENT,
}
LANGUAGE_CHOICES = {"1": "sw", "2": "en"}
#: The status screen's choices: the latest screening result, shown only when asked for;
#: no more reminders to check one's gambling again; what to do when the number is not
#: one's own (a recycled number).
STATUS_LAST_RESULT = "1"
STATUS_STOP_REMINDERS = "2"
STATUS_NOT_MINE = "3"
#: On the confirm screen: add an ID first (recommended), then confirm.
CONFIRM_ADD_ID = "2"
ID_KINDS = {
    "1": IdentifierKind.NATIONAL_ID,
    "2": IdentifierKind.MAISHA_NAMBA,
    "3": IdentifierKind.PASSPORT,
    "4": IdentifierKind.ALIEN_ID,
}


def _navigate(state: State, choice: str) -> State | None:
    """``00`` (home) and ``0`` (back), offered on every screen but the resume offer."""
    if choice == HOME:
        home = (FRESH.stack[0], *state.stack[1:2]) if state.lang else FRESH.stack
        return replace(state, stack=home, error=False)
    if choice != BACK or len(state.stack) < 2 or state.screen in SEALED:
        return None
    popped = state.stack[:-1]
    if popped[-1].screen in SEALED:
        return replace(state, stack=state.stack[:2], error=False)
    return replace(state, stack=popped, lang=state.lang if len(popped) > 1 else None, error=False)


def _on_resume(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    if choice == "1":
        return replay(resume_path)
    return FRESH if choice == "2" else None


def _on_language(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    lang = LANGUAGE_CHOICES.get(choice)
    return push(state, Frame(Screen.MAIN, choice), lang=lang) if lang else None


def _on_main(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    if choice == MAIN_EXCLUDE:
        return push(state, Frame(Screen.PERIOD, choice))
    if choice == MAIN_STATUS:
        return push(state, Frame(Screen.STATUS, choice))
    if choice == MAIN_HELP:
        return act(state, Action.HELP)
    if choice == MAIN_SCREENING:
        return screening_menu.start(state, choice)
    if choice == MAIN_LINK:
        return push(state, Frame(Screen.LINK, choice))
    return None


def _on_period(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    period = PERIOD_CHOICES.get(choice)
    return push(state, Frame(Screen.CONFIRM, choice, period)) if period else None


def _on_confirm(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    frame = state.stack[-1]
    if choice == CONFIRM_ADD_ID and frame.document is None:
        return push(state, Frame(Screen.ID_KIND, choice, frame.period))
    if choice != "1":
        return None
    return act(state, Action.EXCLUDE, period=frame.period, document=frame.document)


def _on_id_kind(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    kind = ID_KINDS.get(choice)
    period = state.stack[-1].period
    return push(state, Frame(Screen.ID_ENTRY, choice, period, kind=kind)) if kind else None


def _on_id_entry(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    """A valid ID goes on to confirm; a mistyped one keeps the screen (a re-prompt)."""
    frame = state.stack[-1]
    assert frame.kind is not None
    try:
        document = Document(frame.kind, normalise(frame.kind, choice))
    except InvalidInput:
        return None
    return push(state, Frame(Screen.CONFIRM, choice, frame.period, document=document))


def _on_link(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    """Each reference typed replaces the last; the route tries it (a wrong one re-prompts)."""
    if not choice:
        return None
    top = state.stack[-1]
    return replace(state, stack=(*state.stack[:-1], replace(top, entry=choice)), error=False)


def _on_status(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    if choice == STATUS_NOT_MINE:
        return act(state, Action.NOT_MINE)
    if choice == STATUS_LAST_RESULT:
        return act(state, Action.LAST_RESULT)
    return act(state, Action.STOP_REMINDERS) if choice == STATUS_STOP_REMINDERS else None


def _on_question(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    return screening_menu.answer(state, choice)


def _on_result(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    return screening_menu.follow(state, choice)


_TRANSITIONS: dict[Screen, Callable[[State, str, tuple[str, ...]], State | None]] = {
    Screen.RESUME: _on_resume,
    Screen.LANGUAGE: _on_language,
    Screen.MAIN: _on_main,
    Screen.PERIOD: _on_period,
    Screen.CONFIRM: _on_confirm,
    Screen.ID_KIND: _on_id_kind,
    Screen.ID_ENTRY: _on_id_entry,
    Screen.LINK: _on_link,
    Screen.STATUS: _on_status,
    Screen.QUESTION: _on_question,
    Screen.RESULT: _on_result,
}


def step(state: State, choice: str, *, resume_path: tuple[str, ...] = ()) -> State:
    """The state after one input ``choice``; ``resume_path`` serves the resume offer."""
    if state.action is not None:
        return state
    counted = replace(state, count=state.count + 1)
    screen = state.stack[-1].screen
    moved = None if screen is Screen.RESUME else _navigate(counted, choice)
    if moved is None:
        moved = _TRANSITIONS[screen](counted, choice, resume_path)
    if moved is None:
        return replace(counted, error=True)
    return replace(moved, count=counted.count)


def split(text: str) -> list[str]:
    """The inputs in a gateway ``text``: ``""`` -> none; ``"1*"`` -> ``["1", ""]``."""
    return [] if text == "" else [choice.strip() for choice in text.split("*")]


def replay(
    tokens: tuple[str, ...] | list[str],
    *,
    offer_resume: tuple[str, ...] | None = None,
    lang: str | None = None,
) -> State:
    """Replay ``tokens`` from the first screen.

    With ``offer_resume`` (the path of a dropped session) the first screen is
    the resume offer in ``lang``: ``1`` replays that path, ``2`` starts afresh.
    """
    return replay_last(tokens, offer_resume=offer_resume, lang=lang)[1]


def replay_last(
    tokens: tuple[str, ...] | list[str],
    *,
    offer_resume: tuple[str, ...] | None = None,
    lang: str | None = None,
) -> tuple[State, State]:
    """``(before, after)``: the states :func:`replay` gives for all tokens but the last, and all.

    One pass over ``tokens`` (a dialogue step needs both: the state it answers,
    and the one before, to tell whether its resumable path changed). With no
    tokens both are the first screen.
    """
    state = FRESH if offer_resume is None else State(lang=lang, stack=(Frame(Screen.RESUME),))
    before = state
    for token in tokens:
        before, state = state, step(state, token, resume_path=offer_resume or ())
    return before, state
