"""Freshness: how long after an exclusion commits every web process's lookup says excluded.

While wrk keeps each ``nser web`` under lookup load, each round excludes a new
person (a stranger number from :data:`bench.population.FRESH` on) through
:func:`core.exclusions.self_exclude` on the bench database, exactly as the USSD
channel does, and commits. From the moment the commit returns, every web
process is asked ``POST /v1/lookups`` for that number every
:data:`POLL_SECONDS` until it says excluded; the lag of each process is that
answer's arrival time (so it includes the lookup's own latency under load).
Rounds start at random phases of the refresh interval, and the person is
looked up once before the exclusion, to see it was not excluded yet.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from bench import population as pop
from bench.loader import keyring_of
from bench.servers import Server
from bench.think import percentile
from core import exclusions
from core.db import create_engine, session_factory
from core.models import Channel
from core.periods import Period

POLL_SECONDS = 0.005
GIVE_UP_SECONDS = 5.0


@dataclass
class Lags:
    """Seconds from commit to the first ``excluded`` answer, per web process."""

    by_server: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def p(self, name: str, q: float) -> float:
        """Percentile ``q`` of ``name``'s lags in ms."""
        return percentile([lag * 1000 for lag in self.by_server[name]], q)

    @property
    def worst_ms(self) -> float:
        """The longest lag seen on any process, ms (inf if one never said excluded)."""
        every = [lag for lags in self.by_server.values() for lag in lags]
        return max(every, default=math.nan) * 1000


async def _excluded(client: httpx.AsyncClient, server: Server, number: str) -> bool:
    answer = await client.post(f"{server.url}/v1/lookups", json={"msisdn": number})
    answer.raise_for_status()
    return bool(answer.json()["excluded"])


async def _lag(client: httpx.AsyncClient, server: Server, number: str, since: float) -> float:
    while time.perf_counter() - since < GIVE_UP_SECONDS:
        if await _excluded(client, server, number):
            return time.perf_counter() - since
        await asyncio.sleep(POLL_SECONDS)
    return math.inf


async def measure(
    webs: list[Server], api_key: str, database_url: str, keys: dict[str, str], rounds: int
) -> Lags:
    """``rounds`` exclusions, each timed to every process of ``webs`` (see module docstring)."""
    lags = Lags({w.name: [] for w in webs})
    engine = create_engine(database_url, pool_size=2, timeout=10)
    db = session_factory(engine)
    ring = keyring_of(keys)
    headers = {"Authorization": f"Bearer {api_key}"}
    try:
        async with httpx.AsyncClient(headers=headers, timeout=5) as client:
            for k in range(rounds):
                number = pop.msisdn(pop.FRESH + k)
                if any([await _excluded(client, w, number) for w in webs]):
                    lags.failures.append(f"{number} excluded before its exclusion")
                await asyncio.sleep(random.uniform(0.05, 0.35))
                async with db() as session:
                    await exclusions.self_exclude(
                        session,
                        keyring=ring,
                        msisdn=number,
                        period=Period.ONE_YEAR,
                        channel=Channel.USSD,
                        request_key=f"bench:fresh:{k}",
                        language="en",
                        actor="bench",
                        now=datetime.now(UTC),
                    )
                    await session.commit()
                committed = time.perf_counter()
                found = await asyncio.gather(*(_lag(client, w, number, committed) for w in webs))
                for web, lag in zip(webs, found, strict=True):
                    lags.by_server[web.name].append(lag)
                    if math.isinf(lag):
                        lags.failures.append(f"{web.name}: {number} not excluded after 5 s")
    finally:
        await engine.dispose()
    return lags
