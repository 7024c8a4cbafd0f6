"""Exclusion periods and their end dates in Africa/Nairobi calendar terms.

An exclusion chosen on local date D for N months covers every day up to and
including D + N months (``dateutil.relativedelta``, so 31 Aug + 6 months is
28/29 Feb). ``ends_at`` is the local midnight that starts the day after, stored
in UTC; the citizen is told "until D + N months". It is never shorter than the
period asked for, and at most one day longer.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

NAIROBI = ZoneInfo("Africa/Nairobi")


class Period(enum.StrEnum):
    """A self-exclusion period; the value is what is stored and logged."""

    SIX_MONTHS = "6m"
    ONE_YEAR = "1y"
    FIVE_YEARS = "5y"
    PERMANENT = "permanent"

    @property
    def months(self) -> int | None:
        """Length in calendar months, or ``None`` for permanent."""
        return {"6m": 6, "1y": 12, "5y": 60}.get(self.value)


def last_day(period: Period, *, starts_at: datetime) -> date | None:
    """Last local (Nairobi) date covered by ``period`` starting at aware ``starts_at``."""
    months = period.months
    if months is None:
        return None
    return starts_at.astimezone(NAIROBI).date() + relativedelta(months=months)


def ends_at(period: Period, *, starts_at: datetime) -> datetime | None:
    """UTC instant at which an exclusion of ``period`` from ``starts_at`` ends; ``None`` = never.

    Raises:
        ValueError: ``starts_at`` is naive.
    """
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be timezone-aware")
    final = last_day(period, starts_at=starts_at)
    if final is None:
        return None
    local_end = datetime.combine(final + timedelta(days=1), time(0), tzinfo=NAIROBI)
    return local_end.astimezone(ZoneInfo("UTC"))


def last_local_day(ends: datetime) -> date:
    """The last Nairobi date an exclusion ending at ``ends`` covers (the date shown to citizens)."""
    return (ends.astimezone(NAIROBI) - timedelta(microseconds=1)).date()
