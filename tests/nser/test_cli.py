"""The ``nser`` command line: refusals in one line, help that shows defaults."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.nser.conftest import bare_environment


def nser(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nser", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_on_a_taken_port_fails_in_one_line_before_starting_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = nser("serve", "--port", str(port), env=bare_environment(tmp_path / "data"))

    assert result.returncode == 1
    assert result.stderr == f"nser: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert not (tmp_path / "data").exists()
