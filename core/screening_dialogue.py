"""The "check your gambling" dialogue, channel-neutral: answering items, and what a result offers.

Every channel asks the same thing in the same order (``docs/screening.md``):
Lie/Bet first (:data:`core.instruments.LIE_BET`), one item at a time; its
result leads on to the PGSI (:data:`core.instruments.PGSI`) when positive and
offers it when negative; a PGSI result offers self-exclusion where NSER refers,
and a reminder to check again every quarter. A channel keeps the instrument and
the answers so far (USSD on its replayed navigation stack, SMS in the
database), and asks this module what a typed reply does. Pure functions.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from core.instruments import INSTRUMENTS, Band, BandCode, InstrumentCode


class FollowUp(enum.StrEnum):
    """What a result offers, in this order."""

    PGSI = "pgsi"  # go on to (or choose) the nine PGSI items
    EXCLUDE = "exclude"  # into the self-exclusion flow
    REMIND = "remind"  # opt in to a reminder to check again every quarter


def is_complete(instrument: InstrumentCode, answers: Sequence[int]) -> bool:
    """True when ``answers`` answer every item of ``instrument``."""
    return len(answers) >= len(INSTRUMENTS[instrument].items)


def answer(
    instrument: InstrumentCode, answers: Sequence[int], typed: str
) -> tuple[int, ...] | None:
    """The answers after ``typed`` (``"1"`` is the first option) answers the next item.

    ``None`` when ``typed`` is not one of the item's options (the channel asks again).
    """
    picked = INSTRUMENTS[instrument].choice(typed)
    return None if picked is None else (*answers, picked)


def band_of(instrument: InstrumentCode, answers: Sequence[int]) -> Band:
    """The band of a complete screening.

    Raises:
        InvalidAnswers: ``answers`` do not answer every item.
    """
    return INSTRUMENTS[instrument].score(answers).band


def follow_ups(instrument: InstrumentCode, answers: Sequence[int]) -> tuple[FollowUp, ...]:
    """What the result of the complete screening offers, in order.

    Lie/Bet positive: the PGSI; negative: the PGSI (if the citizen asks) or a
    reminder. PGSI where NSER refers: self-exclusion or a reminder; otherwise a
    reminder.

    Raises:
        InvalidAnswers: ``answers`` do not answer every item.
    """
    band = band_of(instrument, answers)
    if instrument == InstrumentCode.LIE_BET:
        positive = band.code is BandCode.POSITIVE
        return (FollowUp.PGSI,) if positive else (FollowUp.PGSI, FollowUp.REMIND)
    return (FollowUp.EXCLUDE, FollowUp.REMIND) if band.refer else (FollowUp.REMIND,)


def pick(offered: Sequence[FollowUp], typed: str) -> FollowUp | None:
    """The follow-up ``typed`` chooses from ``offered`` (numbered from 1), or ``None``."""
    if typed.isascii() and typed.isdigit() and 1 <= int(typed) <= len(offered):
        return offered[int(typed) - 1]
    return None
