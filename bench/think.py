"""Think-time run: citizens dialling complete English self-exclusion sessions, as phones do.

``concurrency`` virtual citizens share ``sessions`` complete sessions against
``POST /ussd``, exactly as Africa's Talking would send them: ``""`` -> ``"2"``
-> ``"2*1"`` -> ``"2*1*2"`` -> ``"2*1*2*1"`` (dial, language, menu, period,
confirm; the last step writes the exclusion in PostgreSQL). Every session uses
a new phone number (+25471…) and session id. Between steps a citizen thinks
for an exponentially distributed time (mean ``think``), and citizens dial in
staggered over the first ``5 * think`` seconds; ``think = 0`` is a closed-loop
stress test. Each response is checked (HTTP 200, ``CON``/``END`` as expected,
``END Done`` as the final screen); a session stops at its first bad response and
counts as a failure, as does a request taking over 15 s. Latency is measured
client-side (``time.perf_counter``) per step; the target is p99 <= 50 ms per
step. The load is sent with aiohttp (C-accelerated HTTP parser, one keep-alive
connection per citizen) so that the client costs as little CPU as possible.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import aiohttp

STEPS = ("dial", "language", "menu", "period", "confirm")
TEXTS = ("", "2", "2*1", "2*1*2", "2*1*2*1")
TARGET_MS = 50.0
REQUEST_SECONDS = 15.0


@dataclass
class Round:
    """Results of one round at a given concurrency."""

    concurrency: int
    sessions: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    completed: int = 0
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def all_latencies(self) -> list[float]:
        """Every step's latencies together (ms)."""
        return [v for s in STEPS for v in self.latencies[s]]

    @property
    def worst_p99(self) -> float:
        """The highest per-step p99 (ms)."""
        return max(percentile(self.latencies[s], 99) for s in STEPS)

    @property
    def met(self) -> bool:
        """No failure and every step's p99 within :data:`TARGET_MS` (NaN, no data, is not met)."""
        return not self.failures and self.worst_p99 <= TARGET_MS


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (``p`` in 0..100); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def phone_numbers() -> Iterator[str]:
    """Distinct valid Kenyan mobile numbers (+25471xxxxxxx) from a random start."""
    start = random.randrange(10_000_000)
    for i in range(10_000_000):
        yield f"+25471{(start + i) % 10_000_000:07d}"


def _fail(result: Round, message: str) -> None:
    result.failures += 1
    if len(result.errors) < 5:
        result.errors.append(message)


async def one_session(
    client: aiohttp.ClientSession, phone: str, think: float, result: Round
) -> None:
    """Run one complete session, recording each step's latency; count it as completed or failed."""
    session_id = f"ATUid_bench_{secrets.token_hex(8)}"
    for step, (name, text) in enumerate(zip(STEPS, TEXTS, strict=True)):
        if think and step:
            # Exponential think times (mean ``think``) keep the citizens out of lock-step,
            # as real keypresses are; a constant pause would send every step as one burst.
            await asyncio.sleep(random.expovariate(1 / think))
        form = {
            "sessionId": session_id,
            "serviceCode": "*384*7#",
            "phoneNumber": phone,
            "networkCode": "63902",
            "text": text,
        }
        started = time.perf_counter()
        try:  # a dict is sent as application/x-www-form-urlencoded
            async with client.post("ussd", data=form) as response:
                status, body = response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:  # TimeoutError: over 15 s
            return _fail(result, f"{name}: {type(exc).__name__}: {exc}")
        result.latencies[name].append((time.perf_counter() - started) * 1000)
        expected = "END Done" if step == len(STEPS) - 1 else "CON "
        if status != 200 or not body.startswith(expected):
            return _fail(result, f"{name}: HTTP {status} {body[:120]!r}")
    result.completed += 1


async def run_round(
    client: aiohttp.ClientSession,
    concurrency: int,
    sessions: int,
    think: float,
    phones: Iterator[str],
) -> Round:
    """``concurrency`` citizens share ``sessions`` sessions, each starting its next when done."""
    result = Round(concurrency, sessions)
    remaining = sessions

    async def citizen() -> None:
        nonlocal remaining
        if think:
            await asyncio.sleep(random.uniform(0, 5 * think))  # staggered dialling
        while remaining > 0:
            remaining -= 1
            await one_session(client, next(phones), think, result)

    started = time.perf_counter()
    await asyncio.gather(*(citizen() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


def time_bound(concurrency: int, sessions: int, think: float) -> float:
    """Seconds after which a round is abandoned: three times its expected length, plus 2 min."""
    waves = math.ceil(sessions / max(1, concurrency))
    return 3 * (5 * think + waves * (len(STEPS) - 1) * think) + 120


def report(result: Round) -> None:
    """Print one round's throughput and latency table."""
    rate = result.completed / result.elapsed if result.elapsed else 0.0
    print(
        f"\n== think-time run, concurrency {result.concurrency}: {result.completed}/"
        f"{result.sessions} sessions completed, {result.failures} failures, "
        f"{result.elapsed:.1f} s, {rate:.1f} sessions/s"
    )
    print(f"{'step':<10}{'n':>7}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    rows = [*((s, result.latencies[s]) for s in STEPS), ("all steps", result.all_latencies)]
    for name, values in rows:
        print(
            f"{name:<10}{len(values):>7}"
            + "".join(f"{percentile(values, p):>10.1f}" for p in (50, 90, 99, 100))
        )
    for error in result.errors:
        print(f"  failure: {error}")


async def bench(url: str, levels: list[int], sessions: int, think: float) -> list[Round]:
    """Warm up (20 closed-loop sessions), then run one round per concurrency level.

    A round that overruns :func:`time_bound` raises :class:`TimeoutError`.
    """
    connector = aiohttp.TCPConnector(limit=max(levels) + 10, force_close=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_SECONDS)  # per request
    phones = phone_numbers()
    async with aiohttp.ClientSession(url + "/", connector=connector, timeout=timeout) as client:
        await run_round(client, 5, 20, 0.0, phones)  # warm-up: connections, pools, caches
        rounds = []
        for c in levels:
            async with asyncio.timeout(time_bound(c, sessions, think)):
                rounds.append(await run_round(client, c, sessions, think, phones))
            report(rounds[-1])
    return rounds


def summary(rounds: list[Round]) -> None:
    """One line per round against the target."""
    print(f"\n== think-time summary (target: p99 <= {TARGET_MS:.0f} ms on every step)")
    for r in rounds:
        rate = r.completed / r.elapsed if r.elapsed else 0.0
        print(
            f"c={r.concurrency} p99(all)={percentile(r.all_latencies, 99):.1f} ms "
            f"p99(worst step)={r.worst_p99:.1f} ms sessions/s={rate:.1f} "
            f"failures={r.failures} target {'met' if r.met else 'MISSED'}"
        )
