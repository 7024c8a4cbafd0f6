"""The numbers on the back-office dashboard: aggregates only, never a person.

Days and weeks are Nairobi calendar days and ISO weeks (Monday to Sunday).
Exclusions count by the channel that created them; extensions are not new
exclusions. :func:`health` adds how the register reaches people and operators:
webhook deliveries, SMS that failed, and the age of the newest signed audit
checkpoint. Every query runs under the engine's statement timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import (
    AuditCheckpoint,
    Delivery,
    DeliveryStatus,
    Exclusion,
    ExclusionStatus,
    LiftRequest,
    LiftStatus,
    MessageStatus,
    Operator,
    Role,
    SmsMessage,
)
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


#: How far back the dashboard counts SMS that finally failed.
SMS_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Health:
    """How the register's messages are getting out, at ``as_of`` (UTC).

    ``pending`` and ``failed`` count webhook deliveries in those states (all
    operators); ``oldest_pending`` is when the oldest pending one was written;
    ``failing`` maps an operator's name to its failed deliveries, most first;
    ``sms_failed`` counts SMS that finally failed in the last :data:`SMS_WINDOW`;
    ``checkpoint_at`` is when the newest audit checkpoint was signed. Times are
    ``None`` when there is none.
    """

    as_of: datetime
    pending: int
    failed: int
    oldest_pending: datetime | None
    failing: dict[str, int]
    sms_failed: int
    checkpoint_at: datetime | None


@requires(Role.VIEWER, "dashboard.view")
async def health(db: AsyncSession, /, *, principal: Principal, now: datetime) -> Health:
    """Deliveries, SMS failures and checkpoint age at ``now`` (four queries, read-only).

    Raises:
        PermissionDenied: the account may not act (audited).
    """
    status = col(Delivery.status)
    pending, failed, oldest = (
        await db.exec(
            select(
                func.count().filter(status == DeliveryStatus.PENDING.value),
                func.count().filter(status == DeliveryStatus.FAILED.value),
                func.min(col(Delivery.created_at)).filter(status == DeliveryStatus.PENDING.value),
            ).where(status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value]))
        )
    ).one()
    failing = (
        await db.exec(
            select(col(Operator.name), func.count())
            .select_from(Delivery)
            .join(Operator, col(Operator.id) == col(Delivery.operator_id))
            .where(status == DeliveryStatus.FAILED.value)
            .group_by(col(Operator.name))
            .order_by(func.count().desc(), col(Operator.name))
        )
    ).all()
    sms_failed = (
        await db.exec(
            select(func.count()).where(
                col(SmsMessage.status) == MessageStatus.FAILED.value,
                col(SmsMessage.final_at) >= now - SMS_WINDOW,
            )
        )
    ).one()
    checkpoint_at = (await db.exec(select(func.max(col(AuditCheckpoint.signed_at))))).one()
    return Health(
        as_of=now,
        pending=pending,
        failed=failed,
        oldest_pending=oldest,
        failing=dict(failing),
        sms_failed=sms_failed,
        checkpoint_at=checkpoint_at,
    )
