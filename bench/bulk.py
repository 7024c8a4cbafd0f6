"""Onboarding an operator: its customers through ``POST /v1/subscriptions/bulk``.

Customer ``j`` (``0 <= j < total``) has ``customer_ref`` ``cust-<j>`` and the
number of subject ``j`` when ``j`` is even (so some are excluded, and must be
flagged), of a stranger (:data:`bench.population.CUSTOMERS` + ``j``) when odd.
Calls of :data:`PER_CALL` customers are sent by ``callers`` concurrent clients
(spread over the web processes given), each taking the next call as it
finishes; every answer is checked: ``subscribed`` = items sent, ``failed`` = 0,
``excluded`` = the excluded subjects among them. As a careful operator would, a
caller sends a call answered ``503`` again after its ``Retry-After`` (the call is
idempotent), up to :data:`ATTEMPTS` times; the retries are counted.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import httpx

from bench import population as pop
from bench.servers import Server
from bench.think import percentile

PER_CALL = 10_000
CALL_SECONDS = 300.0
ATTEMPTS = 5


@dataclass
class BulkRun:
    """What the load did: totals, wall time, per-call latencies (s) and wrong answers."""

    customers: int = 0
    excluded: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    retries: list[str] = field(default_factory=list)

    @property
    def calls_per_second(self) -> float:
        """Calls answered per second of wall time."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        """Percentile ``q`` of the call times, s."""
        return percentile(self.latencies, q)


def _call(first: int, count: int, subjects: int) -> tuple[bytes, int]:
    items, excluded = [], 0
    for j in range(first, first + count):
        if j % 2 == 0:
            number = pop.msisdn(j)
            excluded += pop.excluded(j, subjects)
        else:
            number = pop.msisdn(pop.CUSTOMERS + j)
        items.append({"customer_ref": f"cust-{j}", "msisdn": number})
    return json.dumps({"items": items}).encode(), excluded


async def _caller(
    client: httpx.AsyncClient,
    url: str,
    calls: asyncio.Queue[int],
    total: int,
    subjects: int,
    run: BulkRun,
) -> None:
    while not calls.empty():
        first = calls.get_nowait()
        count = min(PER_CALL, total - first)
        body, excluded = _call(first, count, subjects)
        for _ in range(ATTEMPTS):
            began = time.perf_counter()
            answer = await client.post(f"{url}/v1/subscriptions/bulk", content=body)
            run.latencies.append(time.perf_counter() - began)
            if answer.status_code != 503:
                break
            run.retries.append(f"call at {first}: 503 {answer.json().get('detail', '')}")
            await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
        if answer.status_code != 200:
            run.wrong.append(f"call at {first}: {answer.status_code} {answer.text[:120]}")
            continue
        got = answer.json()
        if (got["subscribed"], got["failed"], got["excluded"]) != (count, 0, excluded):
            run.wrong.append(
                f"call at {first}: subscribed={got['subscribed']} failed={got['failed']} "
                f"excluded={got['excluded']} (expected {count}, 0, {excluded})"
            )
        run.customers += got["subscribed"]
        run.excluded += got["excluded"]


async def load(
    webs: list[Server], api_key: str, total: int, subjects: int, callers: int
) -> BulkRun:
    """Subscribe ``total`` customers with ``callers`` concurrent clients over ``webs``."""
    calls: asyncio.Queue[int] = asyncio.Queue()
    for first in range(0, total, PER_CALL):
        calls.put_nowait(first)
    run = BulkRun()
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    timeout = httpx.Timeout(CALL_SECONDS, connect=10)
    began = time.perf_counter()
    async with httpx.AsyncClient(headers=headers, timeout=timeout) as client:
        await asyncio.gather(
            *(
                _caller(client, webs[n % len(webs)].url, calls, total, subjects, run)
                for n in range(callers)
            )
        )
    run.seconds = time.perf_counter() - began
    return run
