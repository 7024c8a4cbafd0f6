"""Reading the audit log for staff: browsing with filters, its signed checkpoints, verifying it.

Thin on purpose: the log's structure and proof live in :mod:`core.audit`;
this module adds the permission check and audits the verification itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.audit.notes import NoteVerifier
from core.audit.verify import Progress, Report
from core.audit.verify import verify as verify_log
from core.models import AuditCheckpoint, AuditEntry, Role
from core.permissions import Principal, requires

PAGE = 100


@dataclass(frozen=True)
class AuditLine:
    """One audit entry as staff read it."""

    id: int
    occurred_at: datetime
    actor: str
    action: str
    entity: str
    subject: str | None
    after: dict[str, Any] | None


def _line(entry: AuditEntry) -> AuditLine:
    assert entry.id is not None
    return AuditLine(
        entry.id,
        entry.occurred_at,
        entry.actor,
        entry.action,
        entry.entity,
        entry.subject,
        entry.after,
    )


async def lines(
    db: AsyncSession,
    *,
    action: str = "",
    actor: str = "",
    subject: str = "",
    before_id: int | None = None,
    limit: int = PAGE,
) -> list[AuditLine]:
    """Entries newest first, at most ``limit``, older than ``before_id`` when given.

    ``action`` and ``actor`` match by prefix (``lift.`` finds every lift step,
    ``staff:`` every staff member); ``subject`` is a whole BST. No permission
    check: callers hold one (:func:`browse`, :func:`core.subject_view.view`).
    """
    query = select(AuditEntry)
    if action.strip():
        query = query.where(col(AuditEntry.action).startswith(action.strip(), autoescape=True))
    if actor.strip():
        query = query.where(col(AuditEntry.actor).startswith(actor.strip(), autoescape=True))
    if subject.strip():
        query = query.where(col(AuditEntry.subject) == subject.strip().upper())
    if before_id is not None:
        query = query.where(col(AuditEntry.id) < before_id)
    entries = (await db.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit))).all()
    return [_line(entry) for entry in entries]


@requires(Role.VIEWER, "audit.browse")
async def browse(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    action: str = "",
    actor: str = "",
    subject: str = "",
    before_id: int | None = None,
    now: datetime | None = None,
) -> list[AuditLine]:
    """:func:`lines` for a staff member (viewer and above)."""
    return await lines(db, action=action, actor=actor, subject=subject, before_id=before_id)


@dataclass(frozen=True)
class CheckpointLine:
    """A signed checkpoint as staff see it: tree ``size`` (entries), when, and the root.

    ``root`` is the root hash in hex (64 characters); operators' witnesses hold
    the same checkpoints (``GET /v1/audit/checkpoint``).
    """

    size: int
    signed_at: datetime
    root: str


@requires(Role.VIEWER, "audit.browse")
async def checkpoints(
    db: AsyncSession, /, *, principal: Principal, limit: int = 20, now: datetime | None = None
) -> list[CheckpointLine]:
    """The ``limit`` newest signed checkpoints, newest first (viewer and above)."""
    found = await db.exec(
        select(AuditCheckpoint).order_by(col(AuditCheckpoint.tree_size).desc()).limit(limit)
    )
    return [CheckpointLine(c.tree_size, c.signed_at, c.root_hash.hex()) for c in found.all()]


@requires(Role.VIEWER, "audit.verify")
async def verify(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    verifier: NoteVerifier,
    progress: Progress | None = None,
    now: datetime,
) -> Report:
    """Verify the whole log (:func:`core.audit.verify.verify`) and record that it was done; commits.

    The log is read in a REPEATABLE READ snapshot of its own, so the sequencer
    running meanwhile cannot make it look inconsistent. Audited
    ``audit.verified`` with the leaves and checkpoints checked and whether all
    was well (not the problem's text, which can name entries).
    """
    engine = db.bind
    assert isinstance(engine, AsyncEngine)
    async with engine.connect() as conn:
        snapshot = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with snapshot.begin():
            report = await verify_log(snapshot, verifier=verifier, progress=progress)
    await audit.append(
        db,
        actor=principal.actor,
        action="audit.verified",
        entity="audit_log",
        after={"leaves": report.leaves, "checkpoints": report.checkpoints, "ok": report.ok},
        occurred_at=now,
    )
    await db.commit()
    return report
