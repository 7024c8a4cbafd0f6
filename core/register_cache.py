"""Who is excluded right now, held in process and kept fresh: the operator lookup's hot path.

A lookup must answer in well under a millisecond of CPU, so it cannot make a
network round trip; yet a lookup one second after an exclusion commits must say
excluded, on every web process. Each process therefore keeps a map from blind
index (MSISDN and national ID, :mod:`core.crypto`) to the exclusion in force,
loaded once and then refreshed every ``interval`` seconds (default 0.25 s) from
``exclusion_event``.

Polling by event id alone would miss an event whose transaction took its id
early and committed late. Each event row carries its transaction id
(``txid``, from ``pg_current_xact_id()``); every poll first reads the
*horizon*, the oldest transaction still running
(``pg_snapshot_xmin(pg_current_snapshot())``), then re-reads the events of every
transaction from the previous horizon on. Everything below a horizon had
committed (or aborted) when it was read, so nothing is skipped; an event seen
twice is applied twice harmlessly (the current state of its subject is read,
not the event's). A full reload every ``reload_every`` seconds is a second net.

Only exclusions are held (a few per cent of subjects), never who is *not*
excluded: a person the register has never seen and one it has seen but who is
not excluded get the same answer. If refreshing fails for longer than
``stale_after`` seconds, :meth:`RegisterCache.lookup` raises
:class:`RegisterUnavailable` rather than answer from old data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Text, and_, bindparam, cast, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.errors import NSERError
from core.models import Exclusion, ExclusionEvent, ExclusionStatus, Subject

log = logging.getLogger(__name__)

SUBJECT = Subject.__table__  # type: ignore[attr-defined]
EXCLUSION = Exclusion.__table__  # type: ignore[attr-defined]
EVENT = ExclusionEvent.__table__  # type: ignore[attr-defined]


class RegisterUnavailable(NSERError):
    """The in-process register could not be refreshed lately; answering would risk a stale "no"."""


@dataclass(frozen=True, slots=True)
class Standing:
    """An exclusion in force as a lookup reports it: BST and UTC end (``None`` = permanent)."""

    bst: str
    until: datetime | None
    subject_id: int


#: The oldest transaction still running (everything below it has ended), as a bigint.
_HORIZON = select(cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger))
_STANDING_COLUMNS = (
    SUBJECT.c.id,
    SUBJECT.c.msisdn_bidx,
    SUBJECT.c.national_id_bidx,
    SUBJECT.c.bst,
    EXCLUSION.c.ends_at,
)
#: Every exclusion in force (or awaiting the expiry job), with its subject's indexes.
_ALL_ACTIVE = (
    select(*_STANDING_COLUMNS)
    .join_from(EXCLUSION, SUBJECT, SUBJECT.c.id == EXCLUSION.c.subject_id)
    .where(EXCLUSION.c.status == ExclusionStatus.ACTIVE.value)
)
_TOUCHED = (
    select(EXCLUSION.c.subject_id)
    .join_from(EVENT, EXCLUSION, EXCLUSION.c.id == EVENT.c.exclusion_id)
    .where(EVENT.c.txid >= bindparam("horizon"))
    .distinct()
    .cte("touched")
)
#: The current standing of every subject with an event since the horizon (ends_at NULL and
#: exclusion id NULL = nothing in force).
_CHANGED = (
    select(*_STANDING_COLUMNS, EXCLUSION.c.id.label("exclusion_id"))
    .select_from(_TOUCHED)
    .join(SUBJECT, SUBJECT.c.id == _TOUCHED.c.subject_id)
    .outerjoin(
        EXCLUSION,
        and_(
            EXCLUSION.c.subject_id == SUBJECT.c.id,
            EXCLUSION.c.status == ExclusionStatus.ACTIVE.value,
        ),
    )
)


class RegisterCache:
    """The exclusions in force, by blind index, refreshed in the background.

    Start it with :meth:`start` (idempotent; the first load is awaited), ask it
    with :meth:`lookup`, stop it with :meth:`close`. Freshness: an exclusion is
    seen at most about ``interval`` seconds plus one query after it commits.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        interval: float = 0.25,
        reload_every: float = 300.0,
        stale_after: float = 5.0,
    ) -> None:
        self._engine = engine
        self.interval = interval
        self.reload_every = reload_every
        self.stale_after = stale_after
        self._by_index: dict[str, Standing] = {}
        self._indexes_of: dict[int, tuple[str, ...]] = {}
        self._horizon = 0
        self._fresh_at = 0.0  # time.monotonic() of the last successful refresh
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def size(self) -> int:
        """How many subjects are held (those with an exclusion in force)."""
        return len(self._indexes_of)

    @property
    def age(self) -> float:
        """Seconds since the last successful refresh."""
        return time.monotonic() - self._fresh_at

    async def start(self) -> None:
        """Load the register and start refreshing it (no-op when running).

        Raises:
            sqlalchemy.exc.SQLAlchemyError, OSError, TimeoutError: the first load failed.
        """
        async with self._lock:
            if self._task is not None and not self._task.done():
                return
            await self.reload()
            self._task = asyncio.create_task(self._run(), name="register-cache")

    async def close(self) -> None:
        """Stop refreshing (the held data stays readable but soon counts as stale)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def lookup(self, indexes: Iterable[str], *, now: datetime) -> Standing | None:
        """The exclusion in force at ``now`` for any of ``indexes``, or ``None``.

        When several indexes match different exclusions, the one ending last wins
        (permanent first): lookups fail toward protection.

        Raises:
            RegisterUnavailable: not refreshed for ``stale_after`` seconds.
        """
        if self.age > self.stale_after:
            raise RegisterUnavailable(f"register not refreshed for {self.age:.1f} s")
        found: Standing | None = None
        for index in indexes:
            standing = self._by_index.get(index)
            if standing is None or (standing.until is not None and standing.until <= now):
                continue
            if found is None or _later(standing.until, found.until):
                found = standing
        return found

    async def reload(self) -> None:
        """Read every exclusion in force afresh (at start and every ``reload_every`` seconds)."""
        async with self._engine.connect() as conn:
            horizon = (await conn.execute(_HORIZON)).scalar_one()
            rows = (await conn.execute(_ALL_ACTIVE)).all()
        by_index: dict[str, Standing] = {}
        indexes_of: dict[int, tuple[str, ...]] = {}
        for row in rows:
            standing = Standing(bst=row.bst, until=row.ends_at, subject_id=row.id)
            keys = tuple(k for k in (row.msisdn_bidx, row.national_id_bidx) if k)
            indexes_of[row.id] = keys
            for key in keys:
                by_index[key] = standing
        self._by_index, self._indexes_of = by_index, indexes_of
        self._horizon = horizon
        self._fresh_at = time.monotonic()

    async def refresh(self) -> int:
        """Apply what changed since the last horizon; returns how many subjects were re-read."""
        async with self._engine.connect() as conn:
            changed = await self._changes(conn)
        for row in changed:
            self._forget(row.id)
            if row.exclusion_id is not None:
                standing = Standing(bst=row.bst, until=row.ends_at, subject_id=row.id)
                keys = tuple(k for k in (row.msisdn_bidx, row.national_id_bidx) if k)
                self._indexes_of[row.id] = keys
                for key in keys:
                    self._by_index[key] = standing
        self._fresh_at = time.monotonic()
        return len(changed)

    async def _changes(self, conn: AsyncConnection) -> Sequence[Row[Any, Any, Any, Any, Any, Any]]:
        horizon = (await conn.execute(_HORIZON)).scalar_one()
        rows = (await conn.execute(_CHANGED, {"horizon": self._horizon})).all()
        self._horizon = horizon
        return rows

    def _forget(self, subject_id: int) -> None:
        for key in self._indexes_of.pop(subject_id, ()):
            current = self._by_index.get(key)
            if current is not None and current.subject_id == subject_id:
                del self._by_index[key]

    async def _run(self) -> None:
        last_reload = time.monotonic()
        while True:
            await asyncio.sleep(self.interval)
            try:
                if time.monotonic() - last_reload >= self.reload_every:
                    await self.reload()
                    last_reload = time.monotonic()
                else:
                    await self.refresh()
            except Exception:  # keep polling; lookups turn unavailable once stale
                log.warning("register refresh failed", exc_info=True)


def _later(a: datetime | None, b: datetime | None) -> bool:
    """True when end ``a`` is later than end ``b`` (``None`` = permanent = latest)."""
    if a is None:
        return b is not None
    return b is not None and a > b
