"""Offers awaiting a citizen's YES by SMS: one per number, void after ``expires_at``.

An exclusion keyword puts an ``exclude`` offer valid for
``NSER_SMS_CONFIRM_MINUTES``; an expiry reminder puts an ``extend`` offer valid
until the exclusion ends. YES/NDIYO takes the offer (:func:`take`), NO/HAPANA
withdraws it (:func:`withdraw`); a newer offer replaces an older one. Numbers
are known by their blind index only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import OfferKind, SmsOffer
from core.periods import Period

OFFER = SmsOffer.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Offer:
    """What a YES would do: ``kind``, ``period`` (counted from the YES) and the offer's language."""

    kind: OfferKind
    period: Period
    language: str
    expires_at: datetime


async def put(
    session: AsyncSession,
    *,
    bidx: str,
    kind: OfferKind,
    period: Period,
    language: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Make this the number's offer, replacing any earlier one (one statement)."""
    values = {
        "msisdn_bidx": bidx,
        "kind": kind.value,
        "period": period.value,
        "language": language,
        "created_at": now,
        "expires_at": expires_at,
    }
    statement = insert(OFFER).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["msisdn_bidx"],
        set_={name: statement.excluded[name] for name in values if name != "msisdn_bidx"},
    )
    await (await session.connection()).execute(statement)


async def take(session: AsyncSession, *, bidx: str, at: datetime) -> Offer | None:
    """Remove the number's offer and return it if it was still valid at ``at``.

    ``at`` is when the citizen's YES reached the gateway, so a YES sent in time
    counts even if it is processed late. An expired offer is removed too.
    """
    statement = (
        delete(OFFER)
        .where(OFFER.c.msisdn_bidx == bidx)
        .returning(OFFER.c.kind, OFFER.c.period, OFFER.c.language, OFFER.c.expires_at)
    )
    row = (await (await session.connection()).execute(statement)).first()
    if row is None or row.expires_at < at:
        return None
    return Offer(OfferKind(row.kind), Period(row.period), row.language, row.expires_at)


async def asked_at(session: AsyncSession, *, bidx: str) -> datetime | None:
    """When the number's offer (valid or not) was made, or ``None`` when there is none.

    Lets a channel tell which question a YES answers: the offer, or a newer one.
    """
    statement = select(OFFER.c.created_at).where(OFFER.c.msisdn_bidx == bidx)
    made: datetime | None = (await (await session.connection()).execute(statement)).scalar()
    return made


async def withdraw(session: AsyncSession, *, bidx: str) -> bool:
    """Remove the number's offer; True when there was one."""
    statement = delete(OFFER).where(OFFER.c.msisdn_bidx == bidx)
    result = await (await session.connection()).execute(statement)
    return bool(result.rowcount)
