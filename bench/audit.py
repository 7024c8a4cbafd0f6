"""Benchmark of the audit log: sequencer throughput, commit-to-checkpoint lag, verify time.

One command, fresh servers, three numbers against their targets:

1. **Writers + worker.** A fresh ``nser_bench_<random>`` database on the
   machine's PostgreSQL, migrated as its owner, used through a service role
   of its own (INSERT/SELECT on the log, as in production); a real
   ``nser worker`` (sequencer every second, checkpoints every 5 s) on Redis
   database ``--redis`` (default 14, flushed). 64 concurrent writers commit
   transactions of two entries each (like a self-exclusion: subject and
   exclusion) for ``--seconds`` (20). Printed: entries committed per second,
   entries the sequencer absorbed per second while they wrote (target
   >= 2,000/s) and the backlog left, then the lag from each commit to the
   first signed checkpoint covering it, p50/p99/max (target p99 <= 10 s).
2. **Drain.** ``--entries`` (1,000,000) entries inserted in bulk, then
   sequenced in-process in batches of 5,000: entries per second.
3. **Verify.** ``nser audit verify`` (the CLI, as scripts run it) over the
   whole log (target < 60 s for 1,000,000 entries).

Run:  .venv/bin/python -m bench.audit [--seconds 20] [--entries 1000000] [--redis URL]

The database and role are dropped and Redis flushed at the end, also on
Ctrl-C or an error. Exit status 0 when the run completed (targets met or
not), 2 when a server could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.servers import NSER, REPO, ServerError, flushed_redis, fresh_database, run_sql
from core.audit import sequencer
from core.audit.notes import NoteSigner
from core.db import create_engine, session_factory
from core.migrate import upgrade
from core.privileges import ensure_login_role, grant_statements

WRITERS = 64
ORIGIN = "bench.nser.invalid/audit"


def _service_role(stack: contextlib.ExitStack) -> tuple[str, str]:
    """A fresh database (owner URL) and its service role's URL; both dropped at the end."""
    holder: list[str] = []

    def drop_role() -> None:
        if holder:
            with contextlib.suppress(Exception):
                run_sql(holder[0], f'DROP ROLE IF EXISTS "{holder[1]}"')

    stack.callback(drop_role)  # registered first: runs after the database is dropped
    owner = fresh_database(stack)
    parsed = make_url(owner)
    role = f"{parsed.database}_svc"
    holder.extend([parsed.set(database="postgres").render_as_string(False), role])
    upgrade(owner)
    ensure_login_role(owner, role)
    for statement in grant_statements(role):
        run_sql(owner, statement)
    return owner, parsed.set(username=role).render_as_string(False)


def _env(service_url: str, redis_url: str, signer: NoteSigner, run_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NSER_", "DATABASE"))}
    keys = subprocess.run(
        [str(NSER), "keys"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    for line in keys.splitlines():
        name, _, value = line.partition("=")
        env[name] = value
    env.update(
        DATABASE_URL=service_url,
        REDIS_URL=redis_url,
        NSER_AUDIT_SIGNING_KEY=signer.encode(),
        NSER_DATA_DIR=str(run_dir),
        NSER_LOG_LEVEL="WARNING",
    )
    return env


_INSERT = (
    "INSERT INTO audit_entry (occurred_at, actor, action, entity) "
    "VALUES (now(), 'citizen:bench', 'subject.created', $1), "
    "(now(), 'citizen:bench', 'exclusion.created', $1)"
)


async def _write(service_url: str, seconds: float) -> dict[str, float]:
    """64 writers for ``seconds``; returns each transaction's key → commit time.

    Each transaction is what a self-exclusion's commit adds for the log: one
    two-row INSERT (sent through asyncpg, so that the client, which shares the
    machine's two cores, is not what limits the rate).
    """
    pool = await asyncpg.create_pool(
        service_url, min_size=WRITERS, max_size=WRITERS, command_timeout=10
    )
    commits: dict[str, float] = {}
    deadline = time.monotonic() + seconds

    async def writer(number: int) -> None:
        n = 0
        async with pool.acquire() as conn:
            while time.monotonic() < deadline:
                key = f"bench:{number}:{n}"
                async with conn.transaction():
                    await conn.execute(_INSERT, key)
                commits[key] = time.time()
                n += 1

    try:
        await asyncio.gather(*(writer(number) for number in range(WRITERS)))
    finally:
        await pool.close()
    return commits


async def _scalar(url: str, sql: str) -> float:
    engine = create_engine(url, pool_size=1, timeout=60)
    try:
        async with engine.connect() as conn:
            return float(await conn.scalar(text(sql)) or 0)
    finally:
        await engine.dispose()


_LAG = """
SELECT e.entity, min(extract(epoch FROM c.signed_at))
FROM audit_entry e JOIN audit_leaf l ON l.entry_id = e.id
JOIN audit_checkpoint c ON c.tree_size > l.leaf_index
WHERE e.action = 'exclusion.created' GROUP BY e.entity
"""


async def _lags(url: str, commits: dict[str, float]) -> list[float]:
    engine = create_engine(url, pool_size=1, timeout=120)
    try:
        async with engine.connect() as conn:
            covered = {row[0]: float(row[1]) for row in await conn.execute(text(_LAG))}
    finally:
        await engine.dispose()
    return [covered[key] - at for key, at in commits.items() if key in covered]


def _wait_drained(url: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        queued = asyncio.run(_scalar(url, "SELECT count(*) FROM audit_unsequenced"))
        signed = asyncio.run(_scalar(url, "SELECT max(tree_size) FROM audit_checkpoint"))
        leaves = asyncio.run(_scalar(url, "SELECT count(*) FROM audit_leaf"))
        if queued == 0 and signed == leaves:
            return
        time.sleep(0.5)


def phase_writers(owner: str, env: dict[str, str], seconds: float, run_dir: Path) -> None:
    """Writers against a real ``nser worker``; prints throughput, backlog and lag."""
    with contextlib.ExitStack() as stack, (run_dir / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [str(NSER), "worker"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )

        def stop() -> None:
            worker.terminate()
            worker.wait(timeout=30)

        stack.callback(stop)
        time.sleep(3)  # the worker connects and signs the first (empty) checkpoint
        before = asyncio.run(_scalar(owner, "SELECT count(*) FROM audit_leaf"))
        started = time.monotonic()
        commits = asyncio.run(_write(env["DATABASE_URL"], seconds))
        elapsed = time.monotonic() - started
        absorbed = asyncio.run(_scalar(owner, "SELECT count(*) FROM audit_leaf")) - before
        backlog = asyncio.run(_scalar(owner, "SELECT count(*) FROM audit_unsequenced"))
        _wait_drained(owner)
    lags = sorted(asyncio.run(_lags(owner, commits)))
    written = 2 * len(commits)
    print(f"writers: {WRITERS} concurrent, {seconds:.0f} s, 2 entries a transaction")
    print(f"  committed   {written / elapsed:9.0f} entries/s ({written} entries)")
    print(
        f"  sequenced   {absorbed / elapsed:9.0f} entries/s while writing "
        f"(target >= 2000), backlog at the end: {backlog:.0f}"
    )
    if lags:
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        print(
            f"  commit -> signed checkpoint: p50 {statistics.median(lags):.2f} s, "
            f"p99 {p99:.2f} s (target <= 10), max {lags[-1]:.2f} s, {len(lags)} covered"
        )


_BULK = """
INSERT INTO audit_entry (occurred_at, actor, action, subject, entity, before, after)
SELECT now(), 'system:bench', 'bench.entry', 'BST-BENCH', 'bench:' || n,
       json_build_object('n', n), json_build_object('n', n + 1)
FROM generate_series({start}, {end}) AS n
"""
BULK_CHUNK = 100_000


async def _drain(service_url: str, signer: NoteSigner) -> tuple[int, float]:
    engine = create_engine(service_url, pool_size=1, timeout=60)
    db = session_factory(engine)
    total = 0
    started = time.monotonic()
    try:
        while True:
            async with db() as session:
                run = await sequencer.sequence(
                    session,
                    signer=signer,
                    now=datetime.now(UTC),
                    every=timedelta(seconds=5),
                )
                await session.commit()
            total += run.added
            if run.ran and run.added < 5000:
                return total, time.monotonic() - started
    finally:
        await engine.dispose()


def phase_verify(owner: str, env: dict[str, str], entries: int, signer: NoteSigner) -> None:
    started = time.monotonic()
    for start in range(1, entries + 1, BULK_CHUNK):  # chunks: each statement stays short
        run_sql(owner, _BULK.format(start=start, end=min(start + BULK_CHUNK - 1, entries)))
    print(f"bulk insert: {entries} entries in {time.monotonic() - started:.1f} s")
    added, seconds = asyncio.run(_drain(env["DATABASE_URL"], signer))
    print(f"drain: sequenced {added} entries in {seconds:.1f} s = {added / seconds:.0f} entries/s")
    started = time.monotonic()
    result = subprocess.run(
        [str(NSER), "audit", "verify"], env=env, capture_output=True, text=True, timeout=900
    )
    took = time.monotonic() - started
    print(f"verify: {result.stdout.strip()} (exit {result.returncode})")
    print(f"  nser audit verify: {took:.1f} s for the whole log (target < 60 s for 1,000,000)")


def main() -> int:
    """Parse the options, run the three phases, print the numbers."""
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="writers' run (s)")
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries to verify")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="Redis database")
    options = parser.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="nser-bench-audit-"))
    print(f"# run directory: {run_dir}")
    signer = NoteSigner.generate(ORIGIN)
    with contextlib.ExitStack() as stack:
        try:
            owner, service = _service_role(stack)
            redis_url = flushed_redis(stack, options.redis)
        except ServerError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        env = _env(service, redis_url, signer, run_dir)
        phase_writers(owner, env, options.seconds, run_dir)
        phase_verify(owner, env, options.entries, signer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
