"""Smoke test: ``nser serve`` on a bare configuration (embedded PostgreSQL and Redis)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from nser.dial import dial
from tests.nser.conftest import Nser, bare_environment

PLAIN_FORMS = (b"+254712345678", b"254712345678", b"0712345678", b"712345678")


def _sequenced(env: dict[str, str]) -> int:
    """Leaves in the audit log's latest signed checkpoint (0 before the first)."""
    found = subprocess.run(
        [sys.executable, "-m", "nser", "audit", "checkpoint"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return int(found.stdout.split("\n")[1]) if found.returncode == 0 else 0


def typing(steps: list[str]) -> Callable[[str], str]:
    """A citizen who types ``steps`` one per prompt."""
    script = iter(steps)
    return lambda _prompt: next(script)


def hang_up(prompt: str) -> str:
    raise EOFError


def test_serve_on_embedded_defaults_excludes_and_keeps_no_plain_msisdn(
    tmp_path: Path, run_nser: Callable[..., Nser]
) -> None:
    data_dir = tmp_path / "data"
    env = bare_environment(data_dir)
    server = run_nser(env)
    url, log_path = server.url, server.log
    try:
        server.wait_healthy()
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
        reference = shown[-1].split("\nReference: ")[1].split("\n")[0]
        # A second and a third line join that exclusion by its reference, in both languages.
        for phone, steps, joined in (
            ("+254712345679", ["1", "5", reference.lower()], "Imekamilika. Nambari hii nayo"),
            ("+254712345670", ["2", "5", "2222-2222", reference], "Done. This number is"),
        ):
            shown.clear()
            assert (
                dial(
                    url=url,
                    phone=phone,
                    code="*384*7#",
                    network="63902",
                    read=typing(steps),
                    write=shown.append,
                )
                == 0
            )
            assert shown[-1].startswith(joined), shown
        # The callback URL, as the log prints it, works too (it answered 404).
        shown.clear()
        assert (
            dial(
                url=f"{url}/ussd",
                phone="+254712345678",
                code="*384*7#",
                network="63902",
                read=hang_up,
                write=shown.append,
            )
            == 0
        )
        assert shown == ["Karibu NSER / Welcome to NSER\n1. Kiswahili\n2. English", "[hung up]"]
        # The worker sequences every entry (subject, exclusion, and per joined line the
        # link and its event) and signs a checkpoint.
        server.wait_for(lambda _: _sequenced(env) == 6, seconds=60)
        # Regression: a number in a query string reached the access log in clear.
        probe = httpx.get(f"{url}/ussd", params={"phoneNumber": "+254712345678"}, timeout=5)
        assert probe.status_code == 405
    finally:
        assert server.stop(signal.SIGTERM) == 0

    log_text = log_path.read_bytes()
    assert b"generated development keys" in log_text
    # Said once uvicorn listens (it was said before migrating), and no Alembic chatter.
    assert log_text.index(b"INFO nser.runner: serving on ") > log_text.index(
        b"Application startup complete"
    )
    assert b"Context impl" not in log_text
    assert b"Traceback" not in log_text
    assert b"GET /ussd 405" in log_text  # logged, without its query string
    assert (data_dir / "keys.json").stat().st_mode & 0o777 == 0o600
    verify = subprocess.run(
        [sys.executable, "-m", "nser", "audit", "verify"],
        env=env,
        capture_output=True,
        timeout=90,
    )
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith(b"audit log OK: 6 entries, "), verify.stdout
    # Verifying needs PostgreSQL only: no Redis to start, nor to fail to connect to.
    assert b"Redis" not in verify.stderr

    for path in [log_path, *data_dir.rglob("*")]:
        if path.is_file():
            content = path.read_bytes()
            for form in PLAIN_FORMS:
                assert form not in content, f"{form!r} in {path}"
