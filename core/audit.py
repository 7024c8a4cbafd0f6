"""Append-only, hash-chained audit log: writing entries and verifying the chain.

Each entry's ``hash`` is SHA-256 over the canonical JSON (sorted keys, no
spaces, UTF-8) of ``occurred_at`` (UTC ISO 8601, microseconds), ``actor``,
``action``, ``subject``, ``entity``, ``before``, ``after`` and ``prev_hash``, the
previous entry's hash (:data:`GENESIS` for the first). Editing, deleting or
reordering any entry breaks the chain at that entry or the next one.

Entries are linked at commit time under a transaction-scoped advisory lock, so
the chain stays linear under concurrent writers while the lock is held only for
the end of each transaction.
The database also refuses UPDATE and DELETE on the table (a trigger installed by
the initial migration).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import ConfigurationError
from core.models import AuditEntry

GENESIS = "0" * 64
#: The fields an entry's hash covers, besides ``prev_hash``.
CONTENT_FIELDS = ("occurred_at", "actor", "action", "subject", "entity", "before", "after")
#: Key of the PostgreSQL advisory lock that serialises appends ("NSERAUDT").
_LOCK_KEY = int.from_bytes(b"NSERAUDT", "big") & 0x7FFF_FFFF_FFFF_FFFF


def entry_hash(
    *,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    entity: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    prev_hash: str,
) -> str:
    """SHA-256 hex of the canonical JSON of one entry's content (see module docstring)."""
    content = {
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "entity": entity,
        "before": before,
        "after": after,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


_PENDING = "nser.audit.pending"


async def append(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    entity: str,
    subject: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> None:
    """Record one entry in the caller's transaction; it joins the chain when that commits.

    ``actor`` names who acted (``citizen:ussd``, ``system:expiry``, ``staff:<id>``),
    ``action`` what happened (``exclusion.created``), ``entity`` what it happened
    to (``exclusion:42``), ``subject`` the BST concerned. ``before``/``after`` must
    be JSON-safe and hold no personal data.

    Entries wait in the session until :func:`chain_pending` runs just before
    the commit (sessions from :func:`core.db.session_factory` do that), so the
    chain's lock is held only for the last statements of the transaction; a
    rollback discards them with everything else.

    Raises:
        ConfigurationError: ``session`` would not chain its entries at commit (it
            was not made by :func:`core.db.session_factory`); nothing is recorded.
    """
    if not event.contains(type(session.sync_session), "before_commit", chain_pending):
        # Without the hook the entries would wait forever and vanish at commit.
        raise ConfigurationError(
            "audit entries need a session from core.db.session_factory (it chains them at commit)"
        )
    # Begin the transaction now, so that ending it without a commit fires the hook
    # that discards these entries (a rollback with no transaction fires nothing).
    await session.connection()
    pending: list[dict[str, Any]] = session.sync_session.info.setdefault(_PENDING, [])
    pending.append(
        {
            "occurred_at": (occurred_at or datetime.now(UTC)).astimezone(UTC),
            "actor": actor,
            "action": action,
            "subject": subject,
            "entity": entity,
            "before": before,
            "after": after,
        }
    )


_TABLE = AuditEntry.__table__  # type: ignore[attr-defined]
_LOCK = select(func.pg_advisory_xact_lock(_LOCK_KEY))
_HEAD = select(_TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1)
_INSERT = _TABLE.insert()


def chain_pending(session: Session) -> None:
    """``before_commit`` hook: link the session's pending entries to the chain and insert them.

    Three statements, built once: take the chain lock, read the head (a new
    statement, so it sees every chain that committed while we waited), insert.
    """
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    conn = session.connection()
    conn.execute(_LOCK)
    prev_hash = conn.execute(_HEAD).scalar() or GENESIS
    rows = []
    for fields in pending:
        digest = entry_hash(**fields, prev_hash=prev_hash)
        rows.append({**fields, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    conn.execute(_INSERT, rows)


def drop_pending(session: Session, transaction: SessionTransaction) -> None:
    """``after_transaction_end`` hook: a transaction that ended without commit keeps nothing."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class ChainReport:
    """Outcome of :func:`verify`: how many entries were checked and the first broken one."""

    checked: int
    broken_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when every entry links to its predecessor and matches its hash."""
        return self.broken_id is None


Progress = Callable[[int, int], None]


async def verify(
    session: AsyncSession, *, batch: int = 1000, progress: Progress | None = None
) -> ChainReport:
    """Walk the whole chain in id order and name the first entry that does not verify.

    ``progress(checked, total)`` is called after each batch of ``batch`` entries
    (``total`` counted at the start), e.g. for a progress bar.
    """
    expected_prev = GENESIS
    checked = 0
    after_id = 0
    total = 0
    if progress is not None:
        total = (await session.exec(select(func.count()).select_from(AuditEntry))).one()
        progress(0, total)
    while True:
        rows = (
            await session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.id) > after_id)
                .order_by(col(AuditEntry.id))
                .limit(batch)
            )
        ).all()
        if not rows:
            return ChainReport(checked=checked)
        for entry in rows:
            assert entry.id is not None
            if entry.prev_hash != expected_prev:
                return ChainReport(checked, entry.id, "does not link to the entry before it")
            content = {name: getattr(entry, name) for name in CONTENT_FIELDS}
            recomputed = entry_hash(**content, prev_hash=entry.prev_hash)
            if recomputed != entry.hash:
                return ChainReport(checked, entry.id, "content does not match its hash")
            expected_prev = entry.hash
            checked += 1
            after_id = entry.id
        session.expunge_all()
        if progress is not None:
            progress(checked, max(total, checked))
