"""audit log: Merkle transparency log replaces the hash chain; append-only tables

``audit_entry`` loses ``prev_hash``/``hash``; a statement trigger queues every
new entry in ``audit_unsequenced`` (inside the writer's transaction), from
which the sequencer fills ``audit_leaf`` and ``audit_hash`` and signs
``audit_checkpoint`` rows. Existing entries are queued here, so the sequencer
takes them into the log in id order.

``audit_entry``, ``audit_leaf``, ``audit_hash`` and ``audit_checkpoint`` refuse
UPDATE and DELETE (row triggers) and TRUNCATE (statement triggers); the
service role is granted only INSERT and SELECT on them (``core.privileges``).

Downgrade rebuilds the old chain from the entries in id order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("audit_entry", "audit_leaf", "audit_hash", "audit_checkpoint")

_REFUSE = """
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END
$$
"""
_ENQUEUE = """
CREATE FUNCTION audit_entry_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_unsequenced (entry_id) SELECT id FROM added;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "audit_unsequenced",
        sa.Column("entry_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_table(
        "audit_leaf",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["audit_entry.id"]),
        sa.PrimaryKeyConstraint("leaf_index"),
        sa.UniqueConstraint("entry_id"),
    )
    op.create_table(
        "audit_hash",
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("position"),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_audit_checkpoint_tree_size"), "audit_checkpoint", ["tree_size"], unique=False
    )
    op.execute("DROP TRIGGER audit_entry_append_only ON audit_entry")
    op.execute("DROP FUNCTION audit_entry_refuse_change()")
    op.drop_constraint("audit_entry_hash_key", "audit_entry", type_="unique")
    op.drop_column("audit_entry", "hash")
    op.drop_column("audit_entry", "prev_hash")
    # The old chain's entries enter the log in id order (the sequencer takes the queue so).
    op.execute("INSERT INTO audit_unsequenced (entry_id) SELECT id FROM audit_entry")
    op.execute(_REFUSE)
    op.execute(_ENQUEUE)
    op.execute(
        "CREATE TRIGGER audit_entry_enqueue AFTER INSERT ON audit_entry "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_enqueue()"
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )


def _chain_hash(row: sa.Row, prev_hash: str) -> str:  # type: ignore[type-arg]
    """The hash of revision 0001's chain (canonical JSON of the content and ``prev_hash``)."""
    content = {
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "entity": row.entity,
        "before": row.before,
        "after": row.after,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP TRIGGER audit_entry_enqueue ON audit_entry")
    op.execute("DROP FUNCTION audit_entry_enqueue()")
    op.execute("DROP FUNCTION audit_refuse_change()")
    op.drop_index(op.f("ix_audit_checkpoint_tree_size"), table_name="audit_checkpoint")
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_hash")
    op.drop_table("audit_leaf")
    op.drop_table("audit_unsequenced")
    op.add_column("audit_entry", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_entry", sa.Column("hash", sa.String(length=64), nullable=True))
    entry = sa.table(
        "audit_entry",
        *(sa.column(name) for name in ("id", "occurred_at", "actor", "action", "subject")),
        *(sa.column(name) for name in ("entity", "prev_hash", "hash")),
        sa.column("before", sa.JSON()),
        sa.column("after", sa.JSON()),
    )
    bind = op.get_bind()
    prev_hash = "0" * 64
    for row in bind.execute(sa.select(entry).order_by(entry.c.id)).all():
        digest = _chain_hash(row, prev_hash)
        bind.execute(
            entry.update().where(entry.c.id == row.id).values(prev_hash=prev_hash, hash=digest)
        )
        prev_hash = digest
    op.alter_column("audit_entry", "prev_hash", nullable=False)
    op.alter_column("audit_entry", "hash", nullable=False)
    op.create_unique_constraint("audit_entry_hash_key", "audit_entry", ["hash"])
    op.execute(
        "CREATE FUNCTION audit_entry_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_entry is append-only (% refused)', TG_OP; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_change()"
    )
