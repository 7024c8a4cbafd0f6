"""The screening dialogue's phrases shared by the USSD screens and the SMS replies.

Each function takes ``_``, the gettext of the citizen's language (Babel
extracts from here). Wording decisions are in ``docs/screening.md``; the
channels add their own lines (the helpline, how to answer) around these.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.i18n import Gettext
from core.instruments import BandCode, InstrumentCode
from core.screening_dialogue import FollowUp, band_of


def follow_up_label(follow_up: FollowUp, *, positive: bool, _: Gettext) -> str:
    """The label of a result's follow-up (``positive``: after a positive Lie/Bet)."""
    if follow_up is FollowUp.PGSI:
        return _("Continue") if positive else _("9 more questions (last 12 months)")
    if follow_up is FollowUp.EXCLUDE:
        return _("Stop betting")
    return _("Remind me every 3 months")


def result_head(_: Gettext, *, instrument: InstrumentCode, answers: Sequence[int]) -> str:
    """The band of a complete screening in plain words.

    Lie/Bet: what the answers suggest. PGSI: "Your result: <band>.", and at a
    band where NSER does not refer, a sentence saying what it means (where it
    refers, the channel adds the helpline instead).

    Raises:
        InvalidAnswers: ``answers`` do not answer every item.
    """
    band = band_of(instrument, answers)
    if instrument == InstrumentCode.LIE_BET:
        if band.code is BandCode.POSITIVE:
            return _(
                "Your answers suggest betting may be harming you. "
                "9 more questions about the last 12 months will tell more."
            )
        return _("No sign of harm from betting in your answers.")
    head = _("Your result: {band}.").format(band=_(band.label))
    if band.refer:
        return head
    if band.code is BandCode.LOW_RISK:
        return " ".join((head, _("A few of your answers show some harm from betting.")))
    return " ".join((head, _("No sign of harm from betting in your answers.")))


def reminders_on(_: Gettext) -> str:
    """The citizen opted in to a quarterly reminder to check again."""
    return _("Done. We will send you an SMS every 3 months to remind you to check again.")
