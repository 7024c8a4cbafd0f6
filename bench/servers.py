"""The benchmark's servers: a fresh database, a flushed Redis, ``nser web`` and the anchors.

Every server is a subprocess on a free port of 127.0.0.1, in its own session
(so a Ctrl-C in the terminal reaches only the benchmark, which then stops them
in order), logging to a file in the run's directory. Each ``start_*`` function
registers its own clean-up on the :class:`contextlib.ExitStack` it is given:
SIGTERM, then SIGKILL after :data:`STOP_SECONDS`; the database is dropped and
the Redis database flushed. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import asyncpg
import httpx
import redis

from bench.wrk import WrkError

#: The machine's PostgreSQL server (no database): the bench creates and drops its own.
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432"
#: The machine's Redis, database 13: flushed before and after the run.
LOCAL_REDIS = "redis://127.0.0.1:6379/13"
NSER = Path(sys.executable).with_name("nser")
REPO = Path(__file__).resolve().parent.parent
STOP_SECONDS = 15.0
READY_SECONDS = 60.0
MIGRATE_SECONDS = 180.0
SQL_SECONDS = 10.0


class ServerError(Exception):
    """A server or store the benchmark needs could not be started or reached."""


@dataclass(frozen=True)
class Server:
    """A server subprocess answering HTTP on ``url``."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- PostgreSQL and Redis ---------------------------------------------------------------------


async def _sql(database_url: str, sql: str) -> object:
    """Run one statement on ``database_url`` and return its first value (bounded in time)."""
    conn = await asyncpg.connect(database_url, timeout=SQL_SECONDS)
    try:
        return await conn.fetchval(sql, timeout=SQL_SECONDS)
    finally:
        await conn.close(timeout=SQL_SECONDS)


def run_sql(database_url: str, sql: str) -> object:
    """Synchronous :func:`_sql`."""
    return asyncio.run(_sql(database_url, sql))


def count_rows(database_url: str, table: str) -> int:
    """``SELECT count(*)`` of ``table`` (a trusted identifier)."""
    value = run_sql(database_url, f'SELECT count(*) FROM "{table}"')
    assert isinstance(value, int)
    return value


def stable_count(database_url: str, table: str, settle: float = 0.5, limit: float = 10.0) -> int:
    """The row count once two reads ``settle`` s apart agree (requests still in flight land)."""
    deadline = time.monotonic() + limit
    last = count_rows(database_url, table)
    while time.monotonic() < deadline:
        time.sleep(settle)
        now = count_rows(database_url, table)
        if now == last:
            return now
        last = now
    return last


def fresh_database(stack: contextlib.ExitStack) -> str:
    """Create ``nser_bench_<random>`` on :data:`LOCAL_PG`; dropped when ``stack`` closes.

    Raises:
        ServerError: PostgreSQL does not answer or refuses.
    """
    name = f"nser_bench_{secrets.token_hex(4)}"
    try:
        run_sql(f"{LOCAL_PG}/postgres", f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise ServerError(f"no PostgreSQL at {LOCAL_PG}: {type(exc).__name__}: {exc}") from exc

    def drop() -> None:
        with contextlib.suppress(OSError, asyncpg.PostgresError, TimeoutError):
            run_sql(f"{LOCAL_PG}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"# dropped database {name}")

    stack.callback(drop)
    return f"{LOCAL_PG}/{name}"


def _flush_redis(url: str = LOCAL_REDIS) -> None:
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def flushed_redis(stack: contextlib.ExitStack, url: str = LOCAL_REDIS) -> str:
    """Flush the Redis database ``url`` now and again when ``stack`` closes.

    Raises:
        ServerError: Redis does not answer.
    """
    try:
        _flush_redis(url)
    except redis.RedisError as exc:
        raise ServerError(f"no Redis at {url}: {type(exc).__name__}: {exc}") from exc

    def flush() -> None:
        with contextlib.suppress(redis.RedisError):
            _flush_redis(url)

    stack.callback(flush)
    return url


# --- subprocesses -----------------------------------------------------------------------------


def stop(server: Server) -> None:
    """SIGTERM, then SIGKILL after :data:`STOP_SECONDS`."""
    proc = server.process
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_SECONDS)
    print(f"# {server.name} stopped (exit {proc.returncode}); log: {server.log_path}")


def _wait_ready(server: Server, timeout: float = READY_SECONDS) -> None:
    """Wait until ``GET /healthz`` answers 200.

    Raises:
        ServerError: the process exited or did not answer in time.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log_path.read_text(errors="replace")[-2000:]
            raise ServerError(f"{server.name} exited with {server.process.returncode}:\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise ServerError(f"{server.name} not ready after {timeout:.0f} s (log: {server.log_path})")


def spawn(
    stack: contextlib.ExitStack, name: str, argv: list[str], env: dict[str, str], run_dir: Path
) -> Server:
    """Start ``argv`` (which must serve on the port it was given), wait until it is ready.

    ``argv``'s last element is the port. The server is stopped when ``stack`` closes.

    Raises:
        ServerError: see :func:`_wait_ready`.
    """
    log_path = run_dir / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            argv, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, f"http://127.0.0.1:{argv[-1]}", process, log_path)
    stack.callback(stop, server)
    _wait_ready(server)
    return server


def start_anchor(
    stack: contextlib.ExitStack, kind: str, database_url: str, run_dir: Path
) -> Server:
    """Start the ``menu``, ``write`` or ``json`` anchor of :mod:`bench.anchors`."""
    env = dict(os.environ, BENCH_ANCHOR_DATABASE_URL=database_url)
    argv = [sys.executable, "-m", "bench.anchors", kind, "--port", str(free_port())]
    return spawn(stack, f"{kind}-anchor", argv, env, run_dir)


def _nser_keys() -> dict[str, str]:
    """Fresh ``NSER_ENCRYPTION_KEYS`` and ``NSER_INDEX_KEY`` from ``nser keys``."""
    out = subprocess.run(
        [str(NSER), "keys"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    keys = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {k: keys[k] for k in ("NSER_ENCRYPTION_KEYS", "NSER_INDEX_KEY")}


def nser_env(
    database_url: str, redis_url: str, run_dir: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """``nser migrate`` on ``database_url``; the environment every ``nser`` command then gets.

    Fixed keys from ``nser keys``, the two URLs, ``NSER_LOG_LEVEL=WARNING`` and
    ``extra``; ``NSER_*`` variables of the calling shell are not passed on.

    Raises:
        ServerError: ``nser keys`` or ``nser migrate`` failed.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSER_")}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, NSER_DATA_DIR=str(run_dir))
    # The anchors log nothing per request; so that the comparison is like for like, neither
    # does nser (its nser.access line costs about as much as a menu step's Redis read).
    env.update(NSER_LOG_LEVEL="WARNING", **(extra or {}))
    try:
        env.update(_nser_keys())
        with open(run_dir / "nser-migrate.log", "wb") as log:
            subprocess.run(
                [str(NSER), "migrate"],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=MIGRATE_SECONDS,
            )
    except (subprocess.SubprocessError, OSError, KeyError) as exc:
        raise ServerError(f"nser keys/migrate failed: {exc} (logs in {run_dir})") from exc
    return env


def nser_command(env: dict[str, str], args: list[str]) -> str:
    """Run ``nser <args>`` with ``env`` and return what it printed.

    Raises:
        ServerError: it failed or took more than 60 s.
    """
    try:
        done = subprocess.run(
            [str(NSER), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise ServerError(f"nser {' '.join(args[:2])} failed: {exc}") from exc
    if done.returncode != 0:
        raise ServerError(f"nser {' '.join(args[:2])} exited {done.returncode}: {done.stderr}")
    return done.stdout


def start_web(
    stack: contextlib.ExitStack,
    env: dict[str, str],
    run_dir: Path,
    name: str = "nser-web",
    *,
    command: str = "web",
) -> Server:
    """``nser <command>`` (``web`` or ``serve``) on a free port with ``env``, once healthy.

    Raises:
        ServerError: the server did not become healthy.
    """
    argv = [str(NSER), command, "--host", "127.0.0.1", "--port", str(free_port())]
    return spawn(stack, name, argv, env, run_dir)


def start_nser(
    stack: contextlib.ExitStack,
    database_url: str,
    redis_url: str,
    run_dir: Path,
    *,
    command: str = "web",
    extra_env: dict[str, str] | None = None,
) -> Server:
    """``nser migrate``, then ``nser <command>`` on a free port, with fixed keys.

    ``extra_env`` adds settings (e.g. the SMS gateway's).

    Raises:
        ServerError: a command failed or the server did not become healthy.
    """
    env = nser_env(database_url, redis_url, run_dir, extra_env)
    return start_web(stack, env, run_dir, f"nser-{command}", command=command)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def guarded(body: Callable[[contextlib.ExitStack], int], *, overran: str) -> int:
    """Run ``body(stack)``; whatever happens, close ``stack`` (stop servers, drop databases).

    SIGTERM counts as Ctrl-C; the clean-up, being bounded, is not interrupted.
    Returns ``body``'s exit status, or 2 after a :class:`ServerError` or
    :class:`bench.wrk.WrkError`, 1 after a ``TimeoutError`` (printing ``overran``),
    130 when interrupted.
    """
    signal.signal(signal.SIGTERM, _terminate)
    stack = contextlib.ExitStack()
    try:
        return body(stack)
    except (ServerError, WrkError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except TimeoutError:
        print(f"bench: {overran}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbench: interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.close()
