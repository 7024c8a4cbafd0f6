"""ussd_session_event keeps no typed input; exclusion_event.period is checked

The gateway's end-of-session ``input`` is whatever the citizen typed, which can
be a phone or ID number; it is no longer stored (existing values are dropped
with the column). ``exclusion_event.period`` gets the same CHECK as
``exclusion.period`` (both generated from :class:`core.periods.Period`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 19:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("ussd_session_event", "input")
    op.create_check_constraint(
        "exclusion_event_period",
        "exclusion_event",
        "period IN ('6m', '1y', '5y', 'permanent')",
    )


def downgrade() -> None:
    op.drop_constraint("exclusion_event_period", "exclusion_event", type_="check")
    op.add_column(
        "ussd_session_event", sa.Column("input", sa.String(length=1024), nullable=True)
    )
