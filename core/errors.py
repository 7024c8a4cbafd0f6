"""The one error hierarchy of NSER.

Every error the domain raises on purpose is an :class:`NSERError`. Channels map
them to responses in one place each (a Starlette exception handler, a USSD
``END`` screen, an SMS reply); anything else is a bug and is logged as such.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.models import Exclusion


class NSERError(Exception):
    """Base class of every deliberate NSER error."""


class ConfigurationError(NSERError):
    """Settings are missing or unsafe for the environment (e.g. placeholder keys in production)."""


class InvalidInput(NSERError):
    """Input from a citizen, a gateway or an operator cannot be used as given."""


class InvalidMsisdn(InvalidInput):
    """A phone number is not a valid mobile MSISDN (E.164 after parsing with region KE)."""


class InvalidNationalId(InvalidInput):
    """A national ID number is not 6 to 8 digits."""


class ExclusionConflict(NSERError):
    """An exclusion change that the rules forbid, e.g. shortening or cancelling one."""


class AlreadyExcluded(ExclusionConflict):
    """The subject already has an exclusion in force ending no earlier than the one asked for.

    ``exclusion`` is that exclusion, so a channel can say until when and quote its reference.
    """

    def __init__(self, exclusion: Exclusion) -> None:
        super().__init__(f"already excluded (exclusion {exclusion.id})")
        self.exclusion = exclusion


class IntegrityFailure(NSERError):
    """Stored data does not verify (an audit hash chain break, an undecryptable field)."""
