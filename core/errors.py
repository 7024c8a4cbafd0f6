"""The one error hierarchy of NSER.

Every error the domain raises on purpose is an :class:`NSERError`. Channels map
them to responses in one place each (a Starlette exception handler, a USSD
``END`` screen, an SMS reply); anything else is a bug and is logged as such.
"""

from __future__ import annotations

from datetime import datetime


class NSERError(Exception):
    """Base class of every deliberate NSER error."""


class ConfigurationError(NSERError):
    """Settings are missing or unsafe for the environment (e.g. placeholder keys in production)."""


class InvalidInput(NSERError):
    """Input from a citizen, a gateway or an operator cannot be used as given."""


class InvalidMsisdn(InvalidInput):
    """A phone number is not a valid mobile MSISDN (E.164 after parsing with region KE)."""


class InvalidNationalId(InvalidInput):
    """An ID document number does not follow its rules (:mod:`core.identity`)."""


class DetachConflict(NSERError):
    """A detach request cannot move as asked (decided already, link gone, one under way)."""


class LinkRefused(NSERError):
    """A number could not join an exclusion by reference.

    ``reason`` is ``"unknown"`` (no exclusion in force has that reference),
    ``"malformed"`` (not a reference: its check character is wrong),
    ``"limited"`` (too many wrong references from this number lately), or
    ``"other_person"`` (staff tried to link a number another person holds).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidAnswers(InvalidInput):
    """Screening answers that do not fit the instrument: wrong count, or an option it lacks."""


class ExclusionConflict(NSERError):
    """An exclusion change that the rules forbid, e.g. shortening or cancelling one."""


class AlreadyExcluded(ExclusionConflict):
    """The subject already has an exclusion in force ending no earlier than the one asked for.

    Carries plain values, never the ORM row: the transaction that loaded it is
    usually rolled back by the time a channel reads the error.

    Attributes:
        reference: the reference of the exclusion in force (``K7M3-Q9PA``).
        ends_at: its UTC end, ``None`` when permanent.
    """

    def __init__(self, *, reference: str, ends_at: datetime | None) -> None:
        super().__init__(f"already excluded (reference {reference})")
        self.reference = reference
        self.ends_at = ends_at


class RequestKeyConflict(NSERError):
    """A channel request key (a USSD session id, an SMS message id) already belongs to someone else.

    Raised when a replayed key was first used by another subject, e.g. a gateway
    reusing a session id for another phone. Deliberately carries nothing about
    that other subject: the channel answers with a neutral error.
    """


class IntegrityFailure(NSERError):
    """Stored data does not verify (an audit log mismatch, an undecryptable field)."""


class ProofRangeError(InvalidInput):
    """A proof was asked for sizes or an index the log cannot prove (out of range).

    The message says which bound failed, e.g. ``size 12 is larger than the log (10)``;
    an HTTP channel answers it with ``400``.
    """


class NotFound(NSERError):
    """The thing asked for does not exist (an operator, a key, a reference, a BST)."""


class CodeRefused(NSERError):
    """A one-time code typed at the back-office desk was not accepted.

    Attributes:
        kind: ``wrong`` (another code), ``expired`` (too old), ``tries`` (too many
            wrong codes for this one) or ``other`` (issued to another staff member).
    """

    def __init__(self, kind: str) -> None:
        super().__init__(f"one-time code refused ({kind})")
        self.kind = kind


class ExportFailed(NSERError):
    """A report file could not be written (the reports directory is missing or read-only)."""


class OperatorConflict(NSERError):
    """An operator change that clashes with what exists, e.g. a licence registered twice."""


class SignInRefused(NSERError):
    """A staff sign-in failed: wrong username, password or code, or a disabled account.

    Deliberately says no more than that, so the screen cannot be used to learn
    which usernames exist or which factor was wrong.
    """


class AccountLocked(SignInRefused):
    """Too many failed sign-ins: the account refuses every attempt until ``until`` (UTC)."""

    def __init__(self, *, until: datetime) -> None:
        super().__init__(f"account locked until {until.isoformat()}")
        self.until = until


class WeakPassword(InvalidInput):
    """A new staff password does not meet the rules (12 to 128 characters, not the username)."""


class PermissionDenied(NSERError):
    """A staff member may not do ``action``: their role is below ``needed``, or the account
    is disabled or not fully set up. Raised by :mod:`core.permissions`, which audits it.

    Attributes:
        action: what was attempted (``lift.request``).
        needed: the role that may do it (``officer``), as a plain string.
        kind: why, for a screen to word it: ``role``, ``disabled``, ``setup``
            (password or authenticator still to set) or ``maker-checker``.
    """

    def __init__(self, *, action: str, needed: str, kind: str = "role", reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.needed = needed
        self.kind = kind


class MakerCheckerViolation(PermissionDenied):
    """The staff member who requested a change tried to decide it too."""


class LiftConflict(NSERError):
    """A lift request cannot move as asked.

    Attributes:
        kind: ``not_in_force`` (the exclusion is not in force), ``open`` (it already
            has a request under way) or ``decided`` (the request is no longer awaiting
            a decision).
    """

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind
