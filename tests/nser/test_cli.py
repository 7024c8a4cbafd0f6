"""The ``nser`` command line: refusals in one line, help that shows defaults."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nser.cli import run
from tests.nser.conftest import bare_environment
from tests.support.keys import TEST_AUDIT_SIGNING_KEY, TEST_AUDIT_VERIFIER_KEY

COMMANDS = ("serve", "web", "worker", "migrate", "audit", "keys", "dial", "staff", "backoffice")


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


def test_audit_verify_outside_a_project_refuses_and_creates_nothing(tmp_path: Path) -> None:
    env = bare_environment(tmp_path)
    del env["NSER_DATA_DIR"]  # the default, ./var, relative to where it is run

    result = nser("audit", "verify", env=env, cwd=tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"nser: no register in {tmp_path / 'var'}: ")
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_serve_on_a_taken_port_fails_in_one_line_before_starting_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = nser("serve", "--port", str(port), env=bare_environment(tmp_path / "data"))

    assert result.returncode == 1
    assert result.stderr == f"nser: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert not (tmp_path / "data").exists()


def test_an_invalid_environment_value_is_one_line_naming_the_allowed_values(
    tmp_path: Path,
) -> None:
    result = nser("audit", "verify", env=bare_environment(tmp_path, NSER_ENV="prod"))

    assert result.returncode == 2
    assert result.stderr == (
        "nser: invalid configuration: NSER_ENV: Input should be 'development', 'test' "
        "or 'production' (got 'prod')\n"
    )


AUDIT = (("audit", "verify"), ("audit", "checkpoint"), ("audit", "public-key"))


@pytest.mark.parametrize("command", [(), *((name,) for name in COMMANDS), *AUDIT])
def test_every_option_says_what_it_does_and_its_default(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run([*command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    options = text.split("options:\n", 1)[1]
    # One entry per option: a line starting "  -", then its indented help lines.
    entries = re.split(r"\n(?=  -)", options.strip("\n"))
    for entry in entries:
        if entry.lstrip().startswith("-h, --help"):
            continue
        assert "(default: " in " ".join(entry.split()), entry


def test_serve_help_shows_host_and_port_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--host HOST address to listen on (default: 127.0.0.1)" in text
    assert "--port PORT TCP port to listen on (default: 8000)" in text


def test_audit_verify_has_help_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["audit", "verify", "--help"])
    text = capsys.readouterr().out
    assert text.startswith("usage: nser audit verify [-h] [--against FILE]\n")
    assert "check every stored\ncheckpoint" in text


def test_keys_prints_three_fresh_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["keys", "--origin", "register.example/audit"]) == 0
    names = [line.split("=", 1)[0] for line in capsys.readouterr().out.splitlines()]
    assert names == ["NSER_ENCRYPTION_KEYS", "NSER_INDEX_KEY", "NSER_AUDIT_SIGNING_KEY"]


def test_audit_public_key_needs_no_database(tmp_path: Path) -> None:
    env = bare_environment(tmp_path, NSER_AUDIT_SIGNING_KEY=TEST_AUDIT_SIGNING_KEY)
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
    result = nser("audit", "public-key", env=env)
    assert (result.returncode, result.stdout) == (0, TEST_AUDIT_VERIFIER_KEY + "\n")


def test_production_refuses_to_start_without_an_audit_signing_key(tmp_path: Path) -> None:
    env = bare_environment(tmp_path, NSER_ENV="production")
    result = nser("audit", "public-key", env=env)
    assert result.returncode == 2
    assert "NSER_AUDIT_SIGNING_KEY" in result.stderr
