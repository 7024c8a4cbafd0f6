"""Screening by SMS: the screening in progress per number; the inbound outcome 'screening'

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 23:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OUTCOMES = "'asked', 'confirmed', 'declined', 'status', 'help', 'language', 'stopped', 'refused', 'unknown', 'ignored'"
_WITH_SCREENING = "'asked', 'confirmed', 'declined', 'status', 'help', 'language', 'stopped', 'screening', 'refused', 'unknown', 'ignored'"


def upgrade() -> None:
    op.create_table('sms_screening',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('msisdn_bidx', sa.String(length=64), nullable=False),
    sa.Column('instrument', sa.String(length=12), nullable=False),
    sa.Column('answers_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('invalid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("instrument IN ('liebet', 'pgsi', 'dsm5')", name='sms_screening_instrument'),
    sa.CheckConstraint("language IN ('sw', 'en')", name='sms_screening_language'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('msisdn_bidx')
    )
    op.drop_constraint('sms_inbound_outcome', 'sms_inbound', type_='check')
    op.create_check_constraint('sms_inbound_outcome', 'sms_inbound', f"outcome IN ({_WITH_SCREENING})")


def downgrade() -> None:
    op.execute("UPDATE sms_inbound SET outcome = 'unknown' WHERE outcome = 'screening'")
    op.drop_constraint('sms_inbound_outcome', 'sms_inbound', type_='check')
    op.create_check_constraint('sms_inbound_outcome', 'sms_inbound', f"outcome IN ({_OUTCOMES})")
    op.drop_table('sms_screening')
