"""The text of every SMS reply to a keyword, in the citizen's language.

Each function takes ``_``, the gettext of the reply's language (Babel extracts
from here), and returns one GSM-7 message of at most 160 septets with the
longest values settings allow (``tests/sms/test_replies.py``). Wording is
discreet: phones are shared.
"""

from __future__ import annotations

from datetime import datetime

from core import texts
from core.i18n import Gettext
from core.settings import Settings

SEP = "\n"


def ask_confirm(
    _: Gettext,
    *,
    lang: str,
    new_end: datetime | None,
    current_end: datetime | None,
    extending: bool,
    minutes: int,
) -> str:
    """The exclusion keyword's answer: what YES would do, that it is final, the time to reply."""
    head = texts.what_confirming_does(
        _, lang=lang, new_end=new_end, current_end=current_end, extending=extending
    )
    reply = _("Reply YES within {minutes} minutes to confirm.").format(minutes=minutes)
    return f"{head} {reply}"


def ask_period(_: Gettext) -> str:
    """An exclusion keyword without a period NSER offers: the periods, as keywords."""
    return _("For how long? Send EXCLUDE 6M, EXCLUDE 1Y, EXCLUDE 5Y or EXCLUDE PERMANENT.")


#: The period asked for would not lengthen the exclusion in force (as on USSD).
already_excluded = texts.already_excluded


def nothing_to_confirm(_: Gettext, *, minutes: int) -> str:
    """YES with no offer open (never asked, answered already, or too late)."""
    return _(
        "There is nothing to confirm, or more than {minutes} minutes have passed. "
        "To stop betting, send EXCLUDE 1Y."
    ).format(minutes=minutes)


def declined(_: Gettext) -> str:
    """NO: the offer is withdrawn, nothing changed."""
    return _("OK, nothing was changed.")


def status(_: Gettext, *, lang: str, ends_at: datetime | None, reference: str | None) -> str:
    """Excluded until when (with the reference), or not excluded."""
    if reference is None:
        return _("You are not self-excluded. To stop betting, send EXCLUDE 1Y.")
    return texts.excluded_until(_, lang=lang, ends_at=ends_at, reference=reference)


def help_(_: Gettext, *, settings: Settings) -> str:
    """What NSER is, the keywords, the helpline."""
    return SEP.join(
        (
            _("NSER helps you block yourself from all licensed betting in Kenya."),
            _("Send EXCLUDE 1Y, STATUS or LANGUAGE."),
            texts.helpline_line(_, settings),
        )
    )


def language_set(_: Gettext) -> str:
    """The preferred language is now the reply's language."""
    return _("Your language is now English. For Kiswahili, send LUGHA.")


def reminders_stopped(_: Gettext) -> str:
    """No more reminders; the exclusion itself is untouched."""
    return _(
        "You will get no more reminders. An exclusion stays in force until its end; "
        "SMS cannot stop it."
    )


def not_understood(_: Gettext) -> str:
    """Anything NSER does not understand: a short help in both languages."""
    return _(
        "Samahani, hatukuelewa. Tuma JIZUIE, HALI au MSAADA.\n"
        "Sorry, we did not understand. Send EXCLUDE, STATUS or HELP."
    )


def apology(_: Gettext) -> str:
    """Something failed on our side."""
    return _("Sorry, something went wrong. Please try again later.")


def ask_id(_: Gettext) -> str:
    """An ID keyword with no number after it."""
    return _("Send your ID number after the keyword, for example ID 12345678 or PASSPORT A1234567.")


def bad_id(_: Gettext, *, document: str) -> str:
    """The number after an ID keyword breaks its document's rules (``docs/identity.md``)."""
    return _("That is not a valid {document} number. Check it and send it again.").format(
        document=document
    )


def id_needs_exclusion(_: Gettext) -> str:
    """An ID sent by someone not excluded: nothing stored."""
    return _("To add your ID, first stop betting: send EXCLUDE 1Y. Then send ID and your number.")


def id_added(_: Gettext, *, reference: str) -> str:
    """The ID joined the sender's exclusion in force."""
    return SEP.join(
        (
            _("Your ID is now part of your exclusion: lines that use it are blocked too."),
            texts.reference_line(_, reference),
        )
    )


def ask_reference(_: Gettext) -> str:
    """The link keyword with no reference after it."""
    return _(
        "Already excluded on another number? Send LINK and that exclusion's reference number, "
        "for example LINK K7M3-Q9PA."
    )


def unknown_reference(_: Gettext) -> str:
    """No exclusion in force has the reference sent."""
    return _(
        "No exclusion in force has that reference number. Check it and send LINK "
        "and the reference again."
    )


#: The number joined the exclusion (the same words as on USSD).
linked = texts.number_joined
#: Too many wrong references from this number lately.
link_limited = texts.too_many_wrong_references
