"""How a subject's identifiers are sealed and indexed (never stored in clear).

Each identifier family has its own field name, used both as the AES-GCM
associated data and as the blind-index namespace (:mod:`core.crypto`), so a
passport number and a national ID with the same characters never collide. The
national ID and the Maisha Namba share one family, "Kenyan ID numbers"
(:data:`NATIONAL_ID_FIELD`). The names are those the subject's own columns used
before identifiers became links (migration 0011 copied values byte for byte).

Subjects are created and locked by :mod:`core.exclusion_store`; links are
written by :mod:`core.identifiers`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.crypto import KeyRing
from core.identity import (
    normalise_alien_id,
    normalise_maisha_namba,
    normalise_msisdn,
    normalise_national_id,
    normalise_passport,
)
from core.models import FAMILY_OF, IdentifierFamily, IdentifierKind

MSISDN_FIELD = "subject.msisdn"
NATIONAL_ID_FIELD = "subject.national_id"
PASSPORT_FIELD = "subject.passport"
ALIEN_ID_FIELD = "subject.alien_id"

FIELD_OF: dict[IdentifierFamily, str] = {
    IdentifierFamily.MSISDN: MSISDN_FIELD,
    IdentifierFamily.KENYAN_ID: NATIONAL_ID_FIELD,
    IdentifierFamily.PASSPORT: PASSPORT_FIELD,
    IdentifierFamily.ALIEN_ID: ALIEN_ID_FIELD,
}
_NORMALISE: dict[IdentifierKind, Callable[[str], str]] = {
    IdentifierKind.MSISDN: normalise_msisdn,
    IdentifierKind.NATIONAL_ID: normalise_national_id,
    IdentifierKind.MAISHA_NAMBA: normalise_maisha_namba,
    IdentifierKind.PASSPORT: normalise_passport,
    IdentifierKind.ALIEN_ID: normalise_alien_id,
}


@dataclass(frozen=True, slots=True)
class Identifier:
    """One identifier, normalised: its kind, family, value (never logged) and blind index."""

    kind: IdentifierKind
    family: IdentifierFamily
    value: str
    bidx: str

    @property
    def field(self) -> str:
        """The field name it is sealed and indexed under."""
        return FIELD_OF[self.family]


def normalise(kind: IdentifierKind, raw: str) -> str:
    """``raw`` normalised by the rules of ``kind`` (pure; see :mod:`core.identity`).

    Raises:
        InvalidMsisdn, InvalidNationalId: ``raw`` breaks them.
    """
    return _NORMALISE[IdentifierKind(kind)](raw)


def identifier(keyring: KeyRing, kind: IdentifierKind, raw: str) -> Identifier:
    """Normalise ``raw`` as a ``kind`` and compute its blind index in the family's namespace.

    Raises:
        InvalidMsisdn: a bad phone number (:func:`core.identity.normalise_msisdn`).
        InvalidNationalId: a bad ID document number (rules in :mod:`core.identity`).
    """
    kind = IdentifierKind(kind)
    family = FAMILY_OF[kind]
    value = _NORMALISE[kind](raw)
    return Identifier(kind, family, value, keyring.blind_index(value, field=FIELD_OF[family]))


def msisdn_index(keyring: KeyRing, msisdn: str) -> str:
    """Blind index of an MSISDN in any accepted spelling.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
    """
    return keyring.blind_index(normalise_msisdn(msisdn), field=MSISDN_FIELD)
