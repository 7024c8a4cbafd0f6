"""What operators ask of the register, recorded off the request path, and their daily quota.

Every lookup and subscription call is recorded (operator, key, request id, kind,
how many items, how many were excluded, HTTP status, time) with no identifier,
raw or indexed. Requests only append to an in-process buffer; a background task
writes the buffer every ``flush_every`` seconds (default 1 s) in one transaction:
the request rows, the per-day counters (:class:`core.models.OperatorUsage`) and
the keys' ``last_used_at``. A crash loses at most the last second's records;
a database outage keeps them in memory (up to ``MAX_BUFFER``) until it is back.

**Sweep stop.** A legitimate operator looks up its own customers, again and
again; someone sweeping the number space looks up ever-new numbers. Each
process therefore also counts the *distinct* blind indexes each operator looked
up today (Nairobi day) in a Redis HyperLogLog, added at flush time, and an
operator past ``daily_distinct`` is refused (429 with ``Retry-After`` until
Nairobi midnight) by every process within about a second. Redis being down only
suspends that count; lookups go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple, TypeVar

from redis.asyncio import Redis
from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert

from core.api_access import Principal
from core.db import SessionFactory
from core.models import ApiKey, OperatorRequest, OperatorUsage
from core.periods import NAIROBI

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BUFFER = 200_000
#: Records (or quota indexes) handled between two yields to the event loop while flushing: a
#: second of lookups at 12,000/s once stalled every request behind it for ~30 ms in one go.
SLICE = 1_000
#: Lookup kinds count towards ``lookups``; the others towards ``subscription_changes``.
LOOKUP_KINDS = frozenset({"lookup", "lookup_batch"})
_REQUEST = OperatorRequest.__table__  # type: ignore[attr-defined]
_USAGE = OperatorUsage.__table__  # type: ignore[attr-defined]
_KEY = ApiKey.__table__  # type: ignore[attr-defined]

_ADD_USAGE = insert(_USAGE).values(
    operator_id=bindparam("operator_id"),
    day=bindparam("day"),
    lookups=bindparam("lookups"),
    subscription_changes=bindparam("changes"),
)
_ADD_USAGE = _ADD_USAGE.on_conflict_do_update(
    index_elements=["operator_id", "day"],
    set_={
        "lookups": _USAGE.c.lookups + _ADD_USAGE.excluded.lookups,
        "subscription_changes": _USAGE.c.subscription_changes
        + _ADD_USAGE.excluded.subscription_changes,
    },
)
_TOUCH_KEY = (
    update(_KEY).where(_KEY.c.id == bindparam("key_id")).values(last_used_at=bindparam("used_at"))
)


def nairobi_day(now: datetime) -> date:
    """The Nairobi calendar date of aware ``now``."""
    return now.astimezone(NAIROBI).date()


def seconds_to_midnight(now: datetime) -> int:
    """Whole seconds from ``now`` to the next Nairobi midnight (at least 1)."""
    local = now.astimezone(NAIROBI)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=NAIROBI)
    return max(1, int((midnight - local).total_seconds()))


class _Record(NamedTuple):
    """One buffered API call: an ``operator_request`` row without its id.

    A tuple, so that the buffer goes to ``COPY`` as it is; made on every lookup, where a
    frozen dataclass's ``__init__`` (one ``object.__setattr__`` per field) cost more.
    """

    operator_id: int
    key_id: int
    request_id: str
    kind: str
    items: int
    excluded: int
    status: int
    at: datetime


#: The ``operator_request`` columns ``COPY`` fills, in the record's order by construction (a
#: renamed column fails the first flush, and its tests, by name).
_REQUEST_COLUMNS = list(_Record._fields)


class _DayOf:
    """:func:`nairobi_day` for many instants of mostly one day: one time-zone conversion per day.

    Callable on an aware ``datetime``; returns its Nairobi ``date``.
    """

    def __init__(self) -> None:
        self._day: date | None = None
        self._start = self._end = datetime.min.replace(tzinfo=UTC)

    def __call__(self, at: datetime) -> date:
        # The bounds are kept in UTC, as the clock gives instants: comparing two datetimes of
        # one tzinfo skips the offset look-ups a comparison across zones costs.
        if not self._start <= at < self._end:
            self._day = nairobi_day(at)
            start = datetime.combine(self._day, time(), tzinfo=NAIROBI)
            self._start = start.astimezone(UTC)
            self._end = (start + timedelta(days=1)).astimezone(UTC)
        assert self._day is not None
        return self._day


def _slices(items: Sequence[T], size: int = SLICE) -> list[Sequence[T]]:
    """``items`` cut into consecutive slices of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


class UsageRecorder:
    """The buffered request log and the daily distinct-lookup quota (see module docstring)."""

    def __init__(
        self,
        db: SessionFactory,
        redis: Redis,
        *,
        daily_distinct: int,
        flush_every: float = 1.0,
        redis_timeout: float = 0.5,
    ) -> None:
        self._db = db
        self._redis = redis
        self.daily_distinct = daily_distinct
        self.flush_every = flush_every
        self._redis_timeout = redis_timeout
        self._records: list[_Record] = []
        self._seen: dict[int, set[str]] = defaultdict(set)
        self._blocked: dict[int, date] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background flush (no-op when running)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="usage-flush")

    async def close(self) -> None:
        """Stop the background flush and write what is buffered (best effort)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.flush()

    def record(
        self,
        principal: Principal,
        *,
        request_id: str,
        kind: str,
        items: int,
        excluded: int,
        status: int,
        now: datetime,
        indexes: Iterable[str] = (),
    ) -> None:
        """Buffer one API call; ``indexes`` are the blind indexes looked up (for the quota)."""
        if len(self._records) < MAX_BUFFER:
            self._records.append(
                _Record(
                    principal.operator_id,
                    principal.key_id,
                    request_id,
                    kind,
                    items,
                    excluded,
                    status,
                    now,
                )
            )
        if kind in LOOKUP_KINDS:
            self._seen[principal.operator_id].update(index[:16] for index in indexes)

    def blocked_for(self, operator_id: int, *, now: datetime) -> int:
        """Seconds until the operator may look up again (0 = not blocked)."""
        day = self._blocked.get(operator_id)
        if day is None or day != nairobi_day(now):
            return 0
        return seconds_to_midnight(now)

    async def flush(self, now: datetime | None = None) -> int:
        """Write the buffer and update the quota counts; returns how many records were written.

        Raises:
            sqlalchemy.exc.SQLAlchemyError, OSError, TimeoutError: the database write failed
                (the records stay buffered).
        """
        records, self._records = self._records, []
        seen, self._seen = self._seen, defaultdict(set)
        await self._count_distinct(seen, now or datetime.now(NAIROBI))
        if not records:
            return 0
        try:
            await self._write(records)
        except BaseException:
            self._records = (records + self._records)[:MAX_BUFFER]
            raise
        return len(records)

    async def _write(self, records: list[_Record]) -> None:
        usage: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
        used: dict[int, datetime] = {}
        day_of = _DayOf()
        for n, r in enumerate(records, 1):
            usage[(r.operator_id, day_of(r.at))][0 if r.kind in LOOKUP_KINDS else 1] += r.items
            used[r.key_id] = max(r.at, used.get(r.key_id, r.at))
            if n % SLICE == 0:
                await asyncio.sleep(0)
        async with self._db() as db:
            conn = await db.connection()
            await conn.execute(
                _ADD_USAGE,
                [
                    {"operator_id": op, "day": day, "lookups": counts[0], "changes": counts[1]}
                    for (op, day), counts in usage.items()
                ],
            )
            await conn.execute(
                _TOUCH_KEY, [{"key_id": key, "used_at": at} for key, at in used.items()]
            )
            # The request rows by COPY, in the transaction the statements above opened: an
            # INSERT of thousands of rows costs the event loop tens of ms of parameter
            # processing every second (lookups wait meanwhile); COPY a few.
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None  # an open connection always has its driver's
            for part in _slices(records):  # one COPY per slice: the loop runs between them
                await raw.copy_records_to_table(
                    _REQUEST.name, columns=_REQUEST_COLUMNS, records=part
                )
            await db.commit()

    async def _count_distinct(self, seen: dict[int, set[str]], now: datetime) -> None:
        day = nairobi_day(now)
        try:
            async with asyncio.timeout(self._redis_timeout * 4):
                for operator_id, indexes in seen.items():
                    if not indexes:
                        continue
                    name = f"nser:distinct:{operator_id}:{day.isoformat()}"
                    for part in _slices(list(indexes)):  # a few ms of packing at a time
                        await self._redis.pfadd(name, *part)
                    async with self._redis.pipeline(transaction=False) as pipe:
                        pipe.expire(name, 2 * 86_400)
                        pipe.pfcount(name)
                        _, count = await pipe.execute()
                    if count > self.daily_distinct:
                        if self._blocked.get(operator_id) != day:
                            log.warning(
                                "operator %d passed its daily distinct lookups (%d > %d)",
                                operator_id,
                                count,
                                self.daily_distinct,
                            )
                        self._blocked[operator_id] = day
        except Exception:  # the quota is a guard, not a gate: lookups go on without Redis
            log.warning("usage quota count skipped: Redis unavailable", exc_info=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every)
            try:
                await self.flush()
            except Exception:
                log.warning("usage flush failed; records kept for the next try", exc_info=True)
