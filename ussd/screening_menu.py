"""The "check your gambling" dialogue's transitions (pure, replayed like the rest of the menu).

What an answer or a choice does is :mod:`core.screening_dialogue` (shared
with the SMS channel); this module puts it on the navigation stack. Lie/Bet
first, one item per screen; each answer pushes a frame carrying the answers so
far, so ``0`` takes back exactly one answer. The last answer pushes a result
frame (sealed, see :mod:`ussd.menu`); what it offers next depends on the band
(:func:`follow_ups`), and the screens number the same list, so what is shown
and what a digit does cannot disagree.
"""

from __future__ import annotations

from dataclasses import replace

from core import screening_dialogue
from core.instruments import LIE_BET, PGSI, Band
from core.screening_dialogue import FollowUp
from ussd.state import MAIN_EXCLUDE, Action, Frame, Quiz, Screen, State, act, push

__all__ = ["FollowUp", "answer", "band_of", "follow", "follow_ups", "start"]


def start(state: State, choice: str) -> State:
    """From the main menu: the first Lie/Bet item."""
    return push(state, Frame(Screen.QUESTION, choice, quiz=Quiz(LIE_BET.code)))


def band_of(quiz: Quiz) -> Band:
    """The band of a complete screening.

    Raises:
        InvalidAnswers: ``quiz`` is not complete.
    """
    return screening_dialogue.band_of(quiz.instrument, quiz.answers)


def follow_ups(quiz: Quiz) -> tuple[FollowUp, ...]:
    """What the result screen of the complete ``quiz`` offers, in order."""
    return screening_dialogue.follow_ups(quiz.instrument, quiz.answers)


def answer(state: State, choice: str) -> State | None:
    """An answer to the item on top: the next item, or the result; ``None`` if not an option."""
    quiz = state.quiz
    assert quiz is not None
    answers = screening_dialogue.answer(quiz.instrument, quiz.answers, choice)
    if answers is None:
        return None
    if not screening_dialogue.is_complete(quiz.instrument, answers):
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
    picked = screening_dialogue.pick(follow_ups(quiz), choice)
    if picked is None:
        return None
    if picked is FollowUp.PGSI:
        return push(state, Frame(Screen.QUESTION, choice, quiz=Quiz(PGSI.code)))
    if picked is FollowUp.EXCLUDE:
        periods = Frame(Screen.PERIOD, MAIN_EXCLUDE)
        return replace(state, stack=(*state.stack[:2], periods), error=False)
    return act(state, Action.REMIND)
