"""What every screening instrument is made of: items, one answer scale, scoring and bands.

An instrument is data, not code: its items and answer labels are gettext
message ids (marked with :func:`core.i18n.N_`, translated only when shown), its
score is the sum of the points of the options chosen, and its bands split the
score range ``0 .. max_score`` into consecutive, non-overlapping ranges. What
is stored with each result is the instrument's :attr:`Instrument.version`, so a
result can always be read against the wording and scoring it was taken with.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import InvalidAnswers


class InstrumentCode(enum.StrEnum):
    """The instruments NSER knows; the value is what is stored."""

    LIE_BET = "liebet"
    PGSI = "pgsi"
    DSM5 = "dsm5"


class BandCode(enum.StrEnum):
    """Every band of every instrument; the value is what is stored (unique across instruments)."""

    # Lie/Bet
    NEGATIVE = "negative"
    POSITIVE = "positive"
    # PGSI
    NON_PROBLEM = "non_problem"
    LOW_RISK = "low_risk"
    MODERATE_RISK = "moderate_risk"
    PROBLEM = "problem"
    # DSM-5 gambling disorder
    NOT_MET = "not_met"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


@dataclass(frozen=True)
class Option:
    """One answer on an instrument's scale: its label (a message id) and the points it scores."""

    label: str
    points: int


@dataclass(frozen=True)
class Band:
    """Scores ``lowest`` to ``highest`` (inclusive) and what they mean.

    ``label`` names the band in plain words (a message id). ``refer`` marks the
    bands at which NSER offers self-exclusion and the helpline (PGSI moderate
    risk and above; DSM-5 mild and above).
    """

    code: BandCode
    lowest: int
    highest: int
    label: str
    refer: bool = False


@dataclass(frozen=True)
class Scored:
    """A complete set of answers, scored: the total and the band it falls in."""

    score: int
    band: Band


@dataclass(frozen=True)
class Instrument:
    """A screening instrument as versioned data.

    ``edition`` names the published instrument the scoring follows (its year);
    ``revision`` counts NSER's own changes to the wording or scoring, so
    :attr:`version` (``"2001.1"``) changes whenever what a citizen reads or how
    it is scored changes. ``items`` and the option labels are message ids.

    Raises:
        ValueError: the bands do not cover ``0 .. max_score`` exactly once, in order.
    """

    code: InstrumentCode
    edition: str
    revision: int
    items: tuple[str, ...]
    options: tuple[Option, ...]
    bands: tuple[Band, ...]

    def __post_init__(self) -> None:
        expected = 0
        for band in self.bands:
            if band.lowest != expected or band.highest < band.lowest:
                raise ValueError(f"{self.code}: bands must cover 0..{self.max_score} in order")
            expected = band.highest + 1
        if expected != self.max_score + 1:
            raise ValueError(f"{self.code}: bands must end at {self.max_score}")

    @property
    def version(self) -> str:
        """``<edition>.<revision>``, e.g. ``"2001.1"``: what is stored with each result."""
        return f"{self.edition}.{self.revision}"

    @property
    def max_score(self) -> int:
        """The highest possible total (every item answered with the top option)."""
        return len(self.items) * max(option.points for option in self.options)

    def choice(self, typed: str) -> int | None:
        """The option index a citizen's typed number picks (``"1"`` is the first), or ``None``."""
        if typed.isascii() and typed.isdigit() and 1 <= int(typed) <= len(self.options):
            return int(typed) - 1
        return None

    def band_of(self, score: int) -> Band:
        """The band ``score`` falls in.

        Raises:
            InvalidAnswers: ``score`` is outside ``0 .. max_score``.
        """
        for band in self.bands:
            if band.lowest <= score <= band.highest:
                return band
        raise InvalidAnswers(f"{self.code}: score {score} is outside 0..{self.max_score}")

    def band(self, code: str) -> Band:
        """The band named ``code``.

        Raises:
            KeyError: this instrument has no such band.
        """
        for band in self.bands:
            if band.code == code:
                return band
        raise KeyError(f"{self.code} has no band {code!r}")

    def score(self, answers: Sequence[int]) -> Scored:
        """Score a complete set of ``answers`` (option indexes, one per item, in item order).

        Raises:
            InvalidAnswers: not one answer per item, or an index the scale does not have.
        """
        if len(answers) != len(self.items):
            raise InvalidAnswers(f"{self.code}: {len(self.items)} answers expected")
        if any(not 0 <= answer < len(self.options) for answer in answers):
            raise InvalidAnswers(f"{self.code}: an answer is not one of the options")
        total = sum(self.options[answer].points for answer in answers)
        return Scored(score=total, band=self.band_of(total))
