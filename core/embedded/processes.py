"""The server processes behind the embedded databases: alive or not, and stopping them.

A server may be this process's child or an orphan adopted from a process that
died (``kill -9``); both are stopped the same way, with every wait bounded.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: How long after SIGKILL to wait for the kernel to take a process away (seconds).
KILL_WAIT = 5.0


def alive(pid: int) -> bool:
    """Whether process ``pid`` is running.

    A zombie (exited, waiting for its parent to reap it) counts as gone: an
    orphaned server that exits becomes one for good where PID 1 does not reap.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    try:
        # /proc/<pid>/stat: "pid (comm) state ...", and comm may contain spaces.
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): launchd reaps orphans, so kill(0) is the answer
    return state not in {"Z", "X"}


def command_line(pid: int) -> str:
    """The command line of ``pid`` (arguments joined by spaces), or ``""`` if unknown."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            return subprocess.run(  # noqa: S603 - fixed arguments
                ["ps", "-ww", "-o", "command=", "-p", str(pid)],  # noqa: S607 - ps from PATH, macOS
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


@dataclass
class ServerProcess:
    """A running server: its pid, and its :class:`subprocess.Popen` when it is our child."""

    pid: int
    name: str
    child: subprocess.Popen[bytes] | None = None

    def running(self) -> bool:
        """Whether the server process is still there (reaping it if it is our child)."""
        if self.child is not None:
            return self.child.poll() is None
        return alive(self.pid)

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the process to end; returns whether it did."""
        deadline = time.monotonic() + seconds
        while self.running():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self, steps: Sequence[tuple[signal.Signals, float]]) -> bool:
        """Send each ``(signal, seconds)`` in turn until the process ends, then SIGKILL.

        Returns whether it ended before SIGKILL was needed. Never waits longer
        than the sum of the steps' seconds plus :data:`KILL_WAIT`.
        """
        for signum, seconds in steps:
            if not self._send(signum):
                return True
            if self.wait(seconds):
                return True
            log.warning(
                "%s (pid %d) still running %.0f s after %s",
                self.name,
                self.pid,
                seconds,
                signum.name,
            )
        if self._send(signal.SIGKILL) and not self.wait(KILL_WAIT):
            log.error("%s (pid %d) survived SIGKILL", self.name, self.pid)
        return False

    def _send(self, signum: signal.Signals) -> bool:
        """Send ``signum``; returns False when there is no process to send it to."""
        if not self.running():
            return False
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            return False
        return True
