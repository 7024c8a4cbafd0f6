"""Benchmark of the operator API (``/v1``) of ``nser web`` on a register of a million people.

One command, one fresh set of servers (see bench/README.md for every detail):

1. a fresh ``nser_bench_<random>`` database on the machine's PostgreSQL, a
   flushed Redis database, ``nser migrate``, two operators made with
   ``nser operator add --json``, and the synthetic register loaded straight
   into PostgreSQL (:mod:`bench.loader`): ``--subjects`` people, and
   ``--small`` people into a second database of their own, with the time each
   load took;
2. lookups (:mod:`bench.lookups`): ``--repeat`` rounds of wrk on
   ``POST /v1/lookups``: the JSON anchor, ``nser web`` on the small register,
   ``nser web`` on the full one (all three served meanwhile, so each round sees
   the same machine); every answer checked; then a sample checked exactly
   through httpx;
3. a py-spy profile of ``nser web`` during one more wrk run (:mod:`bench.profile`);
4. batches of 1,000, one at a time, every item checked;
5. freshness (:mod:`bench.freshness`): with every web process under wrk load,
   the time from a committed exclusion to each process saying excluded;
6. onboarding (:mod:`bench.bulk`): ``--bulk`` subscriptions for one operator.

Run:  .venv/bin/python -m bench.operators [--subjects N] [--duration S] [--repeat R]
      [--webs W] [--redis-url URL] [--skip-lookups] [--skip-profile] [--skip-batch]
      [--skip-freshness] [--skip-bulk]

Exit status: 0 when every answer was correct (targets met or not), 1 when some
were not, 2 when wrk is missing or a server could not be started, 130 when
interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import bulk, costs, freshness, loader, lookups, profile, report, wrk
from bench.servers import (
    LOCAL_REDIS,
    Server,
    count_rows,
    flushed_redis,
    fresh_database,
    guarded,
    nser_command,
    nser_env,
    start_anchor,
    start_web,
    stop,
)

WARMUP_SECONDS = 2
PARTS = ("costs", "lookups", "profile", "batch", "freshness", "bulk")
BODIES = 100_000
#: Limits out of the way: the bench measures the lookup, not the rate limiter or sweep stop.
BENCH_ENV = {"NSER_API_RATE": "1000000000", "NSER_API_DAILY_DISTINCT": "1000000000000"}


@dataclass(frozen=True)
class Run:
    """What this invocation was asked to do, and where it keeps its files."""

    subjects: int
    small: int
    duration: int
    repeat: int
    webs: int
    rounds: int
    bulk: int
    callers: int
    loaders: int
    skip: frozenset[str]
    run_dir: Path


def add_operator(env: dict[str, str], name: str, licence: str) -> str:
    """``nser operator add NAME --licence L --json``; returns its first (live) API key."""
    out = nser_command(env, ["operator", "add", name, "--licence", licence, "--json"])
    return str(json.loads(out)["api_key"])


@dataclass(frozen=True)
class Target:
    """A web process to drive lookups at: the register size it serves and an API key."""

    web: Server
    subjects: int
    key: str


def compare(anchor: Server, targets: list[Target], args: Run) -> list[report.Lookups]:
    """Warm all up, then ``args.repeat`` rounds: the anchor, then each target, by wrk."""
    scripts, measured = [], []
    for t in targets:
        bodies = args.run_dir / f"bodies_{t.subjects}.txt"
        share = lookups.write_bodies(bodies, t.subjects, BODIES)
        name = f"lookups_{t.subjects}"
        scripts.append(lookups.write_script(args.run_dir, name, bodies, t.key, strict=True))
        measured.append(report.Lookups(t.subjects, share))
    loose = lookups.write_script(args.run_dir, "lookups_anchor", bodies, "-", strict=False)
    plan = [(anchor, loose), *((t.web, s) for t, s in zip(targets, scripts, strict=True))]
    for server, script in [*plan, plan[0]]:
        _wrk(server, script, "warmup", WARMUP_SECONDS, args)
    for n in range(args.repeat):
        a = _wrk(anchor, loose, f"{n}", args.duration, args)
        for t, script, m in zip(targets, scripts, measured, strict=True):
            m.runs.append((a, _wrk(t.web, script, f"{t.subjects}_{n}", args.duration, args)))
    return measured


def _wrk(server: Server, script: Path, tag: str, duration: int, args: Run) -> wrk.WrkResult:
    return wrk.run(
        server.url,
        script,
        target=server.name,
        scenario="lookup",
        duration=duration,
        log_path=args.run_dir / f"wrk_{tag}_{server.name}.txt",
        path="/v1/lookups",
    )


def profile_part(anchor: Server, web: Server, subjects: int, args: Run) -> None:
    """py-spy on the anchor, then on ``web``, each while wrk drives lookups at it."""
    strict = args.run_dir / f"wrk_lookups_{subjects}.lua"
    loose = args.run_dir / "wrk_lookups_anchor.lua"
    for server, script in ((anchor, loose), (web, strict)):
        raw = args.run_dir / f"pyspy_{server.name}.txt"
        spy = profile.start(server.process.pid, args.duration, raw)
        result = _wrk(server, script, "profile", args.duration, args)
        _, err = spy.communicate(timeout=args.duration + 60)
        if spy.returncode != 0 or not raw.exists():
            print(f"# py-spy failed ({spy.returncode}): {err.decode(errors='replace')[-500:]}")
            return
        print(f"\n# {server.name} under py-spy: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms")
        profile.print_profile(profile.summarise(raw), server.name)


def freshness_part(
    webs: list[Server], key: str, database_url: str, env: dict[str, str], args: Run
) -> freshness.Lags:
    """Freshness rounds with a wrk of 32 connections on every web process meanwhile."""
    script = args.run_dir / f"wrk_lookups_{args.subjects}.lua"
    if not script.exists():  # the lookups part was skipped
        bodies = args.run_dir / f"bodies_{args.subjects}.txt"
        lookups.write_bodies(bodies, args.subjects, BODIES)
        script = lookups.write_script(args.run_dir, "lookups_freshness", bodies, key, strict=True)
    seconds = int(args.rounds * 1.0) + 10
    load = [
        wrk.start(web.url, script, duration=seconds, path="/v1/lookups", threads=1, connections=32)
        for web in webs
    ]
    try:
        lags = asyncio.run(freshness.measure(webs, key, database_url, env, args.rounds))
    finally:
        for web, proc in zip(webs, load, strict=True):
            result = wrk.wait(
                proc,
                target=web.name,
                scenario="lookup",
                duration=seconds,
                log_path=args.run_dir / f"wrk_freshness_{web.name}.txt",
            )
            print(f"# background load on {web.name}: {result.rps:.0f} req/s, clean={result.clean}")
    return lags


def run(args: Run, redis_url: str, stack: contextlib.ExitStack) -> int:
    """Start the servers on ``stack``, run the parts asked for; the exit status."""
    print(
        f"# NSER operator API benchmark: {os.cpu_count()} CPUs shared by servers, PostgreSQL, "
        f"Redis, wrk and the client; run directory {args.run_dir}"
    )
    database_url = fresh_database(stack)
    flushed_redis(stack, redis_url)
    env = nser_env(database_url, redis_url, args.run_dir, BENCH_ENV)
    key = add_operator(env, "Bench Lookups Ltd", "GRAK-BENCH-1")
    bulk_key = add_operator(env, "Bench Onboarding Ltd", "GRAK-BENCH-2")
    print(f"# DATABASE_URL={database_url} REDIS_URL={redis_url}")
    if "costs" not in args.skip:
        costs.print_costs(costs.measure())
    outcome = report.Outcome()
    targets = []
    small = min(args.small, args.subjects)
    if "lookups" not in args.skip and small < args.subjects:
        # The small register in a database of its own, served meanwhile, so that both
        # sizes are measured in the same rounds (the machine's load changes by the minute).
        small_url = fresh_database(stack)
        small_env = nser_env(small_url, redis_url, args.run_dir, BENCH_ENV)
        small_key = add_operator(small_env, "Bench Small Ltd", "GRAK-BENCH-3")
        outcome.loads.append(loader.load(small_url, small_env, 0, small, args.loaders))
        small_web = start_web(stack, small_env, args.run_dir, "nser-web-small")
        targets.append(Target(small_web, small, small_key))
    outcome.loads.append(loader.load(database_url, env, 0, args.subjects, args.loaders))
    report.print_loads(outcome.loads)
    webs = [start_web(stack, env, args.run_dir, f"nser-web-{n + 1}") for n in range(args.webs)]
    print("# " + ", ".join(f"{w.name} on {w.url} (pid {w.process.pid})" for w in webs))
    if "lookups" not in args.skip:
        anchor = start_anchor(stack, "json", database_url, args.run_dir)
        targets.append(Target(webs[0], args.subjects, key))
        outcome.lookups = compare(anchor, targets, args)
        for t in targets[:-1]:
            stop(t.web)
        outcome.sample_wrong = lookups.verify_sample(webs[0].url, key, args.subjects)
        report.print_lookups(outcome.lookups, args.duration)
        report.print_sample(outcome.sample_wrong)
        if "profile" not in args.skip and profile.available():
            profile_part(anchor, webs[0], args.subjects, args)
    if "batch" not in args.skip:
        outcome.batch = lookups.batch_latency(webs[0].url, key, args.subjects)
        report.print_batch(outcome.batch)
    if "freshness" not in args.skip:
        outcome.lags = freshness_part(webs, key, database_url, env, args)
        report.print_freshness(outcome.lags)
    if "bulk" not in args.skip and args.bulk:
        outcome.bulk = asyncio.run(
            bulk.load(webs, bulk_key, args.bulk, args.subjects, args.callers)
        )
        outcome.bulk_rows = count_rows(database_url, "operator_subscription")
        report.print_bulk(outcome.bulk, outcome.bulk_rows, args.bulk)
    return 0 if outcome.correct else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--subjects", type=int, default=1_000_000, help="people in the register (1,000,000)")
    add("--small", type=int, default=10_000, help="the small register, loaded first (10,000)")
    add("--duration", type=int, default=10, help="seconds per wrk run (10)")
    add("--repeat", type=int, default=2, help="wrk runs per server and register size (2)")
    add("--webs", type=int, default=2, help="nser web processes (2)")
    add("--rounds", type=int, default=20, help="freshness rounds (20)")
    add("--bulk", type=int, default=1_000_000, help="subscriptions to load in bulk (1,000,000)")
    add("--callers", type=int, default=4, help="concurrent bulk callers (4)")
    add("--loaders", type=int, default=0, help="loader processes (0 = one per CPU)")
    add("--redis-url", default=LOCAL_REDIS, help=f"Redis database, flushed ({LOCAL_REDIS})")
    for part in PARTS:
        add(f"--skip-{part}", action="store_true", help=f"no {part} part")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring for the exit status."""
    ns = parse_args(argv)
    if not ns.skip_lookups and not wrk.available():
        print("install wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    skip = frozenset(p for p in PARTS if getattr(ns, f"skip_{p}"))
    args = Run(
        subjects=ns.subjects,
        small=ns.small,
        duration=ns.duration,
        repeat=ns.repeat,
        webs=ns.webs,
        rounds=ns.rounds,
        bulk=ns.bulk,
        callers=ns.callers,
        loaders=ns.loaders,
        skip=skip,
        run_dir=Path(tempfile.mkdtemp(prefix="nser_bench_")),
    )
    return guarded(
        lambda stack: run(args, ns.redis_url, stack),
        overran="a part overran its time bound",
    )


if __name__ == "__main__":
    sys.exit(main())
