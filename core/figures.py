"""The numbers on the back-office dashboard: aggregates only, never a person.

Days and weeks are Nairobi calendar days and ISO weeks (Monday to Sunday).
Exclusions count by the channel that created them; extensions are not new
exclusions. Figures for data that other parts of the register will add
(screenings, operator deliveries, SMS, signed checkpoints) join here as those
parts arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import Exclusion, ExclusionStatus, LiftRequest, LiftStatus, Role
from core.periods import NAIROBI
from core.permissions import Principal, requires


@dataclass(frozen=True)
class Figures:
    """Dashboard figures at ``as_of`` (UTC).

    ``today`` and ``week`` map a channel (``ussd``, ``sms``, ``backoffice``) to
    exclusions created since local midnight and since Monday (``week_start``);
    ``active`` maps a period (``6m`` …) to exclusions in force;
    ``lifts`` maps ``requested`` and ``approved`` (cooling off) to open lift requests.
    Channels and periods with none are absent.
    """

    as_of: datetime
    week_start: date
    today: dict[str, int]
    week: dict[str, int]
    active: dict[str, int]
    lifts: dict[str, int]


def local_midnight(day: date) -> datetime:
    """The instant Nairobi's ``day`` begins (aware, Nairobi time)."""
    return datetime.combine(day, time(0), tzinfo=NAIROBI)


@requires(Role.VIEWER, "dashboard.view")
async def figures(db: AsyncSession, /, *, principal: Principal, now: datetime) -> Figures:
    """The dashboard's figures at ``now``: three grouped counts (read-only).

    Raises:
        PermissionDenied: the account may not act (audited).
    """
    today = now.astimezone(NAIROBI).date()
    week_start = today - timedelta(days=today.weekday())
    midnight, monday = local_midnight(today), local_midnight(week_start)
    created = col(Exclusion.created_at)
    made = (
        await db.exec(
            select(
                col(Exclusion.channel),
                func.count().filter(created >= midnight),
                func.count(),
            )
            .where(created >= monday)
            .group_by(col(Exclusion.channel))
        )
    ).all()
    active = (
        await db.exec(
            select(col(Exclusion.period), func.count())
            .where(
                col(Exclusion.status) == ExclusionStatus.ACTIVE.value,
                or_(col(Exclusion.ends_at).is_(None), col(Exclusion.ends_at) > now),
            )
            .group_by(col(Exclusion.period))
        )
    ).all()
    lifts = (
        await db.exec(
            select(col(LiftRequest.status), func.count())
            .where(
                col(LiftRequest.status).in_([LiftStatus.REQUESTED.value, LiftStatus.APPROVED.value])
            )
            .group_by(col(LiftRequest.status))
        )
    ).all()
    return Figures(
        as_of=now,
        week_start=week_start,
        today={channel: n for channel, n, _ in made if n},
        week={channel: n for channel, _, n in made},
        active=dict(active),
        lifts=dict(lifts),
    )
