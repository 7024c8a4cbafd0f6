"""The kind of identifier on each detach request, so a decided request still shows it

An approved detach deletes its link row, which is where the kind was read from.
Existing requests keep ``NULL`` (shown as "unknown"): the links of those already
approved are gone, and the open ones show their link's kind anyway.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 01:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = "'msisdn', 'national_id', 'maisha_namba', 'passport', 'alien_id'"


def upgrade() -> None:
    op.add_column('detach_request', sa.Column('kind', sa.String(length=16), nullable=True))
    op.create_check_constraint('detach_request_kind', 'detach_request', f'kind IS NULL OR kind IN ({_KINDS})')


def downgrade() -> None:
    op.drop_constraint('detach_request_kind', 'detach_request', type_='check')
    op.drop_column('detach_request', 'kind')
