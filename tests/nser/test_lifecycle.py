"""Starting and stopping ``nser serve``: signals, crashes, and the embedded servers."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from tests.nser.conftest import Nser, RedisServer, bare_environment, processes_mentioning

DEV = Path(__file__).resolve().parents[2] / "dev"


WAITING = "SELECT count(*) FROM pg_locks WHERE relation = 'exclusion'::regclass AND NOT granted"


async def no_waiting(connection: asyncpg.Connection) -> bool:
    return not await connection.fetchval(WAITING)


async def until(condition: Callable[[], Awaitable[object]], server: Nser) -> None:
    """Poll ``condition`` every 0.1 s until true; fail after 60 s or if the server exits."""
    for _ in range(600):
        assert server.process.poll() is None, server.output()
        if await condition():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"waited 60 s in vain:\n{server.output()}")


def pid_in(path: Path) -> int:
    """The pid on the first line of a pid file."""
    return int(path.read_text().split()[0])


async def test_sigterm_while_a_job_is_finishing_exits_0(
    tmp_path: Path,
    database_url: str,
    redis_server: RedisServer,
    run_nser: Callable[..., Nser],
) -> None:
    env = bare_environment(tmp_path / "data", DATABASE_URL=database_url, REDIS_URL=redis_server.url)
    holder = await asyncpg.connect(database_url)
    try:
        # The expiry job that runs at start-up waits on this lock, so we know where it is.
        locked = holder.transaction()
        await locked.start()
        await holder.execute("LOCK TABLE exclusion IN ACCESS EXCLUSIVE MODE")
        server = run_nser(env)
        await until(lambda: holder.fetchval(WAITING), server)
        # Hold Redis writes, then let the job end: ARQ then waits to record its result,
        # where a signal used to make Worker.close() raise CancelledError (exit 1).
        with redis_server.client() as client:
            client.execute_command("CLIENT", "PAUSE", "20000", "WRITE")
        await locked.rollback()
        await until(lambda: no_waiting(holder), server)
        await asyncio.sleep(0.5)  # from the job's COMMIT to ARQ's result write

        code = server.stop(signal.SIGTERM)
    finally:
        await holder.close()
        with redis_server.client() as client:
            client.execute_command("CLIENT", "UNPAUSE")

    output = server.output()
    assert code == 0, output
    assert "INFO arq.worker: shutdown on SIGTERM" in output
    assert "SIGUSR1" not in output
    assert "Traceback" not in output


def test_stop_kills_an_embedded_redis_that_ignores_sigterm(
    tmp_path: Path, database_url: str, run_nser: Callable[..., Nser]
) -> None:
    data_dir = tmp_path / "data"
    server = run_nser(bare_environment(data_dir, DATABASE_URL=database_url))
    server.wait_healthy()
    redis_pid = pid_in(data_dir / "redis" / "redis.pid")
    os.kill(redis_pid, signal.SIGSTOP)  # frozen: SIGTERM stays pending
    try:
        code = server.stop(signal.SIGTERM)
    finally:
        if processes_mentioning(str(data_dir)):
            os.kill(redis_pid, signal.SIGKILL)

    output = server.output()
    assert code == 0, output
    assert f"embedded Redis (pid {redis_pid}) still running 10 s after SIGTERM" in output
    assert "stopped embedded Redis" in output
    assert not processes_mentioning(str(data_dir))


def test_restart_after_kill_9_reattaches_the_servers_and_later_stops_them(
    tmp_path: Path, run_nser: Callable[..., Nser]
) -> None:
    data_dir = tmp_path / "data"
    temp = tmp_path / "temp"
    temp.mkdir()
    env = bare_environment(data_dir, TMPDIR=str(temp))

    crashed = run_nser(env)
    crashed.wait_healthy()
    crashed.process.kill()
    crashed.process.wait(timeout=30)
    postgres_pid = pid_in(data_dir / "postgres" / "postmaster.pid")
    redis_pid = pid_in(data_dir / "redis" / "redis.pid")
    assert {postgres_pid, redis_pid} <= set(processes_mentioning(str(data_dir)))

    restarted = run_nser(env)
    restarted.wait_healthy()
    assert restarted.stop(signal.SIGTERM) == 0
    assert "started embedded PostgreSQL" in crashed.output()
    assert "reattached embedded PostgreSQL" in restarted.output()
    assert "reattached embedded Redis" in restarted.output()
    assert not processes_mentioning(str(data_dir))

    # And every later clean stop stops them again.
    again = run_nser(env)
    again.wait_healthy()
    assert again.stop(signal.SIGTERM) == 0
    assert "started embedded PostgreSQL" in again.output()
    assert not processes_mentioning(str(data_dir))
    assert list(temp.iterdir()) == []  # no temp dirs left behind by any of the three


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_ctrl_c_on_dev_serve_exits_0_quietly(tmp_path: Path, run_nser: Callable[..., Nser]) -> None:
    server = run_nser(
        bare_environment(tmp_path / "data"), command=[str(DEV), "serve"], new_session=True
    )
    server.wait_healthy()
    argv = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().split(b"\0")

    os.killpg(server.process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
    code = server.process.wait(timeout=60)

    output = server.output()
    assert code == 0, output
    assert "Traceback" not in output
    assert "shutdown on SIGINT" in output
    assert output.rstrip().endswith("INFO core.embedded: stopped embedded PostgreSQL")
    # ./dev execs the server: the pid it started is the server's, with no uv in between.
    assert any(arg.endswith(b"/bin/nser") for arg in argv), argv
    assert not any(os.path.basename(arg) == b"uv" for arg in argv), argv
