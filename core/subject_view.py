"""Finding a subject for staff and showing everything the register holds about them.

Staff search by MSISDN (any spelling), exclusion reference (``K7M3-Q9PA``) or
BST (``BST-…``). Every search is audited, found or not (``subject.viewed`` /
``subject.not_found``), because looking a person up is itself an act on their
data; the typed text is never recorded, only which kind of key was used.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, audit_log, codes, lifts, subjects
from core.audit_log import AuditLine
from core.crypto import KeyRing
from core.errors import InvalidInput, NotFound
from core.exclusion_store import holder_of
from core.identity import normalise_msisdn
from core.models import Exclusion, ExclusionEvent, Role, Subject
from core.permissions import Principal, requires


class KeyKind(enum.StrEnum):
    """Which kind of key a search used."""

    MSISDN = "msisdn"
    REFERENCE = "reference"
    BST = "bst"


_REFERENCE = re.compile(r"[0-9A-Z]{4}-?[0-9A-Z]{4}")


def classify(query: str) -> tuple[KeyKind, str]:
    """What ``query`` is and its normal form: ``("reference", "K7M3-Q9PA")`` and so on.

    Raises:
        InvalidInput: a reference or BST whose check character is wrong.
        InvalidMsisdn: anything else that is not a valid Kenyan mobile number.
    """
    text = query.strip().upper().replace(" ", "")
    if text.startswith("BST-") or text.startswith("BST"):
        body = text.removeprefix("BST").removeprefix("-")
        if len(body) != 8 or not codes.is_valid(body):
            raise InvalidInput("not a valid BST (BST- and 8 characters)")
        return KeyKind.BST, f"BST-{body}"
    if _REFERENCE.fullmatch(text) and not text.replace("-", "").isdigit():
        if not codes.is_valid(text):
            raise InvalidInput("not a valid reference (8 characters, like K7M3-Q9PA)")
        body = text.replace("-", "")
        return KeyKind.REFERENCE, f"{body[:4]}-{body[4:]}"
    return KeyKind.MSISDN, normalise_msisdn(query)


@dataclass(frozen=True)
class ExclusionHistory:
    """One exclusion and its events, oldest event first (UTC times)."""

    reference: str
    period: str
    status: str
    channel: str
    starts_at: datetime
    ends_at: datetime | None
    events: list[tuple[datetime, str, str, datetime | None]]  # when, type, period, ends_at


@dataclass(frozen=True)
class SubjectView:
    """Everything staff may see about one subject.

    ``msisdn`` is masked (``+2547******678``): enough to confirm a person at the
    counter, not enough to copy the number out. ``trail`` is the subject's audit
    trail, newest first (this viewing included).
    """

    bst: str
    msisdn: str
    language: str
    created_at: datetime
    exclusions: list[ExclusionHistory]
    lifts: list[lifts.LiftView]
    trail: list[AuditLine]


def mask(e164: str) -> str:
    """``+254712345678`` → ``+2547******678``: country code, first digit, last three."""
    return e164[:5] + "*" * (len(e164) - 8) + e164[-3:]


async def _find(db: AsyncSession, keyring: KeyRing, kind: KeyKind, key: str) -> Subject | None:
    query = select(Subject)
    if kind is KeyKind.BST:
        query = query.where(col(Subject.bst) == key)
    elif kind is KeyKind.REFERENCE:
        query = query.join(Exclusion, col(Exclusion.subject_id) == col(Subject.id)).where(
            col(Exclusion.reference) == key
        )
    else:
        query = query.where(col(Subject.id) == holder_of(subjects.msisdn_index(keyring, key)))
    return (await db.exec(query)).first()


async def _histories(db: AsyncSession, subject_id: int) -> list[ExclusionHistory]:
    rows = (
        await db.exec(
            select(Exclusion)
            .where(col(Exclusion.subject_id) == subject_id)
            .order_by(col(Exclusion.id).desc())
        )
    ).all()
    histories = []
    for exclusion in rows:
        events = (
            await db.exec(
                select(ExclusionEvent)
                .where(col(ExclusionEvent.exclusion_id) == exclusion.id)
                .order_by(col(ExclusionEvent.id))
            )
        ).all()
        histories.append(
            ExclusionHistory(
                exclusion.reference,
                exclusion.period,
                exclusion.status,
                exclusion.channel,
                exclusion.starts_at,
                exclusion.ends_at,
                [(e.occurred_at, e.type, e.period, e.ends_at) for e in events],
            )
        )
    return histories


@requires(Role.VIEWER, "subject.view")
async def view(
    db: AsyncSession, /, *, principal: Principal, keyring: KeyRing, query: str, now: datetime
) -> SubjectView:
    """Find the subject ``query`` names and return all the register holds on them; commits.

    Audited either way: ``subject.viewed`` (with the subject's BST) or
    ``subject.not_found``; the entry says which kind of key was used, never the key.

    Raises:
        PermissionDenied: the account may not act (audited).
        InvalidMsisdn, InvalidInput: ``query`` is none of the three kinds (nothing audited).
        NotFound: no subject matches (audited, committed).
    """
    kind, key = classify(query)
    subject = await _find(db, keyring, kind, key)
    if subject is None:
        await audit.append(
            db,
            actor=principal.actor,
            action="subject.not_found",
            entity="subject:unknown",
            after={"by": kind.value},
            occurred_at=now,
        )
        await db.commit()
        raise NotFound("no one in the register matches")
    assert subject.id is not None
    await audit.append(
        db,
        actor=principal.actor,
        action="subject.viewed",
        entity=f"subject:{subject.id}",
        subject=subject.bst,
        after={"by": kind.value},
        occurred_at=now,
    )
    await db.commit()
    exclusions = await _histories(db, subject.id)
    return SubjectView(
        bst=subject.bst,
        msisdn=(
            mask(keyring.open(subject.msisdn_sealed, field=subjects.MSISDN_FIELD))
            if subject.msisdn_sealed is not None
            else "-"
        ),
        language=subject.language,
        created_at=subject.created_at,
        exclusions=exclusions,
        lifts=await lifts.views(db, bst=subject.bst),
        trail=await audit_log.lines(db, subject=subject.bst),
    )
