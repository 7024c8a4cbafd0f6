"""References and BSTs with check characters; period end dates in Nairobi terms."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from core.codes import ALPHABET, check_character, is_valid, new_bst, new_reference
from core.periods import NAIROBI, Period, ends_at, last_local_day


def test_reference_and_bst_shapes() -> None:
    for _ in range(200):
        reference = new_reference()
        assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}", reference)
        assert is_valid(reference)
        bst = new_bst()
        assert re.fullmatch(r"BST-[2-9A-HJKMNP-TV-Z]{8}", bst)
        assert is_valid(bst.removeprefix("BST-"))


def test_every_position_of_a_code_takes_every_character_about_evenly() -> None:
    # 30 characters x 7 positions, 6,000 draws: about 200 of each at each position.
    counts = [dict.fromkeys(ALPHABET, 0) for _ in range(7)]
    for _ in range(6_000):
        for position, ch in enumerate(new_bst()[4:11]):
            counts[position][ch] += 1
    for seen in counts:
        assert min(seen.values()) > 120
        assert max(seen.values()) < 290


def test_check_character_catches_every_single_substitution_and_adjacent_swap() -> None:
    body = "K7M3Q9P"
    code = body + check_character(body)
    for i, original in enumerate(code):
        for replacement in ALPHABET:
            if replacement != original:
                assert not is_valid(code[:i] + replacement + code[i + 1 :])
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            assert not is_valid(swapped)


def test_lowercase_and_dashes_are_forgiven_but_look_alikes_are_not() -> None:
    reference = new_reference()
    assert is_valid(reference.lower())
    assert not is_valid(reference.replace(reference[0], "O"))


@pytest.mark.parametrize(
    ("start", "period", "last_day"),
    [
        (datetime(2026, 11, 21, 9, 0, tzinfo=UTC), Period.SIX_MONTHS, date(2027, 5, 21)),
        (datetime(2026, 11, 21, 9, 0, tzinfo=UTC), Period.ONE_YEAR, date(2027, 11, 21)),
        (datetime(2026, 11, 21, 9, 0, tzinfo=UTC), Period.FIVE_YEARS, date(2031, 11, 21)),
        # 31 August + 6 months is the end of February.
        (datetime(2026, 8, 31, 6, 0, tzinfo=UTC), Period.SIX_MONTHS, date(2027, 2, 28)),
        # 22:30 UTC on 31 Dec is already 1 Jan in Nairobi.
        (datetime(2026, 12, 31, 22, 30, tzinfo=UTC), Period.ONE_YEAR, date(2028, 1, 1)),
        # 29 February + 1 year is 28 February.
        (datetime(2028, 2, 29, 6, 0, tzinfo=UTC), Period.ONE_YEAR, date(2029, 2, 28)),
    ],
)
def test_exclusion_covers_the_whole_last_local_day(
    start: datetime, period: Period, last_day: date
) -> None:
    end = ends_at(period, starts_at=start)
    assert end is not None
    assert end.tzinfo is not None
    local = end.astimezone(NAIROBI)
    assert (local.hour, local.minute) == (0, 0)
    assert local.date() == date.fromordinal(last_day.toordinal() + 1)
    assert last_local_day(end) == last_day


def test_permanent_never_ends_and_naive_times_are_refused() -> None:
    assert ends_at(Period.PERMANENT, starts_at=datetime(2026, 1, 1, tzinfo=UTC)) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        ends_at(Period.ONE_YEAR, starts_at=datetime(2026, 1, 1))
