"""Who is excluded right now, held in process and kept fresh: the operator lookup's hot path.

A lookup must answer in well under a millisecond of CPU, so it cannot make a
network round trip; yet a lookup one second after an exclusion commits must say
excluded, on every web process. Each process therefore keeps a map from blind
index (every identifier linked to the subject: each SIM, each claimed or
verified ID, :mod:`core.subjects`) to the exclusion in force,
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
from core.models import Exclusion, ExclusionEvent, ExclusionStatus, Subject, SubjectIdentifier

log = logging.getLogger(__name__)

SUBJECT = Subject.__table__  # type: ignore[attr-defined]
EXCLUSION = Exclusion.__table__  # type: ignore[attr-defined]
EVENT = ExclusionEvent.__table__  # type: ignore[attr-defined]
LINK = SubjectIdentifier.__table__  # type: ignore[attr-defined]


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
#: One row per (subject, linked identifier); ``bidx`` NULL for a subject with no link left.
_STANDING_COLUMNS = (SUBJECT.c.id, LINK.c.bidx, SUBJECT.c.bst, EXCLUSION.c.ends_at)
#: Every exclusion in force (or awaiting the expiry job), with its subject's indexes.
_ALL_ACTIVE = (
    select(*_STANDING_COLUMNS)
    .join_from(EXCLUSION, SUBJECT, SUBJECT.c.id == EXCLUSION.c.subject_id)
    .outerjoin(LINK, LINK.c.subject_id == SUBJECT.c.id)
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
    .outerjoin(LINK, LINK.c.subject_id == SUBJECT.c.id)
)


def _grouped(rows: Sequence[Any]) -> dict[int, tuple[Standing | None, tuple[str, ...]]]:
    """Rows of (subject, link) -> each subject's standing (``None``: nothing in force) and keys."""
    out: dict[int, tuple[Standing | None, tuple[str, ...]]] = {}
    for row in rows:
        in_force = getattr(row, "exclusion_id", True) is not None
        standing = Standing(bst=row.bst, until=row.ends_at, subject_id=row.id) if in_force else None
        _old, keys = out.get(row.id, (None, ()))
        out[row.id] = (standing, keys + ((row.bidx,) if row.bidx else ()))
    return out


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
        self._standing_of: dict[int, Standing] = {}
        #: Who holds each index: an ID two people claimed is held by both.
        self._holders: dict[str, set[int]] = {}
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
        self._by_index, self._indexes_of, self._standing_of, self._holders = {}, {}, {}, {}
        for subject_id, (standing, keys) in _grouped(rows).items():
            self._put(subject_id, standing, keys)
        self._horizon = horizon
        self._fresh_at = time.monotonic()

    async def refresh(self) -> int:
        """Apply what changed since the last horizon; returns how many subjects were re-read."""
        async with self._engine.connect() as conn:
            changed = await self._changes(conn)
        subjects = _grouped(changed)
        for subject_id, (standing, keys) in subjects.items():
            self._put(subject_id, standing, keys)
        self._fresh_at = time.monotonic()
        return len(subjects)

    async def _changes(self, conn: AsyncConnection) -> Sequence[Row[Any, Any, Any, Any, Any]]:
        horizon = (await conn.execute(_HORIZON)).scalar_one()
        rows = (await conn.execute(_CHANGED, {"horizon": self._horizon})).all()
        self._horizon = horizon
        return rows

    def _put(self, subject_id: int, standing: Standing | None, keys: tuple[str, ...]) -> None:
        """Make ``subject_id`` hold ``keys`` with ``standing`` (``None``: nothing in force).

        Each touched index then maps to the latest-ending exclusion of all who
        hold it (toward protection), so one holder's change never hides another's.
        """
        old = self._indexes_of.pop(subject_id, ())
        self._standing_of.pop(subject_id, None)
        if standing is not None:
            self._indexes_of[subject_id] = keys
            self._standing_of[subject_id] = standing
        held = set(keys) if standing is not None else set()
        for key in set(old) | held:
            holders = self._holders.setdefault(key, set())
            if key in held:
                holders.add(subject_id)
            else:
                holders.discard(subject_id)
            best: Standing | None = None
            for holder in holders:
                candidate = self._standing_of[holder]
                if best is None or _later(candidate.until, best.until):
                    best = candidate
            if best is None:
                self._holders.pop(key, None)
                self._by_index.pop(key, None)
            else:
                self._by_index[key] = best

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
