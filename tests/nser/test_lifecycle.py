"""Starting and stopping ``nser serve``: signals, crashes, and the embedded servers."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from tests.nser.conftest import Nser, bare_environment, processes_mentioning


def pid_in(path: Path) -> int:
    """The pid on the first line of a pid file."""
    return int(path.read_text().split()[0])


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
