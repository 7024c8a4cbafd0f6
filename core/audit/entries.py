"""Writing audit entries, and the canonical bytes each one becomes as a leaf of the log.

An entry is written in the business transaction that made the change, by one
plain multi-row ``INSERT`` just before commit: no lock, no read of other
entries. A trigger on the table queues each entry for the sequencer
(:mod:`core.audit.sequencer`), which later gives it its place in the Merkle log.

Leaf content (:func:`canonical`): a JSON object with sorted keys and no
spaces (UTF-8, non-ASCII unescaped): ``action``, ``actor``, ``after``,
``before``, ``entity``, ``id``, ``occurred_at`` (UTC ISO 8601 with
microseconds), ``subject``. ``before`` and ``after`` are embedded exactly as
the database stores them (the ``json`` type keeps its input text), which the
engine writes in the same compact sorted form (:func:`canonical_json`), so
verifying never re-parses them. Its leaf hash is ``SHA-256(0x00 ‖ canonical)``
(RFC 9162).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

from core.audit.merkle import leaf_hash
from core.errors import ConfigurationError
from core.models import AuditEntry

#: The fields a leaf covers (``before``/``after`` as stored JSON text).
CONTENT_FIELDS = ("id", "occurred_at", "actor", "action", "subject", "entity", "before", "after")
_PENDING = "nser.audit.pending"
_TABLE = AuditEntry.__table__  # type: ignore[attr-defined]
_INSERT = _TABLE.insert()
_QUOTE: Any = json.encoder.encode_basestring  # the C speedup json.dumps uses for strings
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
_LEAF = (
    '{{"action":{},"actor":{},"after":{},"before":{},"entity":{},"id":{},'
    '"occurred_at":"{}","subject":{}}}'
)


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys, non-ASCII unescaped: how JSON columns are written."""
    return _CANONICAL(value)


class Row(Protocol):
    """A row read by name: a SQLAlchemy ``RowMapping``, an asyncpg ``Record``, a dict."""

    def __getitem__(self, name: str, /) -> Any: ...


def canonical(entry: Row) -> bytes:
    """The leaf content of an entry: a row with :data:`CONTENT_FIELDS`.

    ``before``/``after`` are the stored JSON texts (``None`` for SQL NULL).
    """
    subject = entry["subject"]
    return _LEAF.format(
        _QUOTE(entry["action"]),
        _QUOTE(entry["actor"]),
        entry["after"] or "null",
        entry["before"] or "null",
        _QUOTE(entry["entity"]),
        int(entry["id"]),
        entry["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "null" if subject is None else _QUOTE(subject),
    ).encode()


def entry_leaf_hash(entry: Row) -> bytes:
    """The RFC 9162 leaf hash of an entry (32 bytes)."""
    return leaf_hash(canonical(entry))


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
    """Record one entry in the caller's transaction; it is inserted when that commits.

    ``actor`` names who acted (``citizen:ussd``, ``system:expiry``, ``staff:<id>``),
    ``action`` what happened (``exclusion.created``), ``entity`` what it happened
    to (``exclusion:42``), ``subject`` the BST concerned. ``before``/``after`` must
    be JSON-safe and hold no personal data.

    Entries wait in the session until :func:`insert_pending` runs just before
    the commit (sessions from :func:`core.db.session_factory` do that), so all
    of a transaction's entries cost one statement; a rollback discards them
    with everything else.

    Raises:
        ConfigurationError: ``session`` would not insert its entries at commit (it
            was not made by :func:`core.db.session_factory`); nothing is recorded.
    """
    if not event.contains(type(session.sync_session), "before_commit", insert_pending):
        # Without the hook the entries would wait forever and vanish at commit.
        raise ConfigurationError(
            "audit entries need a session from core.db.session_factory (it inserts them at commit)"
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


def insert_pending(session: Session) -> None:
    """``before_commit`` hook: insert the session's pending entries, in one statement."""
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.connection().execute(_INSERT, pending)


def drop_pending(session: Session, transaction: SessionTransaction) -> None:
    """``after_transaction_end`` hook: a transaction that ended without commit keeps nothing."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
