"""Writing identifier links and flagging conflicting ID claims (no events here).

Events for links are :mod:`core.identifiers`'s.

Kept apart from :mod:`core.identifiers` so :mod:`core.exclusions` can link an
ID inside a self-exclusion before the exclusion's own event fans out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.crypto import KeyRing
from core.exclusion_store import LINK, SubjectRow
from core.models import Channel, IdentifierConflict, IdentifierFamily, IdentifierStatus
from core.subjects import Identifier

CONFLICT = IdentifierConflict.__table__  # type: ignore[attr-defined]


async def add(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    subject: SubjectRow,
    identifier: Identifier,
    channel: Channel | None,
    actor: str,
    now: datetime,
    status: IdentifierStatus = IdentifierStatus.CLAIMED,
) -> bool:
    """Link ``identifier`` to ``subject`` (locked by the caller); ``True`` if the link is new.

    Audited ``identifier.added`` (kind and status, never the value). An ID
    already linked to other subjects stays linked to them too, and a conflict is
    queued per other subject (:func:`flag_conflicts`). Linking ``verified`` an
    identifier already claimed upgrades it (audited ``identifier.verified``). An
    MSISDN must be free (see :func:`core.identifiers.join_by_reference`).
    """
    conn = await session.connection()
    statement = (
        pg_insert(LINK)
        .values(
            subject_id=subject.id,
            kind=identifier.kind.value,
            family=identifier.family.value,
            sealed=keyring.seal(identifier.value, field=identifier.field),
            bidx=identifier.bidx,
            status=status.value,
            channel=channel.value if channel is not None else None,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["family", "bidx", "subject_id"])
        .returning(LINK.c.id)
    )
    if (await conn.execute(statement)).first() is None:
        if status is IdentifierStatus.VERIFIED:
            upgraded = (
                await conn.execute(
                    update(LINK)
                    .where(
                        LINK.c.family == identifier.family.value,
                        LINK.c.bidx == identifier.bidx,
                        LINK.c.subject_id == subject.id,
                        LINK.c.status != status.value,
                    )
                    .values(status=status.value)
                    .returning(LINK.c.id)
                )
            ).first()
            if upgraded is not None:
                await audit.append(
                    session,
                    actor=actor,
                    action="identifier.verified",
                    entity=f"subject:{subject.id}",
                    subject=subject.bst,
                    before={"kind": identifier.kind.value, "status": IdentifierStatus.CLAIMED},
                    after={"kind": identifier.kind.value, "status": status.value},
                    occurred_at=now,
                )
        return False
    await audit.append(
        session,
        actor=actor,
        action="identifier.added",
        entity=f"subject:{subject.id}",
        subject=subject.bst,
        after={
            "kind": identifier.kind.value,
            "status": status.value,
            "channel": channel.value if channel else None,
        },
        occurred_at=now,
    )
    if identifier.family is not IdentifierFamily.MSISDN:
        await flag_conflicts(session, subject=subject, identifier=identifier, actor=actor, now=now)
    return True


async def flag_conflicts(
    session: AsyncSession, *, subject: SubjectRow, identifier: Identifier, actor: str, now: datetime
) -> int:
    """Queue a conflict for every other subject holding ``identifier``; returns how many.

    Audited ``identifier.conflict`` each (the other subject by id, no value).
    """
    conn = await session.connection()
    others = (
        (
            await conn.execute(
                select(LINK.c.subject_id).where(
                    LINK.c.family == identifier.family.value,
                    LINK.c.bidx == identifier.bidx,
                    LINK.c.subject_id != subject.id,
                )
            )
        )
        .scalars()
        .all()
    )
    for other in others:
        conflict_id = (
            await conn.execute(
                insert(CONFLICT)
                .values(
                    family=identifier.family.value,
                    bidx=identifier.bidx,
                    subject_id=subject.id,
                    other_subject_id=other,
                    created_at=now,
                )
                .returning(CONFLICT.c.id)
            )
        ).scalar_one()
        await audit.append(
            session,
            actor=actor,
            action="identifier.conflict",
            entity=f"identifier_conflict:{conflict_id}",
            subject=subject.bst,
            after={"family": identifier.family.value, "other": f"subject:{other}"},
            occurred_at=now,
        )
    return len(others)
