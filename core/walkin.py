"""Walk-in registration: an officer registers an exclusion for a person at an NSER desk.

The person must prove they hold the phone, so no officer can exclude someone
who is not there: :func:`start` texts a 6-digit one-time code to the number
(through the SMS outbox, :func:`core.messages.write`), the person reads it out,
and :func:`register` creates the exclusion only when the code matches, through
the same rule as USSD and SMS (:func:`core.exclusions.self_exclude`, channel
``backoffice``, idempotent per challenge) — so the confirmation SMS and the
operators' webhooks follow as for any exclusion.

The code is not stored: it is an HMAC (the keyring's index key) of the
challenge (a random id, the number, the officer, the time issued and the
language), so a :class:`Challenge` altered in memory yields another code. The
challenge, with the number, lives only in the officer's back-office process. A
code is good for :data:`CODE_TTL`, for the officer it was issued to, and for
:data:`MAX_TRIES` wrong attempts, which core counts from the audit log
(``walkin.code_refused``, committed at once, so a retry cannot erase it).

The officer may also record the ID document they saw (``document`` in
:func:`register`): it is checked before anything else, and linked to the
person as *verified* (:func:`core.identifiers.record_verified`; a claim the
person made becomes verified) in the same transaction as the exclusion. A
person excluded already (ending no earlier) gets no new exclusion, but the
officer still saw the document: it is linked as verified all the same and the
visit is audited (``walkin.already_excluded``); :func:`register` then returns
:class:`Unchanged` rather than raising, so the caller's commit keeps the link.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, exclusions, identifiers, messages, subjects
from core.crypto import KeyRing
from core.errors import AlreadyExcluded, CodeRefused
from core.exclusions import Outcome
from core.i18n import Language
from core.identity import normalise_msisdn
from core.models import AuditEntry, Channel, IdentifierKind, MessageKind, Role
from core.periods import Period
from core.permissions import Principal, requires

CODE_FIELD = "walkin.code"
CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5


@dataclass(frozen=True)
class Challenge:
    """A code sent: ``id`` (random, names it in the audit log), the E.164 ``msisdn``, the
    ``language`` of the SMS and of a new subject, the officer's ``staff_id`` and ``issued_at``
    (UTC). Held by the back-office only; never stored, logged or audited with the number."""

    id: str
    msisdn: str
    language: str
    staff_id: int
    issued_at: datetime

    @property
    def entity(self) -> str:
        """How audit entries name this challenge: ``walkin:<id>``."""
        return f"walkin:{self.id}"

    @property
    def expires_at(self) -> datetime:
        """When its code stops being accepted."""
        return self.issued_at + CODE_TTL


@dataclass(frozen=True)
class Unchanged:
    """A walk-in for someone already excluded no shorter: nothing new was made.

    ``reference`` and ``ends_at`` (UTC, ``None`` = permanent) are the exclusion in
    force; ``verified`` tells whether the ID document seen was linked as verified.
    """

    reference: str
    ends_at: datetime | None
    verified: bool


def code_for(keyring: KeyRing, challenge: Challenge) -> str:
    """The challenge's 6-digit code (HMAC-SHA256 under the index key, reduced mod 10**6)."""
    material = "|".join(
        (
            challenge.id,
            challenge.msisdn,
            str(challenge.staff_id),
            challenge.issued_at.isoformat(),
            challenge.language,
        )
    )
    return f"{int(keyring.blind_index(material, field=CODE_FIELD), 16) % 10**6:06d}"


@requires(Role.OFFICER, "walkin.start")
async def start(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    keyring: KeyRing,
    msisdn: str,
    language: str,
    now: datetime,
) -> Challenge:
    """Text a one-time code to ``msisdn`` (sent after the caller's commit) and return the
    challenge to check it against. Audited as ``walkin.code_sent`` (no number).

    Raises:
        PermissionDenied: below officer (audited; nothing sent).
        InvalidMsisdn: not a Kenyan mobile number.
        ValueError: ``language`` is not ``sw`` or ``en``.
    """
    challenge = Challenge(
        id=secrets.token_urlsafe(12),
        msisdn=normalise_msisdn(msisdn),
        language=Language(language).value,
        staff_id=principal.staff_id,
        issued_at=now,
    )
    # REPLY: the answer to the person's own request, made at the desk; never turned off.
    await messages.write(
        db,
        keyring=keyring,
        e164=challenge.msisdn,
        kind=MessageKind.REPLY,
        dedupe_key=challenge.entity,
        language=challenge.language,
        now=now,
        template="walkin_code",
        params={
            "code": code_for(keyring, challenge),
            "minutes": int(CODE_TTL.total_seconds() // 60),
        },
    )
    await audit.append(
        db,
        actor=principal.actor,
        action="walkin.code_sent",
        entity=challenge.entity,
        after={"language": challenge.language},
        occurred_at=now,
    )
    return challenge


async def _refuse(
    db: AsyncSession, principal: Principal, challenge: Challenge, kind: str, now: datetime
) -> CodeRefused:
    """Audit a refused code on its own (committed now) and return the error to raise."""
    await db.rollback()
    await audit.append(
        db,
        actor=principal.actor,
        action="walkin.code_refused",
        entity=challenge.entity,
        after={"reason": kind},
        occurred_at=now,
    )
    await db.commit()
    return CodeRefused(kind)


@requires(Role.OFFICER, "walkin.register")
async def register(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    keyring: KeyRing,
    challenge: Challenge,
    code: str,
    period: Period,
    now: datetime,
    document: tuple[IdentifierKind, str] | None = None,
) -> Outcome | Unchanged:
    """Exclude the holder of the challenge's number for ``period`` once ``code`` matches.

    The exclusion is made (or lengthened) by :func:`core.exclusions.self_exclude`
    with channel ``backoffice``, request key ``backoffice:walkin:<id>`` (saving the
    same challenge twice returns the first outcome, ``replayed``) and the officer
    as actor; the caller commits, which sends the confirmation SMS. ``document``,
    the ID the officer saw (kind, number as typed), is then linked to the person
    as *verified* (:func:`core.identifiers.record_verified`; another person holding
    it is a conflict for the identity queue, nobody's exclusion is weakened).

    When an exclusion in force ends no earlier, nothing new is made and
    :class:`Unchanged` is returned; ``document`` is still linked as verified
    (the officer saw it), and ``walkin.already_excluded`` is audited (the kind
    of document, never its number). The caller commits either way.

    Raises:
        PermissionDenied: below officer (audited).
        InvalidNationalId: ``document``'s number breaks its kind's rules (checked
            first: nothing is done, no code try is counted).
        ValueError: ``document``'s kind is a phone number, not a document.
        CodeRefused: wrong, expired, too many tries, or another officer's challenge;
            the refusal is audited and committed, nothing else is changed.
    """
    if document is not None:
        if IdentifierKind(document[0]) is IdentifierKind.MSISDN:
            raise ValueError("a walk-in document is an ID, not a phone number")
        subjects.identifier(keyring, *document)  # InvalidNationalId before anything happens
    refused_before = (
        await db.exec(
            select(func.count()).where(
                col(AuditEntry.entity) == challenge.entity,
                col(AuditEntry.action) == "walkin.code_refused",
            )
        )
    ).one()
    kind = None
    if challenge.staff_id != principal.staff_id:
        kind = "other"
    elif now >= challenge.expires_at:
        kind = "expired"
    elif refused_before >= MAX_TRIES:
        kind = "tries"
    elif not hmac.compare_digest(code.strip(), code_for(keyring, challenge)):
        kind = "wrong"
    if kind is not None:
        raise await _refuse(db, principal, challenge, kind, now)
    try:
        outcome = await exclusions.self_exclude(
            db,
            keyring=keyring,
            msisdn=challenge.msisdn,
            period=period,
            channel=Channel.BACKOFFICE,
            request_key=f"backoffice:walkin:{challenge.id}",
            language=challenge.language,
            actor=principal.actor,
            now=now,
        )
    except AlreadyExcluded as already:
        return await _already(db, principal, keyring, challenge, already, document, now)
    if document is not None:
        await identifiers.record_verified(
            db,
            principal=principal,
            keyring=keyring,
            bst=outcome.subject.bst,
            kind=document[0],
            value=document[1],
            now=now,
        )
    return outcome


async def _already(
    db: AsyncSession,
    principal: Principal,
    keyring: KeyRing,
    challenge: Challenge,
    already: AlreadyExcluded,
    document: tuple[IdentifierKind, str] | None,
    now: datetime,
) -> Unchanged:
    """Excluded already: link the document seen as verified anyway, and audit the visit."""
    subject = await exclusions.lock_holder(db, keyring=keyring, msisdn=challenge.msisdn)
    if document is not None:
        await identifiers.record_verified(
            db,
            principal=principal,
            keyring=keyring,
            bst=subject.bst,
            kind=document[0],
            value=document[1],
            now=now,
        )
    await audit.append(
        db,
        actor=principal.actor,
        action="walkin.already_excluded",
        entity=challenge.entity,
        subject=subject.bst,
        after={
            "reference": already.reference,
            "document": IdentifierKind(document[0]).value if document else None,
        },
        occurred_at=now,
    )
    return Unchanged(
        reference=already.reference, ends_at=already.ends_at, verified=document is not None
    )
