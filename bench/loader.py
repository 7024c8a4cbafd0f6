"""Loading the synthetic register (:mod:`bench.population`) straight into PostgreSQL, fast.

Subjects ``start <= i < stop`` are written with ``COPY`` (asyncpg
``copy_records_to_table``) in chunks of :data:`CHUNK`, by one process per CPU,
each on its own connection. Each chunk is three ``COPY``s, each its own
transaction, in foreign-key order: ``subject`` (MSISDN sealed with AES-256-GCM
and blind-indexed with the same :class:`core.crypto.KeyRing` as ``nser web``,
so that its lookups find them), ``exclusion`` (status ``active`` or
``expired``, unique reference and idempotency key) and ``exclusion_event``
(``exclusion.created``, plus ``exclusion.expired`` for a lapsed one; ``txid``
takes its server default). Ids are derived from ``i`` (subject and exclusion
``i + 1``, events ``2i + 1`` and ``2i + 2``), so workers never collide; the
sequences are moved past them at the end and the tables analysed.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench import population as pop
from core.crypto import KeyRing
from core.keys import parse_encryption_keys
from core.models import Channel, EventType, ExclusionStatus, IdentifierKind, IdentifierStatus
from core.subjects import MSISDN_FIELD

CHUNK = 50_000
COPY_SECONDS = 300.0
SUBJECT_COLUMNS = [
    "id",
    "msisdn_sealed",
    "msisdn_bidx",
    "bst",
    "language",
    "created_at",
    "updated_at",
]
LINK_COLUMNS = [
    "id",
    "subject_id",
    "kind",
    "family",
    "sealed",
    "bidx",
    "status",
    "channel",
    "created_at",
]
EXCLUSION_COLUMNS = [
    "id",
    "subject_id",
    "period",
    "starts_at",
    "ends_at",
    "status",
    "reference",
    "channel",
    "idempotency_key",
    "created_at",
    "updated_at",
]
EVENT_COLUMNS = [
    "id",
    "exclusion_id",
    "type",
    "idempotency_key",
    "period",
    "ends_at",
    "occurred_at",
]
USSD = Channel.USSD.value
MSISDN = IdentifierKind.MSISDN.value  # the kind and the family share the name
CLAIMED = IdentifierStatus.CLAIMED.value


def keyring_of(env: dict[str, str]) -> KeyRing:
    """The key ring ``nser web`` builds from ``NSER_ENCRYPTION_KEYS`` and ``NSER_INDEX_KEY``."""
    return KeyRing(
        encryption_keys=parse_encryption_keys(env["NSER_ENCRYPTION_KEYS"]),
        index_key=base64.b64decode(env["NSER_INDEX_KEY"]),
    )


@dataclass(frozen=True)
class Chunk:
    """Subjects ``start <= i < stop``, as of ``now``, for one worker."""

    database_url: str
    keys: dict[str, str]
    start: int
    stop: int
    now: datetime


def _rows(chunk: Chunk) -> tuple[list[tuple[Any, ...]], ...]:
    ring = keyring_of(chunk.keys)
    subjects: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    exclusions: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    now = chunk.now
    for i in range(chunk.start, chunk.stop):
        number = pop.msisdn(i)
        standing = pop.standing_of(i, now)
        created = standing.starts_at or now
        sealed = ring.seal(number, field=MSISDN_FIELD)
        bidx = ring.blind_index(number, field=MSISDN_FIELD)
        language = "en" if i % 3 == 0 else "sw"
        subjects.append((i + 1, sealed, bidx, pop.bst(i), language, created, now))
        links.append((i + 1, i + 1, MSISDN, MSISDN, sealed, bidx, CLAIMED, USSD, created))
        if standing.kind is pop.Kind.NONE:
            continue
        assert standing.period is not None
        expired = standing.kind is pop.Kind.EXPIRED
        status = ExclusionStatus.EXPIRED if expired else ExclusionStatus.ACTIVE
        key = f"bench:{i}"
        period, ends = standing.period.value, standing.ends_at
        row = [i + 1, i + 1, period, created, ends, status.value, pop.reference(i), USSD, key]
        exclusions.append((*row, created, ends if expired else created))
        events.append((2 * i + 1, i + 1, EventType.CREATED.value, key, period, ends, created))
        if expired:
            events.append((2 * i + 2, i + 1, EventType.EXPIRED.value, None, period, ends, ends))
    return subjects, links, exclusions, events


async def _copy(chunk: Chunk) -> None:
    subjects, links, exclusions, events = _rows(chunk)
    conn = await asyncpg.connect(chunk.database_url, timeout=10)
    try:
        for table, columns, records in (
            ("subject", SUBJECT_COLUMNS, subjects),
            ("subject_identifier", LINK_COLUMNS, links),
            ("exclusion", EXCLUSION_COLUMNS, exclusions),
            ("exclusion_event", EVENT_COLUMNS, events),
        ):
            if records:
                await conn.copy_records_to_table(
                    table, records=records, columns=columns, timeout=COPY_SECONDS
                )
    finally:
        await conn.close(timeout=10)


def load_chunk(chunk: Chunk) -> int:
    """Generate and ``COPY`` one chunk (run in a worker process); returns its subject count."""
    asyncio.run(_copy(chunk))
    return chunk.stop - chunk.start


def _chunks(database_url: str, keys: dict[str, str], start: int, stop: int) -> Iterator[Chunk]:
    now = datetime.now(UTC)
    for low in range(start, stop, CHUNK):
        yield Chunk(database_url, keys, low, min(stop, low + CHUNK), now)


_FINISH = """
SELECT setval(pg_get_serial_sequence('subject', 'id'), (SELECT max(id) FROM subject));
SELECT setval(pg_get_serial_sequence('subject_identifier', 'id'),
              (SELECT max(id) FROM subject_identifier));
SELECT setval(pg_get_serial_sequence('exclusion', 'id'), (SELECT max(id) FROM exclusion));
SELECT setval(pg_get_serial_sequence('exclusion_event', 'id'),
              (SELECT max(id) FROM exclusion_event));
ANALYZE subject, subject_identifier, exclusion, exclusion_event;
"""


async def _finish(database_url: str) -> None:
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        await conn.execute(_FINISH, timeout=COPY_SECONDS)
    finally:
        await conn.close(timeout=10)


@dataclass(frozen=True)
class Loaded:
    """What a load did: subjects ``start <= i < stop`` in ``seconds`` (wall clock)."""

    start: int
    stop: int
    seconds: float
    processes: int

    @property
    def rate(self) -> float:
        """Subjects per second."""
        return (self.stop - self.start) / self.seconds if self.seconds else 0.0


def load(
    database_url: str, keys: dict[str, str], start: int, stop: int, processes: int = 0
) -> Loaded:
    """Load subjects ``start <= i < stop`` with ``processes`` workers (0 = one per CPU).

    Raises:
        asyncpg.PostgresError, OSError, TimeoutError: a ``COPY`` failed (for instance
            the range overlaps subjects already loaded).
    """
    processes = processes or os.cpu_count() or 2
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=processes) as pool:
        for _ in pool.map(load_chunk, _chunks(database_url, keys, start, stop)):
            pass
    asyncio.run(_finish(database_url))
    return Loaded(start, stop, time.perf_counter() - began, processes)
