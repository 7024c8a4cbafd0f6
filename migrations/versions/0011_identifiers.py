"""Identifiers as links: subject_identifier (numbers and ID documents), conflicts, detach requests

The subject's MSISDN and national ID move into ``subject_identifier``; the
national ID columns go, the MSISDN columns stay as the subject's nullable
*contact number* (where SMS notices go). Sealed values and blind indexes are
copied byte for byte: the link table seals and indexes each family under the
same field names the subject columns used (``subject.msisdn``,
``subject.national_id``), so no key is needed to migrate.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 23:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENTS_BEFORE = "'exclusion.created', 'exclusion.extended', 'exclusion.expired', 'exclusion.lifted'"
_EVENTS_AFTER = _EVENTS_BEFORE + ", 'exclusion.identifier_added', 'exclusion.identifier_removed'"


def upgrade() -> None:
    op.create_table(
        'subject_identifier',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('subject_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('family', sa.String(length=16), nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=False),
        sa.Column('bidx', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('channel', sa.String(length=12), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('msisdn', 'national_id', 'maisha_namba', 'passport', 'alien_id')", name='subject_identifier_kind'),
        sa.CheckConstraint("family IN ('msisdn', 'kenyan_id', 'passport', 'alien_id')", name='subject_identifier_family'),
        sa.CheckConstraint("status IN ('claimed', 'verified')", name='subject_identifier_status'),
        sa.CheckConstraint("channel IS NULL OR channel IN ('ussd', 'sms', 'backoffice')", name='subject_identifier_channel'),
        sa.ForeignKeyConstraint(['subject_id'], ['subject.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('subject_identifier_link', 'subject_identifier', ['family', 'bidx', 'subject_id'], unique=True)
    op.create_index('subject_identifier_one_msisdn', 'subject_identifier', ['bidx'], unique=True, postgresql_where=sa.text("family = 'msisdn'"))
    op.create_index('subject_identifier_bidx', 'subject_identifier', ['bidx'], unique=False)
    op.create_index(op.f('ix_subject_identifier_subject_id'), 'subject_identifier', ['subject_id'], unique=False)
    op.create_table(
        'identifier_conflict',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('family', sa.String(length=16), nullable=False),
        sa.Column('bidx', sa.String(length=64), nullable=False),
        sa.Column('subject_id', sa.BigInteger(), nullable=False),
        sa.Column('other_subject_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_by', sa.String(length=64), nullable=True),
        sa.Column('resolution', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['subject_id'], ['subject.id']),
        sa.ForeignKeyConstraint(['other_subject_id'], ['subject.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('identifier_conflict_open', 'identifier_conflict', ['created_at'], unique=False, postgresql_where=sa.text('resolved_at IS NULL'))
    op.create_table(
        'detach_request',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('identifier_id', sa.BigInteger(), nullable=False),
        sa.Column('subject_id', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('requested_by', sa.BigInteger(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.BigInteger(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('requested', 'detached', 'rejected')", name='detach_request_status'),
        sa.CheckConstraint('decided_by IS NULL OR decided_by <> requested_by', name='detach_request_maker_checker'),
        sa.ForeignKeyConstraint(['subject_id'], ['subject.id']),
        sa.ForeignKeyConstraint(['requested_by'], ['staff_account.id']),
        sa.ForeignKeyConstraint(['decided_by'], ['staff_account.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('detach_request_one_open', 'detach_request', ['identifier_id'], unique=True, postgresql_where=sa.text("status = 'requested'"))
    op.create_table(
        'link_failure',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('bidx', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempt', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('link_failure_recent', 'link_failure', ['bidx', 'at'], unique=False)
    op.create_index('link_failure_attempt', 'link_failure', ['bidx', 'attempt'], unique=True)
    op.execute(
        "INSERT INTO subject_identifier (subject_id, kind, family, sealed, bidx, status, channel, created_at) "
        "SELECT id, 'msisdn', 'msisdn', msisdn_sealed, msisdn_bidx, 'claimed', NULL, created_at FROM subject"
    )
    op.execute(
        "INSERT INTO subject_identifier (subject_id, kind, family, sealed, bidx, status, channel, created_at) "
        "SELECT id, 'national_id', 'kenyan_id', national_id_sealed, national_id_bidx, 'claimed', NULL, created_at "
        "FROM subject WHERE national_id_bidx IS NOT NULL AND national_id_sealed IS NOT NULL"
    )
    op.add_column('subject', sa.Column('merged_into_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key('subject_merged_into_id_fkey', 'subject', 'subject', ['merged_into_id'], ['id'])
    op.drop_constraint('subject_national_id_bidx_key', 'subject', type_='unique')
    op.drop_column('subject', 'national_id_bidx')
    op.drop_column('subject', 'national_id_sealed')
    op.alter_column('subject', 'msisdn_sealed', existing_type=sa.LargeBinary(), nullable=True)
    op.alter_column('subject', 'msisdn_bidx', existing_type=sa.String(length=64), nullable=True)
    op.drop_constraint('exclusion_event_type', 'exclusion_event', type_='check')
    op.create_check_constraint('exclusion_event_type', 'exclusion_event', f'type IN ({_EVENTS_AFTER})')


def downgrade() -> None:
    op.execute(
        "DELETE FROM exclusion_event WHERE type IN "
        "('exclusion.identifier_added', 'exclusion.identifier_removed')"
    )
    op.drop_constraint('exclusion_event_type', 'exclusion_event', type_='check')
    op.create_check_constraint('exclusion_event_type', 'exclusion_event', f'type IN ({_EVENTS_BEFORE})')
    op.drop_constraint('subject_merged_into_id_fkey', 'subject', type_='foreignkey')
    op.drop_column('subject', 'merged_into_id')
    op.add_column('subject', sa.Column('national_id_sealed', sa.LargeBinary(), nullable=True))
    op.add_column('subject', sa.Column('national_id_bidx', sa.String(length=64), nullable=True))
    op.create_unique_constraint('subject_national_id_bidx_key', 'subject', ['national_id_bidx'])
    # The first Kenyan ID link of each subject whose ID no earlier subject holds
    # goes back to the columns; a subject with no contact number gets its first
    # linked number (a subject with neither cannot be represented before 0011).
    op.execute(
        "UPDATE subject s SET national_id_sealed = i.sealed, national_id_bidx = i.bidx FROM ("
        " SELECT DISTINCT ON (bidx) subject_id, sealed, bidx FROM subject_identifier"
        " WHERE family = 'kenyan_id' AND kind = 'national_id' ORDER BY bidx, id) i"
        " WHERE s.id = i.subject_id AND s.national_id_bidx IS NULL"
    )
    op.execute(
        "UPDATE subject s SET msisdn_sealed = i.sealed, msisdn_bidx = i.bidx FROM ("
        " SELECT DISTINCT ON (subject_id) subject_id, sealed, bidx FROM subject_identifier"
        " WHERE family = 'msisdn' ORDER BY subject_id, id) i"
        " WHERE s.id = i.subject_id AND s.msisdn_bidx IS NULL"
    )
    op.alter_column('subject', 'msisdn_bidx', existing_type=sa.String(length=64), nullable=False)
    op.alter_column('subject', 'msisdn_sealed', existing_type=sa.LargeBinary(), nullable=False)
    op.drop_index('link_failure_attempt', table_name='link_failure')
    op.drop_index('link_failure_recent', table_name='link_failure')
    op.drop_table('link_failure')
    op.drop_index('detach_request_one_open', table_name='detach_request', postgresql_where=sa.text("status = 'requested'"))
    op.drop_table('detach_request')
    op.drop_index('identifier_conflict_open', table_name='identifier_conflict', postgresql_where=sa.text('resolved_at IS NULL'))
    op.drop_table('identifier_conflict')
    op.drop_index(op.f('ix_subject_identifier_subject_id'), table_name='subject_identifier')
    op.drop_index('subject_identifier_bidx', table_name='subject_identifier')
    op.drop_index('subject_identifier_one_msisdn', table_name='subject_identifier', postgresql_where=sa.text("family = 'msisdn'"))
    op.drop_index('subject_identifier_link', table_name='subject_identifier')
    op.drop_table('subject_identifier')
