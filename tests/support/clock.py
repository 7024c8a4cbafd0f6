"""A settable clock for the services under test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

#: Where every test's clock starts: 12:00 in Nairobi on 21 November 2026.
START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A settable clock for services: starts at :data:`START` (UTC)."""

    now: datetime = field(default=START)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)
