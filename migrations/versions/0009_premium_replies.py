"""Premium replies: the linkId and shortcode of the MO a reply answers

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 23:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('sms_message', sa.Column('link_id', sa.String(length=128), nullable=True))
    op.add_column('sms_message', sa.Column('short_code', sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column('sms_message', 'short_code')
    op.drop_column('sms_message', 'link_id')
