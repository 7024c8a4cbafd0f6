"""Formatting for staff screens: Nairobi times, and errors in the staff member's language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from core.errors import (
    InvalidMsisdn,
    LiftConflict,
    MakerCheckerViolation,
    PermissionDenied,
    SignInRefused,
)
from core.i18n import Gettext
from core.identity import normalise_msisdn
from core.models import IdentifierKind
from core.periods import NAIROBI, Period
from core.texts import period_label

#: Errors that mean a store did not answer: the screen says so and nothing was changed.
STORE_DOWN = (SQLAlchemyError, OSError, TimeoutError)


def when(moment: datetime | None) -> str:
    """``21/11/2026 12:00`` in Nairobi time; ``-`` for none."""
    return moment.astimezone(NAIROBI).strftime("%d/%m/%Y %H:%M") if moment else "-"


def age(since: datetime | None, now: datetime, _: Gettext) -> str:
    """How long ago ``since`` was: ``40 s``, ``12 min``, ``5 h``, ``3 d``; ``-`` for none."""
    if since is None:
        return "-"
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return _("{n} s").format(n=seconds)
    if seconds < 3600:
        return _("{n} min").format(n=seconds // 60)
    if seconds < 86400:
        return _("{n} h").format(n=seconds // 3600)
    return _("{n} d").format(n=seconds // 86400)


def period(value: str, _: Gettext) -> str:
    """A stored period (``6m``) as staff read it (``6 months``)."""
    try:
        return period_label(Period(value), _)
    except ValueError:
        return value


def refusal(exc: PermissionDenied, _: Gettext) -> str:
    """Why core refused, in words for the screen."""
    if isinstance(exc, MakerCheckerViolation):
        return _("Refused: you made this request, so someone else must decide it.")
    if exc.kind == "disabled":
        return _("Refused: your account has been disabled.")
    if exc.kind == "setup":
        return _("Refused: your account is not fully set up.")
    return _("Refused: this needs the {role} role.").format(role=role_name(exc.needed, _))


def problem(exc: Exception, _: Gettext) -> str | None:
    """The words for an error any screen may meet; ``None`` for a screen's own (not found…).

    A phone number that is not a Kenyan mobile is said the same way on every screen that
    takes one (walk-in, DSM-5 checklist); a screen with other words passes its own, and so
    must one whose words for :class:`~core.errors.InvalidInput` (its parent) would win.
    """
    if isinstance(exc, InvalidMsisdn):
        return _("That is not a Kenyan mobile number.")
    if isinstance(exc, PermissionDenied):
        return refusal(exc, _)
    if isinstance(exc, SignInRefused):  # the account was disabled or reset meanwhile
        return _("Your account cannot be used now. Ask an administrator.")
    if isinstance(exc, STORE_DOWN):
        return _("The database is not answering. Nothing was changed; try again shortly.")
    if isinstance(exc, LiftConflict):
        return {
            "not_in_force": _("That exclusion is not in force, so there is nothing to lift."),
            "open": _("That exclusion already has a lift request under way."),
        }.get(exc.kind, _("That request has been decided already."))
    return None


def role_name(role: str, _: Gettext) -> str:
    """A role as staff read it."""
    names = {
        "viewer": _("viewer"),
        "officer": _("officer"),
        "supervisor": _("supervisor"),
        "admin": _("admin"),
    }
    return names.get(role, role)


#: What staff may type for an identifier's kind (any case), and the kind it means.
KIND_WORDS: dict[str, IdentifierKind] = {
    "phone": IdentifierKind.MSISDN,
    "simu": IdentifierKind.MSISDN,
    "id": IdentifierKind.NATIONAL_ID,
    "maisha": IdentifierKind.MAISHA_NAMBA,
    "passport": IdentifierKind.PASSPORT,
    "pasipoti": IdentifierKind.PASSPORT,
    "alien": IdentifierKind.ALIEN_ID,
}


def typed_kind(typed: str, *, documents_only: bool = False) -> IdentifierKind | None:
    """The kind staff typed (a word of :data:`KIND_WORDS`, or the kind's own value), or
    ``None`` for anything else (and for a phone number when ``documents_only``)."""
    text = typed.strip().lower()
    kind = KIND_WORDS.get(text)
    if kind is None and text in {k.value for k in IdentifierKind}:
        kind = IdentifierKind(text)
    if kind is IdentifierKind.MSISDN and documents_only:
        return None
    return kind


def typed_identifier(typed: str) -> tuple[IdentifierKind, str] | None:
    """A kind and a value typed in one field: ``phone 0712345678``, ``id 1234 5678``.

    The first word is the kind (:func:`typed_kind`), the rest the value as typed;
    a Kenyan mobile number typed alone is a phone number. ``None`` for anything
    else (no value, an unknown kind). The value's own rules are core's to check.
    """
    first, _space, rest = typed.strip().partition(" ")
    kind = typed_kind(first)
    if kind is not None:
        return (kind, rest.strip()) if rest.strip() else None
    try:
        normalise_msisdn(typed)
    except InvalidMsisdn:
        return None
    return IdentifierKind.MSISDN, typed.strip()


def kind_name(kind: str, _: Gettext) -> str:
    """An identifier kind or family (``national_id``, ``kenyan_id``…) as staff read it."""
    names = {
        "msisdn": _("phone number"),
        "national_id": _("national ID"),
        "maisha_namba": _("Maisha Namba"),
        "kenyan_id": _("Kenyan ID"),
        "passport": _("passport"),
        "alien_id": _("alien ID"),
    }
    return names.get(kind, kind)


def stage(status: str, _: Gettext) -> str:
    """A maker-checker request's status (a lift's or a detach's) in words."""
    return {
        "requested": _("awaiting decision"),
        "approved": _("cooling off"),
        "rejected": _("rejected"),
        "withdrawn": _("withdrawn"),
        "lifted": _("lifted"),
        "lapsed": _("lapsed"),
        "detached": _("detached"),
    }.get(status, status)
