"""Which processes use the embedded servers of a data dir, so the last one stops them.

Every process using them holds a shared ``flock`` on ``<data dir>/embedded.users``
for as long as it does. The kernel drops that lock when the process ends, however
it ends (``kill -9`` included), so there is no list of pids to go stale. A process
leaving tries to turn its lock exclusive: it succeeds only if nobody else holds
one, and then it is the last user and stops the servers. Starting and stopping
happen under an exclusive lock on ``<data dir>/embedded.lock``, so a process
never starts a server that another is stopping, nor two start one together.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Lease:
    """One process's use of the embedded servers in ``data_dir`` (an existing directory)."""

    def __init__(self, data_dir: Path) -> None:
        self._mutex_path = data_dir / "embedded.lock"
        self._users_path = data_dir / "embedded.users"
        self._users: int | None = None

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the data dir's start/stop lock (blocks while another process holds it)."""
        fd = os.open(self._mutex_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def join(self) -> None:
        """Count this process as a user (idempotent). Call inside :meth:`exclusive`."""
        if self._users is None:
            self._users = os.open(self._users_path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._users, fcntl.LOCK_SH)

    def leave(self) -> bool:
        """Stop counting this process; returns True if no other process is a user.

        Call inside :meth:`exclusive`. Returns True as well when this process
        never joined and nobody else uses the servers (e.g. cleaning up orphans).
        """
        fd = self._users
        self._users = None
        if fd is None:
            fd = os.open(self._users_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            # Converting shared to exclusive may drop our shared lock first; harmless,
            # we are leaving, and the start/stop lock keeps newcomers out meanwhile.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)
        return True
