"""How a subject's identifiers are indexed (never stored in clear).

Subjects are created and locked by :mod:`core.exclusion_store`; this module
names the fields and computes the blind index every look-up uses.
"""

from __future__ import annotations

from core.crypto import KeyRing
from core.identity import normalise_msisdn

MSISDN_FIELD = "subject.msisdn"
NATIONAL_ID_FIELD = "subject.national_id"


def msisdn_index(keyring: KeyRing, msisdn: str) -> str:
    """Blind index of an MSISDN in any accepted spelling.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
    """
    return keyring.blind_index(normalise_msisdn(msisdn), field=MSISDN_FIELD)
