"""screening results and re-screening reminders

``screening_result``: one completed screening (Lie/Bet, PGSI, DSM-5) of a
subject; the answers sealed, what statistics need in the clear, unique per
channel request and step. ``screening_reminder``: a subject's opt-in to a
quarterly reminder to screen again, with when it is next due.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 20:16:35
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHANNELS = "channel IN ('ussd', 'sms', 'backoffice')"
_BANDS = (
    "band IN ('negative', 'positive', 'non_problem', 'low_risk', 'moderate_risk', 'problem', "
    "'not_met', 'mild', 'moderate', 'severe')"
)


def upgrade() -> None:
    op.create_table(
        "screening_reminder",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_CHANNELS, name="screening_reminder_channel"),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_id"),
    )
    op.create_index(
        "screening_reminder_due",
        "screening_reminder",
        ["next_due_at"],
        unique=False,
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "screening_result",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("instrument", sa.String(length=12), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("answers_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("request_key", sa.String(length=160), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_BANDS, name="screening_result_band"),
        sa.CheckConstraint(_CHANNELS, name="screening_result_channel"),
        sa.CheckConstraint(
            "instrument IN ('liebet', 'pgsi', 'dsm5')", name="screening_result_instrument"
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key", "seq", name="screening_result_request"),
    )
    op.create_index(
        "screening_result_subject_taken",
        "screening_result",
        ["subject_id", "taken_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("screening_result_subject_taken", table_name="screening_result")
    op.drop_table("screening_result")
    op.drop_index(
        "screening_reminder_due",
        table_name="screening_reminder",
        postgresql_where=sa.text("active"),
    )
    op.drop_table("screening_reminder")
