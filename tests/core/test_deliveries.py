"""The retry schedule and the reading of ``Retry-After`` (pure functions, exact numbers)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from core.deliveries import WINDOW, Result, next_attempt
from core.webhooks import retry_after

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def schedule(result: Result) -> list[timedelta]:
    """Every attempt's time after the event when each one fails with ``result``."""
    at, attempts, times = T0, 0, [timedelta(0)]
    while True:
        attempts += 1
        following = next_attempt(result=result, attempts=attempts, created_at=T0, now=at)
        if following is None:
            return times
        at = following
        times.append(at - T0)


def test_backoff_goes_from_seconds_to_hours_and_ends_exactly_at_72_hours() -> None:
    times = schedule(Result(500, "HTTP 500"))
    seconds = [int(t.total_seconds()) for t in times]
    assert seconds[:10] == [0, 5, 35, 155, 755, 2555, 6155, 13355, 27755, 56555]
    assert all(b - a == 28800 for a, b in itertools.pairwise(seconds[9:-1]))
    assert times[-1] == WINDOW == timedelta(hours=72)
    assert len(times) == 18  # 10 above, 7 more every 8 h, the last at 72 h


def test_a_timeout_backs_off_the_same_way() -> None:
    assert schedule(Result(None, "ConnectTimeout")) == schedule(Result(503, "HTTP 503"))


def test_gone_never_retries() -> None:
    assert next_attempt(result=Result(410), attempts=1, created_at=T0, now=T0) is None


@pytest.mark.parametrize(
    ("wait", "expected"),
    [
        (timedelta(seconds=120), timedelta(seconds=120)),
        (timedelta(0), timedelta(0)),
        (timedelta(days=3), timedelta(hours=24)),  # capped
    ],
)
def test_retry_after_replaces_the_backoff(wait: timedelta, expected: timedelta) -> None:
    result = Result(429, "HTTP 429", retry_after=wait)
    assert next_attempt(result=result, attempts=1, created_at=T0, now=T0) == T0 + expected


def test_nothing_retries_past_the_window() -> None:
    late = T0 + WINDOW
    result = Result(429, "HTTP 429", retry_after=timedelta(seconds=1))
    assert next_attempt(result=result, attempts=30, created_at=T0, now=late) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 7 ", timedelta(seconds=7)),
        ("Sat, 21 Nov 2026 09:02:00 GMT", timedelta(minutes=2)),
        ("Sat, 21 Nov 2026 08:00:00 GMT", timedelta(0)),  # in the past: at once
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_header(header: str | None, expected: timedelta | None) -> None:
    assert retry_after(header, now=T0) == expected
