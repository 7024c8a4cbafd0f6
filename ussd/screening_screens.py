"""The text of the "check your gambling" screens, in the citizen's language.

Like :mod:`ussd.screens`: each function returns a screen body (no ``CON``/
``END``) and takes ``_``, the session's gettext. The items, answers and band
names are the instruments' own message ids (:mod:`core.instruments`). Every
screen is GSM-7 and at most 160 septets in both languages with the longest
settings; ``tests/ussd/test_screens.py`` checks each of them. Wording
decisions: ``docs/screening.md``.

An item screen is ``<n>/<of> <item>``, the numbered answers and ``0. Back``;
after an invalid answer it is the error line, the item and the answers (the
counter and the back line make room for the error line).
"""

from __future__ import annotations

from core import screening_texts
from core.i18n import Gettext, short_date
from core.instruments import INSTRUMENTS, BandCode
from core.periods import NAIROBI
from core.screening import Result
from core.settings import Settings
from core.texts import helpline
from ussd.screening_menu import band_of, follow_ups
from ussd.screens import SEP, with_error
from ussd.state import Quiz


def question(_: Gettext, *, quiz: Quiz, error: bool = False) -> str:
    """The next unanswered item of ``quiz`` with its answers."""
    instrument = INSTRUMENTS[quiz.instrument]
    number = len(quiz.answers)
    item = _(instrument.items[number])
    answers = SEP.join(
        f"{key}. {_(option.label)}" for key, option in enumerate(instrument.options, start=1)
    )
    if error:
        return SEP.join((_("Invalid choice."), item, answers))
    return SEP.join((f"{number + 1}/{len(instrument.items)} {item}", answers, _("0. Back")))


def _head(quiz: Quiz, _: Gettext, settings: Settings, *, promise: bool) -> str:
    head = screening_texts.result_head(_, instrument=quiz.instrument, answers=quiz.answers)
    if not band_of(quiz).refer:
        return head
    # The result's transaction writes the helpline SMS (core.screening.record): say so
    # when first shown; re-shown under "Invalid choice." there is no room left for it.
    line = _("Helpline (also by SMS): {helpline}") if promise else _("Helpline: {helpline}")
    return SEP.join((head, line.format(helpline=helpline(settings))))


def result(_: Gettext, *, quiz: Quiz, settings: Settings, error: bool = False) -> str:
    """A completed screening: the band in plain words, the helpline where NSER refers, what next.

    Where NSER refers, the helpline line says the helpline also comes by SMS
    (not on the re-shown screen after an invalid choice: no room).

    The numbered choices are :func:`ussd.screening_menu.follow_ups`, in order.
    """
    positive = band_of(quiz).code is BandCode.POSITIVE
    choices = [
        f"{key}. {screening_texts.follow_up_label(follow_up, positive=positive, _=_)}"
        for key, follow_up in enumerate(follow_ups(quiz), start=1)
    ]
    body = SEP.join((_head(quiz, _, settings, promise=not error), *choices, _("00. Main menu")))
    return with_error(body, error, _)


def last_result(_: Gettext, *, lang: str, latest: Result | None, settings: Settings) -> str:
    """The citizen's latest screening, asked for from the status screen: date and band."""
    if latest is None:
        return _("You have not checked your gambling yet. To check, choose 4 on the main menu.")
    meaning = latest.meaning
    day = short_date(latest.taken_at.astimezone(NAIROBI).date(), lang)
    head = _("Your last check, on {date}: {band}.").format(date=day, band=_(meaning.label))
    if not meaning.refer:
        return head
    return SEP.join((head, _("Helpline: {helpline}").format(helpline=helpline(settings))))


def reminders_off(_: Gettext) -> str:
    """The citizen asked for no more reminders to check again (from the status screen).

    The same whether they were on or not: a repeated POST answers alike.
    """
    return _("Done. You will get no more reminders to check your betting.")


#: The citizen opted in to a quarterly reminder to check again.
reminders_on = screening_texts.reminders_on
