"""The "check your gambling" dialogue's transitions (pure, replayed like the rest of the menu).

Lie/Bet first (:data:`core.instruments.LIE_BET`), one item per screen; its
result screen leads on to the PGSI (:data:`core.instruments.PGSI`) when
positive, and offers it when negative. Each answer pushes a frame carrying the
answers so far, so ``0`` takes back exactly one answer. The last answer
pushes a result frame (sealed, see :mod:`ussd.menu`); what it offers next
depends on the band (:func:`follow_ups`), and the screens number the same
list, so what is shown and what a digit does cannot disagree.
"""

from __future__ import annotations

import enum
from dataclasses import replace

from core.instruments import INSTRUMENTS, LIE_BET, PGSI, Band, BandCode, InstrumentCode
from ussd.state import MAIN_EXCLUDE, Action, Frame, Quiz, Screen, State, act, push


class FollowUp(enum.StrEnum):
    """What a result screen offers, numbered in this order from 1."""

    PGSI = "pgsi"  # go on to (or choose) the nine PGSI items
    EXCLUDE = "exclude"  # into the self-exclusion flow, at the choice of period
    REMIND = "remind"  # opt in to a reminder to check again every quarter


def start(state: State, choice: str) -> State:
    """From the main menu: the first Lie/Bet item."""
    return push(state, Frame(Screen.QUESTION, choice, quiz=Quiz(LIE_BET.code)))


def band_of(quiz: Quiz) -> Band:
    """The band of a complete screening.

    Raises:
        InvalidAnswers: ``quiz`` is not complete.
    """
    return INSTRUMENTS[quiz.instrument].score(quiz.answers).band


def follow_ups(quiz: Quiz) -> tuple[FollowUp, ...]:
    """What the result screen of the complete ``quiz`` offers, in order."""
    band = band_of(quiz)
    if quiz.instrument == InstrumentCode.LIE_BET:
        positive = band.code is BandCode.POSITIVE
        return (FollowUp.PGSI,) if positive else (FollowUp.PGSI, FollowUp.REMIND)
    return (FollowUp.EXCLUDE, FollowUp.REMIND) if band.refer else (FollowUp.REMIND,)


def answer(state: State, choice: str) -> State | None:
    """An answer to the item on top: the next item, or the result; ``None`` if not an option."""
    quiz = state.quiz
    assert quiz is not None
    instrument = INSTRUMENTS[quiz.instrument]
    picked = instrument.choice(choice)
    if picked is None:
        return None
    answers = (*quiz.answers, picked)
    if len(answers) < len(instrument.items):
        return push(state, Frame(Screen.QUESTION, choice, quiz=replace(quiz, answers=answers)))
    done = Quiz(quiz.instrument, answers, seq=state.count)
    return push(state, Frame(Screen.RESULT, choice, quiz=done))


def follow(state: State, choice: str) -> State | None:
    """A choice on a result screen (see :func:`follow_ups`); ``None`` if not offered.

    Self-exclusion continues as if chosen from the main menu, so the result is
    no longer on the stack: going back from the periods leads to the main menu,
    and a dropped session resumes there without passing the result again.
    """
    quiz = state.quiz
    assert quiz is not None
    offered = follow_ups(quiz)
    if not (choice.isascii() and choice.isdigit() and 1 <= int(choice) <= len(offered)):
        return None
    picked = offered[int(choice) - 1]
    if picked is FollowUp.PGSI:
        return push(state, Frame(Screen.QUESTION, choice, quiz=Quiz(PGSI.code)))
    if picked is FollowUp.EXCLUDE:
        periods = Frame(Screen.PERIOD, MAIN_EXCLUDE)
        return replace(state, stack=(*state.stack[:2], periods), error=False)
    return act(state, Action.REMIND)
