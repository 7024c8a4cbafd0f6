"""Column helpers shared by the tables."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, DateTime


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC (what every timestamp column stores)."""
    return datetime.now(UTC)


def one_of(column: str, values: type[enum.StrEnum], *, name: str) -> CheckConstraint:
    """A CHECK constraint that ``column`` holds one of the enum's values.

    The constraint is generated from the enum, so Python and the database can
    never disagree on the allowed values (a new value needs a migration that
    replaces the constraint).
    """
    listed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


def timestamp(*, nullable: bool = False, index: bool = False) -> Any:
    """A ``timestamptz`` column (a fresh Column per use, as SQLAlchemy requires)."""
    return Column(DateTime(timezone=True), nullable=nullable, index=index)
