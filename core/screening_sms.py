"""SEAM for the SMS channel (issue 8): the two messages screening sends by SMS.

Screening asks for two texts to a citizen: the helpline after a result at
which NSER refers (PGSI moderate risk and above), and the quarterly reminder
to screen again for those who opted in. Both are called inside the
transaction that stores the result or advances the reminder, so the message
commits or rolls back with it.

**Not built yet.** Until the SMS channel lands these functions send nothing
and store nothing (the USSD result screen shows the helpline meanwhile). The
SMS work fills them: write the MT message to its message log in ``session``
and enqueue its send with :func:`core.queue.later`, in the subject's
``language``, the templates fitting one GSM-7 segment.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from core.exclusion_store import SubjectRow

log = logging.getLogger(__name__)


async def helpline(session: AsyncSession, *, subject: SubjectRow, now: datetime) -> None:
    """SEAM: text the helpline (name and number from settings) to ``subject`` after a result.

    Today a no-op (logged at debug level, with the BST only).
    """
    log.debug("helpline SMS for %s not sent: no SMS channel yet", subject.bst)


async def rescreen_reminder(session: AsyncSession, *, subject: SubjectRow, now: datetime) -> None:
    """SEAM: text ``subject`` a reminder to check their gambling again (they opted in).

    Today a no-op (logged at debug level, with the BST only).
    """
    log.debug("re-screening reminder for %s not sent: no SMS channel yet", subject.bst)
