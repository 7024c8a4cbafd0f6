"""A citizen's standing choices: preferred language and whether to get expiry reminders.

Both are changed by SMS keywords (``LUGHA``/``LANGUAGE``, ``SITISHA``/``STOP``)
and audited; neither ever touches an exclusion (exclusions cannot be stopped by SMS).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core import exclusion_store as store
from core.exclusion_store import SubjectRow
from core.i18n import LANGUAGES
from core.models import SmsReminderOptOut

OPT_OUT = SmsReminderOptOut.__table__  # type: ignore[attr-defined]


async def audit_language(
    session: AsyncSession, *, subject: SubjectRow, language: str, actor: str, now: datetime
) -> None:
    """Audit ``subject``'s change of preferred language to ``language`` (the caller stored it)."""
    await audit.append(
        session,
        actor=actor,
        action="subject.language_changed",
        entity=f"subject:{subject.id}",
        subject=subject.bst,
        before={"language": subject.language},
        after={"language": language},
        occurred_at=now,
    )


async def set_language(
    session: AsyncSession,
    *,
    subject: SubjectRow | None,
    language: str,
    actor: str,
    now: datetime,
) -> bool:
    """Store ``subject``'s preferred language (as read, e.g. by :func:`core.exclusions.status`).

    Only a subject already in the register has one (nobody is registered by
    choosing a language): ``None`` changes nothing. Returns True when it
    changed; audited.

    Raises:
        ValueError: unsupported ``language``.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    if subject is None or subject.language == language:
        return False
    await store.set_language(session, subject_id=subject.id, language=language, now=now)
    await audit_language(session, subject=subject, language=language, actor=actor, now=now)
    return True


async def stop_reminders(session: AsyncSession, *, bidx: str, actor: str, now: datetime) -> bool:
    """No more expiry reminders or notices to this number; True when newly turned off.

    Confirmations of the citizen's own actions are still sent. Audited (the
    entity is the opt-out row; no number is recorded).
    """
    statement = (
        insert(OPT_OUT)
        .values(msisdn_bidx=bidx, created_at=now)
        .on_conflict_do_nothing(index_elements=["msisdn_bidx"])
        .returning(OPT_OUT.c.id)
    )
    opt_out_id = (await (await session.connection()).execute(statement)).scalar()
    if opt_out_id is None:
        return False
    subject, _active = await store.active_by_msisdn_index(session, bidx=bidx)
    await audit.append(
        session,
        actor=actor,
        action="sms.reminders_stopped",
        entity=f"sms_reminder_opt_out:{opt_out_id}",
        subject=subject.bst if subject else None,
        occurred_at=now,
    )
    return True
