"""Column helpers shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC (what every timestamp column stores)."""
    return datetime.now(UTC)


def timestamp(*, nullable: bool = False, index: bool = False) -> Any:
    """A ``timestamptz`` column (a fresh Column per use, as SQLAlchemy requires)."""
    return Column(DateTime(timezone=True), nullable=nullable, index=index)
