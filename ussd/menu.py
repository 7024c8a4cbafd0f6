"""The USSD menu as a pure state machine over the gateway's ``text``.

Africa's Talking sends every input of the session so far, joined by ``*``
(``""`` on the first request, then ``"2"``, ``"2*1"``, …). Each request is
answered by replaying that whole history from the start, so a repeated or
re-ordered POST lands on the same state and side effects happen only in a
terminal state, keyed on the session (see :mod:`ussd.routes`).

Navigation: ``0`` goes back one screen, ``00`` goes to the main menu (or the
language screen if no language is chosen yet); anything a screen does not
offer keeps the screen and flags an error. Input after a terminal state is
ignored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from core.periods import Period

BACK = "0"
HOME = "00"
#: The depth (number of screens on the stack) from which a dropped session is worth resuming.
RESUMABLE_DEPTH = 3


class Screen(enum.StrEnum):
    """Screens that continue the session (``CON``)."""

    RESUME = "resume"
    LANGUAGE = "language"
    MAIN = "main"
    PERIOD = "period"
    CONFIRM = "confirm"


class Action(enum.StrEnum):
    """Terminal states (``END``): each may read or change the register."""

    EXCLUDE = "exclude"
    STATUS = "status"
    HELP = "help"


PERIOD_CHOICES = {
    "1": Period.SIX_MONTHS,
    "2": Period.ONE_YEAR,
    "3": Period.FIVE_YEARS,
    "4": Period.PERMANENT,
}
LANGUAGE_CHOICES = {"1": "sw", "2": "en"}
MAIN_CHOICES = {"2": Action.STATUS, "3": Action.HELP}


@dataclass(frozen=True)
class Frame:
    """One screen on the navigation stack and the input that opened it."""

    screen: Screen
    token: str = ""
    period: Period | None = None


@dataclass(frozen=True)
class State:
    """Where a session stands after replaying its inputs.

    ``stack`` is never empty; its last frame is the screen shown unless
    ``action`` is set. ``error`` means the last input was not a valid choice.
    """

    lang: str | None
    stack: tuple[Frame, ...]
    action: Action | None = None
    period: Period | None = None
    error: bool = False

    @property
    def screen(self) -> Screen:
        """The screen on top of the stack."""
        return self.stack[-1].screen

    @property
    def path(self) -> tuple[str, ...]:
        """Inputs that lead straight to this screen, with no detours (what resuming replays)."""
        return tuple(frame.token for frame in self.stack[1:])

    @property
    def resumable(self) -> bool:
        """True when a dropped session here is mid-flow (past the main menu)."""
        return self.action is None and len(self.stack) >= RESUMABLE_DEPTH


FRESH = State(lang=None, stack=(Frame(Screen.LANGUAGE),))


def _push(state: State, frame: Frame, *, lang: str | None = None) -> State:
    return replace(state, stack=(*state.stack, frame), lang=lang or state.lang, error=False)


def _navigate(state: State, choice: str) -> State | None:
    """``00`` (home) and ``0`` (back), offered on every screen but the resume offer."""
    if choice == HOME:
        home = (FRESH.stack[0], *state.stack[1:2]) if state.lang else FRESH.stack
        return replace(state, stack=home, error=False)
    if choice == BACK and len(state.stack) > 1:
        popped = state.stack[:-1]
        return replace(
            state, stack=popped, lang=state.lang if len(popped) > 1 else None, error=False
        )
    return None


def _on_resume(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    if choice == "1":
        return replay(resume_path)
    return FRESH if choice == "2" else None


def _on_language(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    lang = LANGUAGE_CHOICES.get(choice)
    return _push(state, Frame(Screen.MAIN, choice), lang=lang) if lang else None


def _on_main(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    if choice == "1":
        return _push(state, Frame(Screen.PERIOD, choice))
    action = MAIN_CHOICES.get(choice)
    return replace(state, action=action, error=False) if action else None


def _on_period(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    period = PERIOD_CHOICES.get(choice)
    return _push(state, Frame(Screen.CONFIRM, choice, period)) if period else None


def _on_confirm(state: State, choice: str, resume_path: tuple[str, ...]) -> State | None:
    if choice != "1":
        return None
    return replace(state, action=Action.EXCLUDE, period=state.stack[-1].period, error=False)


_TRANSITIONS = {
    Screen.RESUME: _on_resume,
    Screen.LANGUAGE: _on_language,
    Screen.MAIN: _on_main,
    Screen.PERIOD: _on_period,
    Screen.CONFIRM: _on_confirm,
}


def step(state: State, choice: str, *, resume_path: tuple[str, ...] = ()) -> State:
    """The state after one input ``choice``; ``resume_path`` serves the resume offer."""
    if state.action is not None:
        return state
    screen = state.stack[-1].screen
    moved = None if screen is Screen.RESUME else _navigate(state, choice)
    if moved is None:
        moved = _TRANSITIONS[screen](state, choice, resume_path)
    return moved if moved is not None else replace(state, error=True)


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
    state = FRESH if offer_resume is None else State(lang=lang, stack=(Frame(Screen.RESUME),))
    for token in tokens:
        state = step(state, token, resume_path=offer_resume or ())
    return state
