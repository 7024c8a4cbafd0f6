"""The subject a citizen's request acts on: created on first contact, locked, language kept current.

Every citizen action that changes the register (a self-exclusion, a stored
screening result, a reminder choice) starts here, in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, preferences, subjects
from core import exclusion_store as store
from core.crypto import KeyRing
from core.exclusion_store import LockedSubject, SubjectRow
from core.i18n import LANGUAGES
from core.identity import normalise_msisdn
from core.models import Channel


async def enrol(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    msisdn: str,
    language: str,
    actor: str,
    now: datetime,
    channel: Channel | None = None,
    request_key: str | None = None,
) -> LockedSubject:
    """The subject ``msisdn`` is linked to, created if new, locked until the transaction ends.

    A new subject gets ``msisdn`` as its contact number and first link
    (claimed, from ``channel``), and is audited (``subject.created``); an
    existing one whose preferred language differs from ``language`` gets it
    (audited as ``subject.language_changed``). Concurrent requests for one
    person queue on the lock (see :func:`core.exclusion_store.lock_subject`).

    The answer says whether the subject is new; for a new one, whether an
    exclusion event already carries ``request_key`` (read by the statement that
    made it, so :func:`core.exclusions.self_exclude` asks no more: a subject
    made just now has no exclusion yet).

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
        ValueError: unknown ``language``.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    e164 = normalise_msisdn(msisdn)
    bidx = keyring.blind_index(e164, field=subjects.MSISDN_FIELD)
    locked = await store.lock_subject(
        session,
        keyring=keyring,
        e164=e164,
        bidx=bidx,
        language=language,
        now=now,
        channel=channel,
        request_key=request_key,
    )
    subject = locked.subject
    if locked.created:
        await audit.append(
            session,
            actor=actor,
            action="subject.created",
            entity=f"subject:{subject.id}",
            subject=subject.bst,
            after={"bst": subject.bst, "language": language},
            occurred_at=now,
        )
    elif subject.language != language:
        await store.set_language(session, subject_id=subject.id, language=language, now=now)
        await preferences.audit_language(
            session, subject=subject, language=language, actor=actor, now=now
        )
        locked = LockedSubject(SubjectRow(subject.id, subject.bst, language), created=False)
    return locked
