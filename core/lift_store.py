"""The one lift statement the exclusion service needs: withdrawing open lift requests.

Kept apart from :mod:`core.lifts` (which uses :mod:`core.exclusions` to lift)
so that :mod:`core.exclusions` can call it from ``_record_event`` without an
import cycle.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, bindparam, update
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit
from core.models import OPEN_LIFT_STATUSES, LiftRequest, LiftStatus

#: Actor of the lift steps the system takes by itself.
SYSTEM_ACTOR = "system:lift"
LIFT = LiftRequest.__table__  # type: ignore[attr-defined]

_WITHDRAW = (
    update(LIFT)
    .where(
        LIFT.c.exclusion_id == bindparam("extended_id"),
        LIFT.c.status.in_([status.value for status in OPEN_LIFT_STATUSES]),
    )
    .values(status=LiftStatus.WITHDRAWN.value, closed_at=bindparam("now", type_=DateTime(True)))
    .returning(LIFT.c.id, LIFT.c.status)
)


async def withdraw_open(
    session: AsyncSession, *, exclusion_id: int, bst: str, now: datetime
) -> list[int]:
    """Withdraw the open lift request of an exclusion the citizen just extended.

    The citizen's latest choice wins: lengthening an exclusion while a lift is
    requested or cooling off ends that lift (``lift.withdrawn``, actor
    ``system:lift``). One ``UPDATE``, which finds nothing in the usual case.
    Returns the ids withdrawn.
    """
    params = {"extended_id": exclusion_id, "now": now}
    withdrawn = (await (await session.connection()).execute(_WITHDRAW, params)).all()
    for row in withdrawn:
        await audit.append(
            session,
            actor=SYSTEM_ACTOR,
            action="lift.withdrawn",
            entity=f"lift_request:{row.id}",
            subject=bst,
            after={"status": LiftStatus.WITHDRAWN.value, "because": "exclusion.extended"},
            occurred_at=now,
        )
    return [row.id for row in withdrawn]
