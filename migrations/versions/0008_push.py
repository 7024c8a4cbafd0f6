"""Webhook push: when a delivery was last attempted and closed; failed deliveries by operator

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 20:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('webhook_delivery', sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('webhook_delivery', sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('webhook_delivery_failed', 'webhook_delivery', ['operator_id'], unique=False, postgresql_where=sa.text("status = 'failed'"))


def downgrade() -> None:
    op.drop_index('webhook_delivery_failed', table_name='webhook_delivery', postgresql_where=sa.text("status = 'failed'"))
    op.drop_column('webhook_delivery', 'closed_at')
    op.drop_column('webhook_delivery', 'last_attempt_at')
