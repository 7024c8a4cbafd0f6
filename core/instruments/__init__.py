"""Gambling-harm screening instruments as versioned data (see :mod:`core.instruments.base`).

* Lie/Bet (Johnson et al. 1997): :data:`LIE_BET`, the citizen's first two questions.
* PGSI (Ferris & Wynne 2001): :data:`PGSI`, nine items, asked after a positive
  Lie/Bet or when the citizen asks.
* DSM-5 gambling disorder (APA 2013): :data:`DSM5`, for trained staff only.
"""

from __future__ import annotations

from core.instruments.base import (
    Band,
    BandCode,
    Instrument,
    InstrumentCode,
    Option,
    Scored,
)
from core.instruments.dsm5 import DSM5
from core.instruments.liebet import LIE_BET
from core.instruments.pgsi import PGSI

#: Every instrument by its code.
INSTRUMENTS: dict[str, Instrument] = {each.code: each for each in (LIE_BET, PGSI, DSM5)}
#: The instruments citizens take themselves; only their results are shown back to a citizen.
SELF_SCREENING = (InstrumentCode.LIE_BET, InstrumentCode.PGSI)

__all__ = [
    "DSM5",
    "INSTRUMENTS",
    "LIE_BET",
    "PGSI",
    "SELF_SCREENING",
    "Band",
    "BandCode",
    "Instrument",
    "InstrumentCode",
    "Option",
    "Scored",
]
