"""The text of the screening-by-SMS replies, in the screening's language.

Like :mod:`sms.replies`: each function takes ``_``, the gettext of the reply's
language, and returns one GSM-7 message of at most 160 septets with the
longest values settings allow (``tests/sms/test_templates.py``). Items, answers
and band names are the instruments' own message ids (:mod:`core.instruments`),
the result's head and the follow-up labels are the USSD screens' own
(:mod:`core.screening_texts`); wording decisions are in ``docs/screening.md``.

A question is ``<n>/<of> <item>`` and the numbered answers; the first one of a
screening opens with how to answer and how to stop.
"""

from __future__ import annotations

from collections.abc import Sequence

from core import screening_texts
from core.i18n import Gettext
from core.instruments import INSTRUMENTS, BandCode, InstrumentCode
from core.screening_dialogue import FollowUp, band_of
from core.settings import Settings
from core.texts import helpline_line

SEP = "\n"
#: Hours of silence after which a screening by SMS expires (``sms.screening.EXPIRES``).
EXPIRY_HOURS = 24


def _answers(instrument: InstrumentCode, _: Gettext) -> str:
    options = INSTRUMENTS[instrument].options
    return SEP.join(f"{key}. {_(option.label)}" for key, option in enumerate(options, start=1))


def question(_: Gettext, *, instrument: InstrumentCode, answered: int, first: bool = False) -> str:
    """Item ``answered + 1`` of ``instrument`` with its numbered answers.

    ``first`` (the screening's first item) adds how to answer and how to stop.
    """
    items = INSTRUMENTS[instrument].items
    lines = [f"{answered + 1}/{len(items)} {_(items[answered])}", _answers(instrument, _)]
    if first:
        lines.insert(0, _("Check your betting, privately. Reply with a number; STOP ends it."))
    return SEP.join(lines)


def ask_again(_: Gettext, *, instrument: InstrumentCode, answered: int) -> str:
    """A reply that was not an answer: the question's number, a hint and the answers again."""
    of = len(INSTRUMENTS[instrument].items)
    hint = _("Please reply to question {number}/{of} with the number of your answer:")
    return SEP.join((hint.format(number=answered + 1, of=of), _answers(instrument, _)))


def result(
    _: Gettext,
    *,
    instrument: InstrumentCode,
    answers: Sequence[int],
    offered: Sequence[FollowUp],
    settings: Settings,
) -> str:
    """A completed screening: the band in plain words, the helpline where NSER refers, what next.

    ``offered`` are the numbered choices (the result's follow-ups but
    self-exclusion, which is offered as its keyword).
    """
    band = band_of(instrument, answers)
    positive = band.code is BandCode.POSITIVE
    lines = [screening_texts.result_head(_, instrument=instrument, answers=answers)]
    if band.refer:
        lines += [helpline_line(_, settings), _("To stop betting, send EXCLUDE 1Y.")]
    choices = [
        f"{key}. {screening_texts.follow_up_label(follow_up, positive=positive, _=_)}"
        for key, follow_up in enumerate(offered, start=1)
    ]
    return SEP.join((*lines, *choices))


#: The citizen opted in to a quarterly reminder to check again.
reminders_on = screening_texts.reminders_on


def stopped(_: Gettext) -> str:
    """STOP during a screening: it ends, unfinished answers are dropped; reminders are untouched."""
    return _(
        "OK, the check is stopped and your unfinished answers were deleted. "
        "To stop reminders too, send STOP again."
    )


def gave_up(_: Gettext) -> str:
    """A second reply in a row that was not an answer: the screening ends."""
    return _(
        "The check is stopped and your unfinished answers were deleted. To start again, send CHECK."
    )


def expired(_: Gettext) -> str:
    """An answer to a screening that expired (no reply for a day)."""
    return _(
        "Your check expired after {hours} hours without a reply and its unfinished answers "
        "were deleted. To start again, send CHECK."
    ).format(hours=EXPIRY_HOURS)
