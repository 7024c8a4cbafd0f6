"""The text of every USSD screen, in the citizen's language.

Each function returns the screen body without the ``CON``/``END`` prefix and
takes ``_``, the gettext of the session's language (Babel extracts from here).
Every screen must be GSM-7 and at most 160 septets in both languages, with the
longest values settings allow; ``tests/ussd/test_screens.py`` checks it.
"""

from __future__ import annotations

from datetime import datetime

from core import texts
from core.i18n import Gettext
from core.models import IdentifierKind
from core.periods import Period
from core.settings import Settings
from core.texts import period_label, until

SEP = "\n"


def with_error(body: str, error: bool, _: Gettext) -> str:
    """``body`` under an "Invalid choice." line when the last input was not a valid choice."""
    return SEP.join((_("Invalid choice."), body)) if error else body


def language(_: Gettext, *, error: bool = False) -> str:
    """First screen, bilingual: pick Kiswahili or English (its error line is bilingual too)."""
    body = _("Karibu NSER / Welcome to NSER\n1. Kiswahili\n2. English")
    return SEP.join((_("Chaguo si sahihi / Invalid choice"), body)) if error else body


def resume(_: Gettext, *, error: bool = False) -> str:
    """Offer to continue a session that dropped a few minutes ago."""
    return with_error(_("Continue where you left off?\n1. Continue\n2. Start again"), error, _)


def main(_: Gettext, *, error: bool = False) -> str:
    """Main menu."""
    body = _(
        "National Self-Exclusion Register\n1. Stop betting (self-exclude)\n"
        "2. My status\n3. Help\n4. Check your gambling\n5. My other line\n0. Language"
    )
    return with_error(body, error, _)


def period(_: Gettext, *, error: bool = False) -> str:
    """Choose how long to be excluded."""
    options = SEP.join(
        f"{key}. {period_label(value, _)}"
        for key, value in (
            ("1", Period.SIX_MONTHS),
            ("2", Period.ONE_YEAR),
            ("3", Period.FIVE_YEARS),
            ("4", Period.PERMANENT),
        )
    )
    body = SEP.join((_("Stop betting for how long?"), options, _("0. Back 00. Main menu")))
    return with_error(body, error, _)


def confirm(
    _: Gettext,
    *,
    lang: str,
    new_end: datetime | None,
    current_end: datetime | None,
    extending: bool,
    error: bool = False,
    with_id: bool = False,
) -> str:
    """Confirm a new exclusion or an extension, saying plainly it cannot be undone.

    Adding an ID first is offered (one key to skip it: confirming); once an ID
    was typed (``with_id``) the screen says so instead.
    """
    head = texts.what_confirming_does(
        _, lang=lang, new_end=new_end, current_end=current_end, extending=extending
    )
    if with_id:
        lines = (head, _("ID added."), _("1. Confirm"), _("0. Back"))
    else:
        lines = (head, _("1. Confirm"), _("2. Add my ID first"), _("0. Back"))
    return with_error(SEP.join(lines), error, _)


def id_kind(_: Gettext, *, error: bool = False) -> str:
    """Which ID document to add (after the period, before confirming)."""
    body = _(
        "Add your ID so all your lines are blocked (recommended).\n1. National ID\n"
        "2. Maisha Namba\n3. Passport\n4. Alien/refugee ID\n0. Back"
    )
    return with_error(body, error, _)


document_name = texts.document_name


def id_entry(_: Gettext, *, kind: IdentifierKind, error: bool = False) -> str:
    """Type the ID's number; a mistyped one is asked again, saying so."""
    name = document_name(kind, _)
    if error:
        head = _("That is not a valid {document} number. Check it and type it again:")
    else:
        head = _("Type your {document} number:")
    return SEP.join((head.format(document=name), _("0. Back")))


def link(_: Gettext, *, error: bool = False) -> str:
    """Join an exclusion made on another number: type its reference (a wrong one re-prompts)."""
    if error:
        head = _("No exclusion in force has that reference number. Check it and type it again:")
    else:
        head = _(
            "Already excluded on another number? Type the reference number of that "
            "exclusion (like K7M3-Q9PA):"
        )
    return SEP.join((head, _("0. Back")))


#: This number joined the exclusion (same words by SMS).
linked = texts.number_joined
#: Too many wrong references from this number lately (same words by SMS).
link_limited = texts.too_many_wrong_references


def not_mine(_: Gettext, *, settings: Settings) -> str:
    """A holder says the excluded number is not theirs (a recycled number): ask the regulator."""
    return _(
        "If this number was not yours when the exclusion was made, ask the regulator "
        "to remove it, giving the reference number: {contact}"
    ).format(contact=settings.regulator_contact)


def excluded(
    _: Gettext,
    *,
    lang: str,
    ends_at: datetime | None,
    reference: str,
    extended: bool,
    settings: Settings,
) -> str:
    """The exclusion is in place (created or extended): end, reference, helpline, SMS to come.

    The same facts follow by SMS (:func:`core.notices.confirmation`), written in
    the exclusion's transaction.
    """
    if extended:
        head = _("Done. Your exclusion now lasts {until}.")
    else:
        head = _("Done. You are excluded from betting {until}.")
    return SEP.join(
        (
            head.format(until=until(ends_at, lang, _)),
            texts.reference_line(_, reference),
            texts.helpline_line(_, settings),
            _("An SMS confirmation follows."),
        )
    )


already_excluded = texts.already_excluded


def status(
    _: Gettext,
    *,
    lang: str,
    ends_at: datetime | None,
    reference: str | None,
    error: bool = False,
) -> str:
    """My status: excluded until when (with the reference), or not excluded.

    The latest screening result is a separate choice here, never shown on this
    screen itself: phones are shared. Another choice stops the quarterly
    reminders to check one's gambling again; an excluded number also offers
    what to do if it is not the holder's (a recycled number: ask the regulator).
    """
    last, stop = _("1. My last check result"), _("2. Stop check reminders")
    if reference is None:
        head = _("You are not self-excluded. To stop betting, choose 1 on the main menu.")
        return with_error(SEP.join((head, last, stop, _("0. Back"))), error, _)
    head = texts.excluded_until(_, lang=lang, ends_at=ends_at, reference=reference)
    # No "0. Back" line here: it would not fit 160 characters in Kiswahili with an
    # error line, and 0 goes back on every screen anyway.
    lines = (head, last, stop, _("3. Not my number?"))
    return with_error(SEP.join(lines), error, _)


def help_(_: Gettext, *, settings: Settings) -> str:
    """What NSER is, the helpline and the regulator's contact."""
    return SEP.join(
        (
            _("NSER helps you block yourself from all licensed betting in Kenya."),
            texts.helpline_line(_, settings),
            _("Regulator: {contact}").format(contact=settings.regulator_contact),
        )
    )


def invalid_phone(_: Gettext) -> str:
    """The gateway sent a number that is not a valid mobile MSISDN (bilingual: no language yet)."""
    return _(
        "Samahani, huduma hii inahitaji nambari sahihi ya simu.\n"
        "Sorry, this service needs a valid mobile number."
    )


def session_ended(_: Gettext) -> str:
    """The session cannot go on: too long a history, or a session id that is not this caller's.

    Neutral on purpose: it says nothing about anyone else's session.
    """
    return _("Sorry, this session has ended. Please dial again.")


def apology(_: Gettext) -> str:
    """Something failed on our side."""
    return _("Sorry, something went wrong. Please try again later.")
