"""Scoring and bands of the screening instruments, at every band boundary."""

from __future__ import annotations

import pytest

from core.errors import InvalidAnswers
from core.instruments import (
    DSM5,
    INSTRUMENTS,
    LIE_BET,
    PGSI,
    Band,
    BandCode,
    Instrument,
    InstrumentCode,
    Option,
)

YES, NO = 0, 1  # option indexes on the yes/no scale ("1. Yes", "2. No")


def pgsi_answers(total: int) -> list[int]:
    """Nine PGSI answers (option index = points) adding up to ``total``."""
    answers = [0] * 9
    for turn in range(total):
        answers[turn % 9] += 1
    return answers


@pytest.mark.parametrize(
    ("total", "band", "refer"),
    [
        (0, BandCode.NON_PROBLEM, False),
        (1, BandCode.LOW_RISK, False),
        (2, BandCode.LOW_RISK, False),
        (3, BandCode.MODERATE_RISK, True),
        (7, BandCode.MODERATE_RISK, True),
        (8, BandCode.PROBLEM, True),
        (27, BandCode.PROBLEM, True),
    ],
)
def test_pgsi_bands_at_every_boundary(total: int, band: BandCode, refer: bool) -> None:
    scored = PGSI.score(pgsi_answers(total))
    assert (scored.score, scored.band.code, scored.band.refer) == (total, band, refer)


def test_pgsi_scale_is_never_sometimes_most_of_the_time_almost_always() -> None:
    assert [(option.label, option.points) for option in PGSI.options] == [
        ("Never", 0),
        ("Sometimes", 1),
        ("Most of the time", 2),
        ("Almost always", 3),
    ]
    assert len(PGSI.items) == 9
    assert PGSI.max_score == 27
    # The same total from different answers falls in the same band.
    assert PGSI.score([3, 0, 0, 0, 0, 0, 0, 0, 0]).band.code is BandCode.MODERATE_RISK
    assert PGSI.score([0, 0, 0, 0, 0, 0, 0, 0, 3]).band.code is BandCode.MODERATE_RISK


@pytest.mark.parametrize(
    ("bet", "lie", "band"),
    [
        (NO, NO, BandCode.NEGATIVE),
        (YES, NO, BandCode.POSITIVE),
        (NO, YES, BandCode.POSITIVE),
        (YES, YES, BandCode.POSITIVE),
    ],
)
def test_lie_bet_is_positive_if_either_answer_is_yes(bet: int, lie: int, band: BandCode) -> None:
    scored = LIE_BET.score([bet, lie])
    assert scored.band.code is band
    assert scored.score == (bet == YES) + (lie == YES)
    assert not scored.band.refer  # a positive Lie/Bet leads to the PGSI, not straight to help


@pytest.mark.parametrize(
    ("met", "band"),
    [
        (0, BandCode.NOT_MET),
        (3, BandCode.NOT_MET),
        (4, BandCode.MILD),
        (5, BandCode.MILD),
        (6, BandCode.MODERATE),
        (7, BandCode.MODERATE),
        (8, BandCode.SEVERE),
        (9, BandCode.SEVERE),
    ],
)
def test_dsm5_severity_at_every_boundary(met: int, band: BandCode) -> None:
    answers = [YES] * met + [NO] * (9 - met)
    scored = DSM5.score(answers)
    assert (scored.score, scored.band.code) == (met, band)
    assert scored.band.refer is (met >= 4)


@pytest.mark.parametrize(
    "answers",
    [[], [0] * 8, [0] * 10, [0] * 8 + [4], [0] * 8 + [-1]],
    ids=["none", "too-few", "too-many", "past-the-scale", "negative"],
)
def test_answers_that_do_not_fit_are_refused(answers: list[int]) -> None:
    with pytest.raises(InvalidAnswers):
        PGSI.score(answers)


@pytest.mark.parametrize(
    ("typed", "picked"),
    [("1", 0), ("4", 3), ("0", None), ("5", None), ("", None), ("a", None), ("٣", None)],
)
def test_a_typed_answer_is_a_number_on_the_scale(typed: str, picked: int | None) -> None:
    assert PGSI.choice(typed) == picked


def test_versions_name_the_edition_and_nser_revision() -> None:
    assert {code: each.version for code, each in INSTRUMENTS.items()} == {
        InstrumentCode.LIE_BET: "1997.1",
        InstrumentCode.PGSI: "2001.1",
        InstrumentCode.DSM5: "2013.1",
    }


def test_bands_must_cover_the_whole_score_range_once() -> None:
    scale = (Option("No", 0), Option("Yes", 1))
    with pytest.raises(ValueError, match="cover"):
        Instrument(
            InstrumentCode.LIE_BET,
            "x",
            1,
            ("a", "b"),
            scale,
            (Band(BandCode.NEGATIVE, 0, 0, "n"), Band(BandCode.POSITIVE, 2, 2, "p")),
        )
    with pytest.raises(ValueError, match="end at 2"):
        Instrument(
            InstrumentCode.LIE_BET,
            "x",
            1,
            ("a", "b"),
            scale,
            (Band(BandCode.NEGATIVE, 0, 0, "n"), Band(BandCode.POSITIVE, 1, 1, "p")),
        )
    with pytest.raises(KeyError):
        PGSI.band("severe")
