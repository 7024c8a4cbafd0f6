"""Load benchmark of the USSD channel of ``nser web``, with anchors measured in the same run.

One command, one fresh set of servers:

1. a fresh ``nser_bench_<random>`` database on the machine's PostgreSQL
   (postgresql://postgres@127.0.0.1:5432) and Redis database 13 (flushed);
   ``nser migrate``, then ``nser web`` on a free port with fixed keys from
   ``nser keys`` (see :mod:`bench.servers`);
2. wrk (:mod:`bench.wrk`): each scenario against its anchor (:mod:`bench.anchors`,
   a bare Starlette app on uvicorn with ``nser web``'s settings) and against
   ``nser web``, then one table: requests/s, p50/p99, the ratio nser/anchor and
   the target (menu step >= 0.5, exclusion step >= 0.2). Every answer is
   checked, and the rows written are counted against the ``END Done`` answers;
3. the think-time run (:mod:`bench.think`): 200 citizens, 400 complete sessions,
   3 s mean think time, per-step p50/p99 against "p99 <= 50 ms per step".

Everything (servers, wrk, the client) shares the machine's CPUs. Servers are
stopped, the database dropped and Redis flushed at the end, also on Ctrl-C or
an error; logs and wrk scripts stay in the run directory printed at the start.

Run:  .venv/bin/python -m bench.ussd [--skip-wrk] [--skip-think] [--duration S]
      [--concurrency 200] [--sessions 400] [--think 3000]

Exit status: 0 when every answer was correct (whether or not targets were met),
1 when some were not, 2 when wrk is missing or a server could not be started,
130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import uvloop

from bench import think, wrk
from bench.anchors import TABLE as ANCHOR_TABLE
from bench.servers import (
    LOCAL_REDIS,
    Server,
    flushed_redis,
    fresh_database,
    guarded,
    stable_count,
    start_anchor,
    start_nser,
)

WARMUP_SECONDS = 2


@dataclass(frozen=True)
class Scenario:
    """A wrk scenario: its anchor, the table its writes land in (if any), nser's target ratio."""

    name: str
    label: str
    anchor: str
    target: float
    anchor_table: str | None
    nser_table: str | None


SCENARIOS = (
    Scenario("menu", "menu step", "menu", 0.5, None, None),
    Scenario("exclusion", "exclusion", "write", 0.2, ANCHOR_TABLE, "exclusion"),
)


@dataclass(frozen=True)
class Measured:
    """One wrk run and, for a writing scenario, whether the rows written match the answers."""

    result: wrk.WrkResult
    rows: int | None = None

    @property
    def rows_ok(self) -> bool:
        """Rows written = ``END Done`` answers, plus at most one per connection in flight
        when wrk stopped (and per timed-out request)."""
        if self.rows is None:
            return True
        slack = wrk.CONNECTIONS + self.result.socket_errors["timeout"]
        return self.result.expected <= self.rows <= self.result.expected + slack

    @property
    def ok(self) -> bool:
        """Every answer correct and the rows accounted for."""
        return self.result.clean and self.rows_ok


def measure(
    server: Server, scenario: Scenario, table: str | None, database_url: str, args: Run
) -> Measured:
    """Run ``scenario`` on ``server`` with wrk, counting rows added to ``table`` if given."""
    before = stable_count(database_url, table) if table else 0
    result = wrk.run(
        server.url,
        wrk.write_script(scenario.name, args.run_dir),
        target=server.name,
        scenario=scenario.name,
        duration=args.duration,
        log_path=args.run_dir / f"wrk_{scenario.name}_{server.name}.txt",
    )
    rows = stable_count(database_url, table) - before if table else None
    return Measured(result, rows)


@dataclass(frozen=True)
class Run:
    """What this invocation was asked to do, and where it keeps its files."""

    duration: int
    levels: list[int]
    sessions: int
    think_ms: float
    run_dir: Path


def wrk_part(
    nser: Server, anchors: dict[str, Server], database_url: str, args: Run
) -> list[tuple[Scenario, Measured, Measured]]:
    """Warm every server up with the menu step, then each scenario: anchor, then nser."""
    menu_script = wrk.write_script("menu", args.run_dir)
    for server in (*anchors.values(), nser):
        wrk.run(
            server.url,
            menu_script,
            target=server.name,
            scenario="menu",
            duration=WARMUP_SECONDS,
            log_path=args.run_dir / f"wrk_warmup_{server.name}.txt",
        )
    measured = []
    for s in SCENARIOS:
        anchor = measure(anchors[s.anchor], s, s.anchor_table, database_url, args)
        ours = measure(nser, s, s.nser_table, database_url, args)
        measured.append((s, anchor, ours))
    return measured


def _pair(m: Measured) -> str:
    return f"{m.result.p50_ms:.1f} / {m.result.p99_ms:.1f}"


def print_wrk_tables(measured: list[tuple[Scenario, Measured, Measured]], duration: int) -> None:
    """The comparison table, then how every answer was sorted."""
    print(
        f"\n== wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{duration}s --latency, POST /ussd "
        f"(anchor: bare Starlette app, same uvicorn settings)"
    )
    head = ("scenario", "anchor req/s", "anchor p50/p99 ms", "nser req/s", "nser p50/p99 ms")
    print(f"{head[0]:<11}{head[1]:>13}{head[2]:>20}{head[3]:>12}{head[4]:>19}", end="")
    print(f"{'ratio':>7}{'target':>9}  result")
    for s, anchor, ours in measured:
        ratio = ours.result.rps / anchor.result.rps if anchor.result.rps else 0.0
        verdict = "met" if ratio >= s.target else "MISSED"
        if not (anchor.ok and ours.ok):
            verdict = "INVALID (bad answers)"
        print(
            f"{s.label:<11}{anchor.result.rps:>13.1f}{_pair(anchor):>20}"
            f"{ours.result.rps:>12.1f}{_pair(ours):>19}{ratio:>7.2f}{'>= ' + str(s.target):>9}"
            f"  {verdict}"
        )
    print(
        f"\n== answers (each must be 2xx with the expected body; rows written = END Done "
        f"answers + at most {wrk.CONNECTIONS} in flight when wrk stops)"
    )
    print(
        f"{'run':<26}{'requests':>9}{'non-2xx':>8}{'expected':>9}{'other':>7}"
        f"{'sock.err':>9}{'rows':>7}  check"
    )
    for s, anchor, ours in measured:
        for m in (anchor, ours):
            r = m.result
            rows = "-" if m.rows is None else str(m.rows)
            print(
                f"{s.label + ' @ ' + r.target:<26}{r.requests:>9}{r.non2xx:>8}{r.expected:>9}"
                f"{r.other:>7}{sum(r.socket_errors.values()):>9}{rows:>7}  "
                f"{'ok' if m.ok else 'FAILED'}"
            )


def think_part(nser: Server, args: Run) -> bool:
    """The think-time run on ``nser``; True when every session succeeded."""
    print(
        f"\n# think-time run: concurrency {args.levels}, {args.sessions} sessions per round, "
        f"mean think {args.think_ms:g} ms (exponential), aiohttp client on uvloop"
    )
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        rounds = runner.run(think.bench(nser.url, args.levels, args.sessions, args.think_ms / 1000))
    think.summary(rounds)
    return not any(r.failures for r in rounds)


def run(args: Run, *, skip_wrk: bool, skip_think: bool, stack: contextlib.ExitStack) -> int:
    """Start the servers on ``stack``, run the parts asked for; the exit status."""
    print(
        f"# NSER USSD benchmark: {os.cpu_count()} CPUs shared by servers, PostgreSQL, Redis, "
        f"wrk and the client; run directory {args.run_dir}"
    )
    database_url = fresh_database(stack)
    redis_url = flushed_redis(stack)
    nser = start_nser(stack, database_url, redis_url, args.run_dir)
    print(f"# nser web on {nser.url}: DATABASE_URL={database_url} REDIS_URL={LOCAL_REDIS}")
    ok = True
    if not skip_wrk:
        anchors = {k: start_anchor(stack, k, database_url, args.run_dir) for k in ("menu", "write")}
        print("# anchors: " + ", ".join(f"{a.name} on {a.url}" for a in anchors.values()))
        measured = wrk_part(nser, anchors, database_url, args)
        print_wrk_tables(measured, args.duration)
        ok = all(a.ok and b.ok for _, a, b in measured)
    if not skip_think:
        ok = think_part(nser, args) and ok
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-wrk", action="store_true", help="no anchors, no wrk runs")
    parser.add_argument("--skip-think", action="store_true", help="no think-time run")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--concurrency", default="200", help="think-time levels, comma-separated")
    parser.add_argument("--sessions", type=int, default=400, help="sessions per think-time round")
    parser.add_argument(
        "--think", type=float, default=3000.0, metavar="MS", help="mean think time in ms (3000)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring for the exit status."""
    ns = parse_args(argv)
    if not ns.skip_wrk and not wrk.available():
        print("install wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    args = Run(
        duration=ns.duration,
        levels=[int(c) for c in ns.concurrency.split(",") if c.strip()],
        sessions=ns.sessions,
        think_ms=ns.think,
        run_dir=Path(tempfile.mkdtemp(prefix="nser_bench_")),
    )
    return guarded(
        lambda stack: run(args, skip_wrk=ns.skip_wrk, skip_think=ns.skip_think, stack=stack),
        overran="the think-time run overran its time bound",
    )


if __name__ == "__main__":
    sys.exit(main())
