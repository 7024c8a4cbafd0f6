"""The two SMS screening sends: the helpline after a referring result, and the quarterly reminder.

Both are called inside the transaction that stores the result or advances the
reminder, so the message commits or rolls back with it. They write the MT
message to the message log (:mod:`core.notices`, :mod:`core.messages`) in the
subject's language, once per result or per day; the sender picks it up
after the commit (or its sweeper, at the latest within a minute).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from core import notices
from core.exclusion_store import SubjectRow


async def helpline(
    session: AsyncSession, *, subject: SubjectRow, result_key: str, now: datetime
) -> None:
    """Text the helpline (from settings) to ``subject`` after result ``result_key``."""
    await notices.helpline_after_screening(
        session, subject_id=subject.id, result_key=result_key, now=now
    )


async def rescreen_reminder(session: AsyncSession, *, subject: SubjectRow, now: datetime) -> None:
    """Text ``subject`` a reminder to check their gambling again (they opted in)."""
    await notices.rescreening_due(session, subject_id=subject.id, now=now)
