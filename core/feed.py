"""An operator's event feed: its deliveries, in order, whatever became of the webhook.

Each :class:`core.models.Delivery` row is one event for one subscribed operator,
with the exact JSON body the webhook carries, so the feed and the push can never
disagree. The row id is the cursor: an operator that was down reads on from
the last id it processed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import Delivery

DELIVERY = Delivery.__table__  # type: ignore[attr-defined]
PAGE_LIMIT = 1_000

_PAGE = (
    select(DELIVERY.c.id, DELIVERY.c.payload)
    .where(
        DELIVERY.c.operator_id == bindparam("operator_id"),
        DELIVERY.c.id > bindparam("after"),
    )
    .order_by(DELIVERY.c.id)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True, slots=True)
class FeedPage:
    """Events (webhook bodies) after the cursor, and the cursor to pass next time."""

    events: list[dict[str, Any]]
    next: int


async def page(db: AsyncSession, *, operator_id: int, after: int, limit: int) -> FeedPage:
    """Up to ``limit`` (≤ :data:`PAGE_LIMIT`) events of ``operator_id`` after cursor ``after``.

    Raises:
        ValueError: ``limit`` outside 1..PAGE_LIMIT or a negative cursor.
    """
    if not 1 <= limit <= PAGE_LIMIT or after < 0:
        raise ValueError("limit must be 1..1000 and after >= 0")
    conn = await db.connection()
    params = {"operator_id": operator_id, "after": after, "limit": limit}
    rows = (await conn.execute(_PAGE, params)).all()
    return FeedPage(events=[row.payload for row in rows], next=rows[-1].id if rows else after)
