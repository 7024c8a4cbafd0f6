"""User-facing phrases shared by every channel (USSD screens, SMS replies and notices).

Each function takes the ``_`` (gettext) of the citizen's language, so Babel's
extractor finds the strings here.
"""

from __future__ import annotations

from datetime import datetime

from core.i18n import Gettext, short_date
from core.models import IdentifierKind
from core.periods import Period, last_local_day
from core.settings import Settings


def period_label(period: Period, _: Gettext) -> str:
    """``6 months`` / ``Miezi 6`` and so on."""
    labels = {
        Period.SIX_MONTHS: _("6 months"),
        Period.ONE_YEAR: _("1 year"),
        Period.FIVE_YEARS: _("5 years"),
        Period.PERMANENT: _("Permanently"),
    }
    return labels[period]


def until(ends_at: datetime | None, lang: str, _: Gettext) -> str:
    """``until 21/11/2027`` / ``hadi 21/11/2027``, or ``permanently`` / ``kwa kudumu``."""
    if ends_at is None:
        return _("permanently")
    return _("until {date}").format(date=short_date(last_local_day(ends_at), lang))


def helpline(settings: Settings) -> str:
    """The helpline as shown on screens: name and number (at most 39 characters)."""
    return f"{settings.helpline_name} {settings.helpline_number}"


def reference_line(_: Gettext, reference: str) -> str:
    """``Reference: K7M3-Q9PA`` / ``Nambari ya kumbukumbu: K7M3-Q9PA``."""
    return _("Reference: {reference}").format(reference=reference)


def helpline_line(_: Gettext, settings: Settings) -> str:
    """``Helpline: <name> <number>`` / ``Simu ya msaada: …``."""
    return _("Helpline: {helpline}").format(helpline=helpline(settings))


def excluded_until(_: Gettext, *, lang: str, ends_at: datetime | None, reference: str) -> str:
    """Two lines: excluded until when, and the reference (a status answer)."""
    return "\n".join(
        (
            _("You are excluded from betting {until}.").format(until=until(ends_at, lang, _)),
            reference_line(_, reference),
        )
    )


def already_excluded(_: Gettext, *, lang: str, ends_at: datetime | None, reference: str) -> str:
    """The period chosen would not lengthen the exclusion in force: end, reference, the rule."""
    return "\n".join(
        (
            _("You are already excluded {until}.").format(until=until(ends_at, lang, _)),
            reference_line(_, reference),
            _("An exclusion can only be made longer, never shorter."),
        )
    )


def what_confirming_does(
    _: Gettext,
    *,
    lang: str,
    new_end: datetime | None,
    current_end: datetime | None,
    extending: bool,
) -> str:
    """Before confirming: the new exclusion or the extension, and that it cannot be undone."""
    if extending:
        head = _("You are excluded {current}. Stay excluded {new}?").format(
            current=until(current_end, lang, _), new=until(new_end, lang, _)
        )
    else:
        head = _("You will be blocked from all licensed betting {until}.").format(
            until=until(new_end, lang, _)
        )
    return head + " " + _("You cannot cancel this later.")


def number_joined(_: Gettext, *, lang: str, ends_at: datetime | None, reference: str) -> str:
    """A number joined an exclusion by its reference: same end; the first number gets an SMS."""
    return "\n".join(
        (
            _("Done. This number is excluded too, {until}.").format(until=until(ends_at, lang, _)),
            reference_line(_, reference),
            _("An SMS goes to your other number."),
        )
    )


def too_many_wrong_references(_: Gettext, *, settings: Settings) -> str:
    """Too many wrong references from this number lately (:mod:`core.identifiers`)."""
    return "\n".join(
        (
            _("Too many wrong reference numbers from this phone. Try again tomorrow."),
            helpline_line(_, settings),
        )
    )


def document_name(kind: IdentifierKind, _: Gettext) -> str:
    """The name of an ID document as a screen or an SMS shows it."""
    names = {
        IdentifierKind.NATIONAL_ID: _("national ID"),
        IdentifierKind.MAISHA_NAMBA: _("Maisha Namba"),
        IdentifierKind.PASSPORT: _("passport"),
        IdentifierKind.ALIEN_ID: _("alien/refugee ID"),
        IdentifierKind.MSISDN: _("phone"),
    }
    return names[kind]
