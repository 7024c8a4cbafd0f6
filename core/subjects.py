"""Finding and registering subjects by their identifiers (never stored in clear)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.codes import new_bst
from core.crypto import KeyRing
from core.i18n import LANGUAGES
from core.identity import normalise_msisdn
from core.models import Subject

MSISDN_FIELD = "subject.msisdn"
NATIONAL_ID_FIELD = "subject.national_id"


def msisdn_index(keyring: KeyRing, msisdn: str) -> str:
    """Blind index of an MSISDN in any accepted spelling.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
    """
    return keyring.blind_index(normalise_msisdn(msisdn), field=MSISDN_FIELD)


async def find_by_msisdn(session: AsyncSession, *, keyring: KeyRing, msisdn: str) -> Subject | None:
    """The subject holding ``msisdn``, or ``None``.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
    """
    bidx = msisdn_index(keyring, msisdn)
    return (await session.exec(select(Subject).where(Subject.msisdn_bidx == bidx))).first()


async def register(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    msisdn: str,
    language: str,
    actor: str,
    now: datetime,
    lock: bool = False,
) -> Subject:
    """Return the subject for ``msisdn``, creating it (audited ``subject.created``) if new.

    Safe under concurrent callers (``INSERT … ON CONFLICT DO NOTHING`` on the
    blind index). With ``lock=True`` the row is locked ``FOR UPDATE`` until the
    caller's transaction ends, which serialises changes to one subject.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
        ValueError: ``language`` is not ``sw`` or ``en``.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    e164 = normalise_msisdn(msisdn)
    bidx = keyring.blind_index(e164, field=MSISDN_FIELD)
    query = select(Subject).where(Subject.msisdn_bidx == bidx)
    if lock:
        query = query.with_for_update()
    subject = (await session.exec(query)).first()
    while subject is None:
        bst = new_bst()
        inserted = await session.exec(
            insert(Subject)
            .values(
                msisdn_sealed=keyring.seal(e164, field=MSISDN_FIELD),
                msisdn_bidx=bidx,
                bst=bst,
                language=language,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
            .returning(col(Subject.id))
        )
        new_id = inserted.first()
        if new_id is not None:
            await audit.append(
                session,
                actor=actor,
                action="subject.created",
                entity=f"subject:{new_id}",
                subject=bst,
                after={"bst": bst, "language": language},
                occurred_at=now,
            )
        # Either ours, a concurrent caller's, or (a BST collision) nobody's: read again.
        subject = (await session.exec(query.execution_options(populate_existing=True))).first()
    return subject


async def set_language(
    session: AsyncSession, *, subject: Subject, language: str, actor: str, now: datetime
) -> None:
    """Record the subject's preferred language (audited ``subject.language_changed``).

    Raises:
        ValueError: ``language`` is not ``sw`` or ``en``.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    if subject.language == language:
        return
    before = subject.language
    subject.language = language
    subject.updated_at = now
    session.add(subject)
    await audit.append(
        session,
        actor=actor,
        action="subject.language_changed",
        entity=f"subject:{subject.id}",
        subject=subject.bst,
        before={"language": before},
        after={"language": language},
        occurred_at=now,
    )
