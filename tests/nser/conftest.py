"""Running ``nser`` as a real process, and making sure nothing it started outlives the test.

Every wait is bounded. A test that fails half-way still kills its ``nser``
processes, and :func:`no_strays` then fails it if a PostgreSQL or Redis server
of its data dir is still running (and kills those too).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from core.embedded.redis_server import server_binary
from tests.support.ports import free_port

#: The environment variables that select embedded servers and development keys when unset.
CONFIGURATION = ("DATABASE_URL", "REDIS_URL", "NSER_ENCRYPTION_KEYS", "NSER_INDEX_KEY", "NSER_ENV")


def bare_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """Our environment minus NSER's configuration, plus ``NSER_DATA_DIR`` and ``extra``."""
    env = {key: value for key, value in os.environ.items() if key not in CONFIGURATION}
    env["NSER_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def processes_mentioning(marker: str) -> dict[int, str]:
    """``{pid: command line}`` of live processes whose command line contains ``marker``.

    Zombies have no command line, so they never match.
    """
    listing = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    found = {}
    for line in listing.splitlines():
        pid, _, args = line.strip().partition(" ")
        if marker in args and int(pid) != os.getpid():
            found[int(pid)] = args
    return found


@pytest.fixture(autouse=True)
def no_strays(tmp_path: Path) -> Iterator[None]:
    """Fail the test if a server started under its ``tmp_path`` still runs at the end."""
    yield
    strays = processes_mentioning(str(tmp_path))
    for pid in strays:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not strays, f"left running: {strays}"


@dataclass
class Nser:
    """One ``nser`` process writing its output to ``log``."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        """Everything it wrote so far (stdout and stderr)."""
        return self.log.read_text(errors="replace")

    def health(self) -> dict[str, Any] | None:
        """The ``/healthz`` JSON, or None if it does not answer within 3 s."""
        try:
            body: dict[str, Any] = httpx.get(f"{self.url}/healthz", timeout=3).json()
        except httpx.TransportError:
            return None
        return body

    def wait_for(
        self, condition: Callable[[dict[str, Any] | None], bool], seconds: float = 90
    ) -> dict[str, Any] | None:
        """Poll ``/healthz`` until ``condition(body)``; fail after ``seconds`` or if it exits."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"nser exited early:\n{self.output()}"
            body = self.health()
            if condition(body):
                return body
            time.sleep(0.2)
        raise AssertionError(f"/healthz never satisfied the test; last: {body}\n{self.output()}")

    def wait_healthy(self, seconds: float = 90) -> dict[str, Any]:
        """Wait until ``/healthz`` says ok (every check, the worker's included, is ok)."""
        body = self.wait_for(lambda body: body is not None and body["status"] == "ok", seconds)
        assert body is not None
        return body

    def stop(self, signum: signal.Signals = signal.SIGTERM, seconds: float = 60) -> int:
        """Send ``signum`` and return the exit code (fails if it takes over ``seconds``)."""
        self.process.send_signal(signum)
        return self.process.wait(timeout=seconds)


@pytest.fixture
def run_nser(tmp_path: Path) -> Iterator[Callable[..., Nser]]:
    """Start ``nser serve`` (or ``command``) on a free port: ``run_nser(env)``.

    Whatever is still running at the end of the test is killed.
    """
    started: list[Nser] = []

    def start(
        env: dict[str, str],
        *,
        command: Sequence[str] | None = None,
        new_session: bool = False,
    ) -> Nser:
        port = free_port()
        log = tmp_path / f"nser-{len(started)}.log"
        argv = command or [sys.executable, "-m", "nser", "serve", "--port", str(port)]
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*argv, *(["--port", str(port)] if command else [])],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=new_session,
            )
        nser = Nser(process, f"http://127.0.0.1:{port}", log)
        started.append(nser)
        return nser

    yield start
    for nser in started:
        if nser.process.poll() is None:
            nser.process.kill()
            nser.process.wait(timeout=30)


class RedisServer:
    """A redis-server of the test's own on 127.0.0.1, which it may stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def client(self) -> redis.Redis:
        """A client with a 2 s timeout on every call."""
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def start(self) -> None:
        """Start it and return once it answers (fails after 20 s)."""
        self.process = subprocess.Popen(
            [server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        with self.client() as client:
            while True:
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    pass
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop it (SIGTERM) and wait for it to exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A running :class:`RedisServer` on a free port, stopped at the end of the test."""
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()
