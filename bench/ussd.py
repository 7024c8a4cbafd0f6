"""Load benchmark of the USSD channel: complete English self-exclusion sessions.

What it measures: N concurrent virtual citizens each run complete sessions
back to back (closed loop) against ``POST /ussd``, exactly as Africa's Talking
would send them: ``""`` -> ``"2"`` -> ``"2*1"`` -> ``"2*1*2"`` -> ``"2*1*2*1"``
(dial, language, menu, period, confirm; the last step writes the exclusion in
PostgreSQL). Every session uses a new phone number and session id. Each
response is checked (HTTP 200, ``CON``/``END`` as expected, ``Ref: `` in the
final screen); a session stops at its first bad response and counts as a
failure. For each concurrency it prints sessions/s and the p50/p90/p99/max
latency (client-side, ``time.perf_counter``) of each step, then a summary
against the target "p99 <= 50 ms per step". The load is sent with aiohttp's
client (C-accelerated HTTP parser, one keep-alive connection per citizen) so
that the client costs as little CPU as possible; a request taking over 15 s
counts as a failure.

By default it starts its own ``nser serve`` on a free port with a fresh
``NSER_DATA_DIR``; the database is ``BENCH_DATABASE_URL``, else a fresh
``nser_bench_<random>`` database on postgresql://postgres@127.0.0.1:5432
(dropped afterwards), else the embedded PostgreSQL; Redis is
``BENCH_REDIS_URL``, else redis://127.0.0.1:6379/15 (flushed first), else the
embedded Redis. With ``--url`` it drives an already running server instead.
Client and server share the machine, so the client's CPU use is in the numbers.

Run:  .venv/bin/python bench/ussd.py [--concurrency 1,50,200] [--sessions N]
      [--think MS] [--url http://127.0.0.1:8000]

Exit status: 0 when every session succeeded (whether or not the target was
met), 1 when sessions failed, 2 when the server could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx

STEPS = ("dial", "language", "menu", "period", "confirm")
TEXTS = ("", "2", "2*1", "2*1*2", "2*1*2*1")
TARGET_MS = 50.0
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432"
LOCAL_REDIS = "redis://127.0.0.1:6379/15"
NSER = Path(sys.executable).with_name("nser")


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
        last = step == len(STEPS) - 1
        ok = status == 200 and body.startswith("END " if last else "CON ")
        if not ok or (last and "Ref: " not in body):
            return _fail(result, f"{name}: HTTP {status} {body[:120]!r}")
    result.completed += 1


def _fail(result: Round, message: str) -> None:
    result.failures += 1
    if len(result.errors) < 5:
        result.errors.append(message)


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


def report(result: Round) -> None:
    """Print one round's throughput and latency table."""
    rate = result.completed / result.elapsed if result.elapsed else 0.0
    print(
        f"\n== concurrency {result.concurrency}: {result.completed}/{result.sessions} sessions "
        f"completed, {result.failures} failures, {result.elapsed:.1f} s, {rate:.1f} sessions/s"
    )
    print(f"{'step':<10}{'n':>7}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    rows = [*((s, result.latencies[s]) for s in STEPS), ("all steps", all_latencies(result))]
    for name, values in rows:
        print(
            f"{name:<10}{len(values):>7}"
            + "".join(f"{percentile(values, p):>10.1f}" for p in (50, 90, 99, 100))
        )
    for error in result.errors:
        print(f"  failure: {error}")


def all_latencies(result: Round) -> list[float]:
    return [v for s in STEPS for v in result.latencies[s]]


async def bench(url: str, levels: list[int], sessions: int | None, think: float) -> list[Round]:
    """Warm up, then run one round per concurrency level."""
    connector = aiohttp.TCPConnector(limit=max(levels) + 10, force_close=False)
    timeout = aiohttp.ClientTimeout(total=15)  # per request
    phones = phone_numbers()
    base = url.rstrip("/") + "/"  # with the relative "ussd", keeps any path prefix of --url
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as client:
        await run_round(client, 5, 20, 0.0, phones)  # warm-up: connections, pools, caches
        rounds = []
        for c in levels:
            rounds.append(await run_round(client, c, sessions or max(100, 5 * c), think, phones))
            report(rounds[-1])
    return rounds


# --- the server under test ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin_sql(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{LOCAL_PG}/postgres", timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pick_database() -> tuple[str | None, str | None]:
    """(DATABASE_URL or None for embedded, name of a database to drop afterwards)."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"], None
    name = f"nser_bench_{secrets.token_hex(4)}"
    try:
        asyncio.run(_admin_sql(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server: fall back to the embedded one
        print(f"# no PostgreSQL at {LOCAL_PG} ({type(exc).__name__}); using embedded PostgreSQL")
        return None, None
    return f"{LOCAL_PG}/{name}", name


def pick_redis() -> str | None:
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"]
    import redis

    try:
        client = redis.Redis.from_url(LOCAL_REDIS, socket_timeout=2, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except Exception as exc:
        print(f"# no Redis at {LOCAL_REDIS} ({type(exc).__name__}); using embedded Redis")
        return None
    return LOCAL_REDIS


@contextlib.contextmanager
def own_server() -> Iterator[str]:
    """Start ``nser serve`` on a free port, yield its URL, stop it (and drop its database)."""
    database_url, drop = pick_database()
    redis_url = pick_redis()
    data_dir = tempfile.mkdtemp(prefix="nser_bench_")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["NSER_DATA_DIR"] = data_dir
    env.update({k: v for k, v in (("DATABASE_URL", database_url), ("REDIS_URL", redis_url)) if v})
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    print(f"# server: nser serve on {url}, data dir {data_dir}")
    print(f"#   DATABASE_URL={database_url or '(embedded)'} REDIS_URL={redis_url or '(embedded)'}")
    log_path = Path(data_dir) / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(NSER), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(url, proc, log_path)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        print(f"# server stopped (exit {proc.returncode}); log: {log_path}")
        if drop:
            with contextlib.suppress(Exception):
                asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)'))


class ServerError(Exception):
    """The server under test could not be started."""


def wait_healthy(
    url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 180
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise ServerError(f"server exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise ServerError(f"server not healthy after {timeout:.0f} s (log: {log_path})")


def check_reachable(url: str) -> None:
    """Raise :class:`ServerError` unless ``url``'s ``/healthz`` answers 200."""
    try:
        status = httpx.get(f"{url.rstrip('/')}/healthz", timeout=5).status_code
    except httpx.HTTPError as exc:
        raise ServerError(f"{url} unreachable: {exc}") from exc
    if status != 200:
        raise ServerError(f"{url}/healthz answered {status}")


# --- entry point ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="drive this running server instead of starting one")
    parser.add_argument("--concurrency", default="1,50,200", help="comma-separated levels")
    parser.add_argument("--sessions", type=int, help="sessions per round (default max(100, 5*c))")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        metavar="MS",
        help="mean think time between steps in ms, exponentially distributed (default 0)",
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    loop_name = "uvloop" if loop_factory else "asyncio"
    print(
        f"# NSER USSD benchmark: 5-step English self-exclusion sessions, closed loop, "
        f"concurrency {levels}, sessions/round "
        f"{args.sessions or 'max(100, 5*c)'}, think time {args.think:g} ms, "
        f"client loop {loop_name}, "
        f"{os.cpu_count()} CPUs shared by client and server"
    )
    if args.think == 0:
        print("# think time 0: a worst case; real phones wait seconds between keypresses")
    try:
        with contextlib.ExitStack() as stack:
            url = args.url or stack.enter_context(own_server())
            if args.url:
                check_reachable(args.url)
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                rounds = runner.run(bench(url, levels, args.sessions, args.think / 1000))
    except ServerError as exc:
        print(f"server not available: {exc}", file=sys.stderr)
        return 2
    print(f"\n== summary (target: p99 <= {TARGET_MS:.0f} ms per step)")
    for r in rounds:
        worst = max(percentile(r.latencies[s], 99) for s in STEPS)
        rate = r.completed / r.elapsed if r.elapsed else 0.0
        met = "met" if worst <= TARGET_MS else "MISSED"
        print(
            f"c={r.concurrency} p99(all)={percentile(all_latencies(r), 99):.1f} ms "
            f"p99(worst step)={worst:.1f} ms sessions/s={rate:.1f} failures={r.failures} "
            f"target {met}"
        )
    return 1 if any(r.failures for r in rounds) else 0


if __name__ == "__main__":
    sys.exit(main())
