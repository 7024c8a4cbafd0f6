"""Benchmark of the SMS channel: MO callbacks accepted, and MO -> MT with the worker running.

One command, one fresh set of servers (a fresh ``nser_bench_<random>``
database on the machine's PostgreSQL and Redis database 12, flushed; see
:mod:`bench.servers`):

1. **Inbound callbacks**, on ``nser web`` alone (no worker):

   a. *capacity*: wrk (:mod:`bench.wrk`, scenario ``sms``) posts ``POST
      /sms/inbound`` from 200 connections, closed loop, each request a new MO
      (new ``id``, new sender, ``text=HALI``) as Africa's Talking would: the
      callbacks/s the web process accepts, every answer checked (``200 OK``)
      and the MOs stored counted against them;
   b. *latency*: ``--senders`` (200) concurrent senders, each posting
      ``--messages`` (2) MOs from its own number after exponential pauses of
      mean ``--pause`` s (5); the callback's p50/p99 (target p99 <= 20 ms).
2. **MO -> MT**, on ``nser serve`` (web and worker in one process, as the
   README runs it) with ``NSER_SMS_GATEWAY=africastalking`` pointed at a fake
   Africa's Talking server in this process (``tests/support/fake_africastalking.py``),
   so the real SDK hands each reply over real HTTP: the same senders again,
   and for each MO the time from posting it to its reply reaching the gateway.
   Printed: p50/p99/max (target p99 <= 1 s) and replies missing after 30 s.
   ``NSER_SMS_RATE`` is set to 1000/s so the throttle does not hide the latency.

Everything (servers, PostgreSQL, Redis, wrk, the client, the fake gateway)
shares this machine's CPUs with whatever else runs on it: the numbers are
indicative. Servers are stopped, the database dropped and Redis flushed at the
end, also on Ctrl-C; logs stay in the run directory printed first.

Run:  .venv/bin/python -m bench.sms [--duration S] [--skip-wrk] [--senders 200]
      [--messages 2] [--pause 5]

Exit status: 0 when every answer was correct and every reply arrived (targets
met or not), 1 otherwise, 2 when wrk is missing or a server could not start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import aiohttp
import uvloop

from bench import wrk
from bench.servers import (
    ServerError,
    flushed_redis,
    fresh_database,
    run_sql,
    stable_count,
    start_nser,
)
from bench.think import percentile
from tests.support.fake_africastalking import FakeAfricasTalking, fake_africastalking

#: This benchmark's Redis database (the USSD benchmark uses 13).
REDIS_URL = "redis://127.0.0.1:6379/12"
CALLBACK_TARGET_MS = 20.0
MO_MT_TARGET_MS = 1000.0
CONNECTIONS = 200
#: Senders of the warm-up rounds text from +25478…; measured rounds from +25476… and +25477….
WARM_UP_NUMBERS = 80_000_000
ARRIVAL_SECONDS = 30.0


def inbound_part(nser_url: str, database_url: str, run_dir: Path, duration: int) -> bool:
    """wrk at 200 connections on ``POST /sms/inbound``; prints the table, True when all correct."""
    script = wrk.write_script("sms", run_dir)
    wrk.run(
        nser_url,
        script,
        target="nser-web",
        scenario="sms",
        duration=2,
        log_path=run_dir / "wrk_sms_warmup.txt",
        path="/sms/inbound",
        connections=CONNECTIONS,
    )
    before = stable_count(database_url, "sms_inbound")
    result = wrk.run(
        nser_url,
        script,
        target="nser-web",
        scenario="sms",
        duration=duration,
        log_path=run_dir / "wrk_sms.txt",
        path="/sms/inbound",
        connections=CONNECTIONS,
    )
    stored = stable_count(database_url, "sms_inbound") - before
    slack = CONNECTIONS + result.socket_errors["timeout"]
    rows_ok = result.expected <= stored <= result.expected + slack
    print(
        f"\n== capacity: wrk -t{wrk.THREADS} -c{CONNECTIONS} -d{duration}s, POST /sms/inbound on "
        f"nser web (no worker); closed loop, so latency is queueing (connections / rate)"
    )
    print(f"{'callbacks/s':>12}{'p50 ms':>9}{'p99 ms':>9}")
    print(f"{result.rps:>12.1f}{result.p50_ms:>9.1f}{result.p99_ms:>9.1f}")
    print(
        f"answers: {result.requests} requests, {result.expected} '200 OK', {result.non2xx} "
        f"non-2xx, {result.other} other, {sum(result.socket_errors.values())} socket errors; "
        f"{stored} MOs stored ({'ok' if rows_ok else 'MISMATCH'})"
    )
    return result.clean and rows_ok


@dataclass
class Conversation:
    """One round of senders: when each MO was posted (by number), callback latencies, errors."""

    posted: dict[str, list[float]] = field(default_factory=dict)
    callback_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0


async def _sender(
    client: aiohttp.ClientSession, number: str, messages: int, pause: float, log: Conversation
) -> None:
    for n in range(messages):
        # Exponential pauses keep senders out of lock-step, as people are.
        await asyncio.sleep(random.expovariate(1 / pause))
        form = {
            "from": number,
            "to": "40400",
            "text": "HALI",
            "date": "2026-11-21 12:00:00",
            "id": f"ATXid_bench_{number[1:]}_{n}",
            "linkId": f"link_{number[1:]}_{n}",
            "networkCode": "63902",
        }
        started = time.monotonic()
        try:
            async with client.post("sms/inbound", data=form) as response:
                status, body = response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.errors.append(type(exc).__name__)
            continue
        log.callback_ms.append((time.monotonic() - started) * 1000)
        if (status, body) != (200, "OK"):
            log.errors.append(f"HTTP {status}")
            continue
        log.posted.setdefault(number, []).append(started)


async def converse(url: str, args: argparse.Namespace, first_number: int) -> Conversation:
    """``args.senders`` senders, each posting ``args.messages`` MOs after exponential pauses.

    Sender ``i`` texts from +2547<first_number + i> (a new number per sender and round).
    """
    log = Conversation()
    connector = aiohttp.TCPConnector(limit=args.senders)
    timeout = aiohttp.ClientTimeout(total=15)
    started = time.monotonic()
    async with aiohttp.ClientSession(
        base_url=url + "/", connector=connector, timeout=timeout
    ) as client:
        numbers = [f"+2547{first_number + i:08d}" for i in range(args.senders)]
        await asyncio.gather(*(_sender(client, n, args.messages, args.pause, log) for n in numbers))
    log.elapsed = time.monotonic() - started
    return log


def run_round(url: str, args: argparse.Namespace, first_number: int) -> Conversation:
    """:func:`converse` on uvloop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(converse(url, args, first_number))


def warm_up(url: str, args: argparse.Namespace) -> Conversation:
    """One quick unmeasured round (one MO per sender, from numbers of its own).

    It opens the database pool's connections and their prepared statements, as a
    web process that has been up a while has them.
    """
    quick = argparse.Namespace(senders=args.senders, messages=1, pause=0.5)
    return run_round(url, quick, first_number=WARM_UP_NUMBERS)


def wait_for_replies(fake: FakeAfricasTalking, log: Conversation) -> None:
    """Wait (at most :data:`ARRIVAL_SECONDS`) until every MO of ``log`` had its reply."""
    expected = sum(len(p) for p in log.posted.values())
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while time.monotonic() < deadline:
        if sum(1 for r in fake.requests if r.form.get("to", "") in log.posted) >= expected:
            return
        time.sleep(0.2)


def print_callbacks(log: Conversation, args: argparse.Namespace, where: str) -> bool:
    """The callback latency line of a round; True when the target is met."""
    p50, p99 = percentile(log.callback_ms, 50), percentile(log.callback_ms, 99)
    rate = len(log.callback_ms) / log.elapsed if log.elapsed else 0.0
    met = p99 <= CALLBACK_TARGET_MS and not log.errors
    print(
        f"== MO callbacks at {args.senders} concurrent senders ({where}): each posts "
        f"{args.messages} MOs after exponential pauses of mean {args.pause:g} s"
    )
    print(f"{'MOs':>6}{'MO/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'target p99':>12}  result")
    worst = max(log.callback_ms, default=float("nan"))
    print(
        f"{len(log.callback_ms):>6}{rate:>8.1f}{p50:>9.1f}{p99:>9.1f}{worst:>9.1f}"
        f"{'<= ' + str(CALLBACK_TARGET_MS):>12}  {'met' if met else 'MISSED'}"
    )
    if log.errors:
        print(f"errors: {len(log.errors)} {sorted(set(log.errors))}")
    return met


def _latencies(fake: FakeAfricasTalking, log: Conversation) -> tuple[list[float], int]:
    """MO -> MT latencies (ms), matching each sender's replies to its MOs in order; missing."""
    arrived: dict[str, list[float]] = {}
    for request in fake.requests:
        arrived.setdefault(request.form.get("to", ""), []).append(request.received_at)
    latencies: list[float] = []
    missing = 0
    for number, posts in log.posted.items():
        replies = sorted(arrived.get(number, []))
        missing += max(0, len(posts) - len(replies))
        latencies += [(r - p) * 1000 for p, r in zip(sorted(posts), replies, strict=False)]
    return latencies, missing


def mo_mt_part(
    stack: contextlib.ExitStack, database_url: str, run_dir: Path, args: argparse.Namespace
) -> bool:
    """``nser serve`` with the fake gateway; prints MO -> MT latency, True when nothing is lost."""
    fake = stack.enter_context(fake_africastalking())
    env = {
        "NSER_SMS_GATEWAY": "africastalking",
        "AFRICASTALKING_USERNAME": "bench",
        "AFRICASTALKING_API_KEY": "bench-key",
        "NSER_AFRICASTALKING_API_URL": fake.url,
        "NSER_SMS_SENDER": "40400",
        "NSER_SMS_RATE": "1000",
    }
    serve = start_nser(stack, database_url, REDIS_URL, run_dir, command="serve", extra_env=env)
    print(f"\n# nser serve (web + worker) on {serve.url}, fake Africa's Talking on {fake.url}")
    wait_for_replies(fake, warm_up(serve.url, args))  # the worker starts the round idle
    log = run_round(serve.url, args, first_number=60_000_000)
    print_callbacks(log, args, "nser serve, its worker busy with them")
    expected = sum(len(p) for p in log.posted.values())
    wait_for_replies(fake, log)
    latencies, missing = _latencies(fake, log)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    worst = max(latencies, default=float("nan"))
    print(
        f"== MO -> MT handed to the gateway: {args.senders} senders x {args.messages} MOs, "
        f"mean pause {args.pause:g} s (exponential), text HALI"
    )
    print(
        f"{'MOs':>6}{'replies':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'target p99':>12}  result"
    )
    verdict = "met" if p99 <= MO_MT_TARGET_MS and not missing else "MISSED"
    print(
        f"{expected:>6}{len(latencies):>9}{p50:>9.1f}{p99:>9.1f}{worst:>9.1f}"
        f"{'<= ' + str(MO_MT_TARGET_MS):>12}  {verdict}"
    )
    if log.errors or missing:
        print(
            f"errors posting: {len(log.errors)} {sorted(set(log.errors))}; "
            f"replies missing: {missing}"
        )
    return not log.errors and not missing


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of the wrk run (10)")
    parser.add_argument("--skip-wrk", action="store_true", help="no inbound callback run")
    parser.add_argument("--senders", type=int, default=200, help="concurrent senders (200)")
    parser.add_argument("--messages", type=int, default=2, help="MOs per sender (2)")
    parser.add_argument("--pause", type=float, default=5.0, help="mean pause before an MO, s")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring for the exit status."""
    args = parse_args(argv)
    if not args.skip_wrk and not wrk.available():
        print("install wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    run_dir = Path(tempfile.mkdtemp(prefix="nser_bench_sms_"))
    print(
        f"# NSER SMS benchmark: {os.cpu_count()} CPUs shared by the servers, PostgreSQL, Redis, "
        f"wrk, the client and the fake gateway (and anything else on this machine: numbers "
        f"are indicative); run directory {run_dir}"
    )
    signal.signal(signal.SIGTERM, _terminate)
    stack = contextlib.ExitStack()
    try:
        database_url = fresh_database(stack)
        flushed_redis(stack, REDIS_URL)
        ok = True
        with contextlib.ExitStack() as web_stack:
            web = start_nser(web_stack, database_url, REDIS_URL, run_dir)
            print(f"# nser web on {web.url}: REDIS_URL={REDIS_URL}")
            if not args.skip_wrk:
                ok = inbound_part(web.url, database_url, run_dir, args.duration)
            warm_up(web.url, args)
            log = run_round(web.url, args, first_number=70_000_000)
            print()
            print_callbacks(log, args, "nser web alone")
            ok = ok and not log.errors
        # The web-only runs left their MOs unprocessed and their jobs queued: clear both,
        # so the worker of the next part does not sweep them up while it is measured.
        run_sql(database_url, "TRUNCATE sms_inbound")
        flushed_redis(stack, REDIS_URL)
        ok = mo_mt_part(stack, database_url, run_dir, args) and ok
        return 0 if ok else 1
    except (ServerError, wrk.WrkError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nbench: interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.close()


if __name__ == "__main__":
    sys.exit(main())
