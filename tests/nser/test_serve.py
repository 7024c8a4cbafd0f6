"""Smoke test: ``nser serve`` on a bare configuration (embedded PostgreSQL and Redis)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from nser.dial import dial

PLAIN_FORMS = (b"+254712345678", b"254712345678", b"0712345678", b"712345678")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bare_environment(data_dir: Path) -> dict[str, str]:
    unset = {"DATABASE_URL", "REDIS_URL", "NSER_ENCRYPTION_KEYS", "NSER_INDEX_KEY", "NSER_ENV"}
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env["NSER_DATA_DIR"] = str(data_dir)
    return env


def wait_healthy(url: str, server: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "nser serve exited early"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("nser serve did not become healthy")


def test_serve_on_embedded_defaults_excludes_and_keeps_no_plain_msisdn(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = bare_environment(data_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "nser", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(url, server)
            answers = iter(["2", "1", "2", "1"])
            shown: list[str] = []
            code = dial(
                url=url,
                phone="+254712345678",
                code="*384*7#",
                network="63902",
                read=lambda _prompt: next(answers),
                write=shown.append,
            )
            assert code == 0
            assert shown[0] == "Karibu NSER / Welcome to NSER\n1. Kiswahili\n2. English"
            assert shown[-1].startswith("Done. You are excluded from betting until ")
            assert "\nReference: " in shown[-1]
        finally:
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=60) == 0

    log_text = log_path.read_bytes()
    assert b"generated development keys" in log_text
    assert (data_dir / "keys.json").stat().st_mode & 0o777 == 0o600
    verify = subprocess.run(
        [sys.executable, "-m", "nser", "audit", "verify"],
        env=env,
        capture_output=True,
        timeout=90,
    )
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout == b"audit chain OK: 2 entries verified\n"

    for path in [log_path, *data_dir.rglob("*")]:
        if path.is_file():
            content = path.read_bytes()
            for form in PLAIN_FORMS:
                assert form not in content, f"{form!r} in {path}"
