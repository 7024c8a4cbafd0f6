"""``nser operator …``: the scripts' contract (``--json``) and the people's output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.keys import TEST_ENCRYPTION_KEYS, TEST_INDEX_KEY


@pytest.fixture
def operator_cli(database_url: str, tmp_path: Path, services: object) -> Any:
    """Run ``nser operator ARGS`` on the suite's (emptied) database; returns the process."""
    env = dict(os.environ)
    env.update(
        NSER_ENV="test",
        NSER_DATA_DIR=str(tmp_path),
        DATABASE_URL=database_url,
        NSER_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS,
        NSER_INDEX_KEY=TEST_INDEX_KEY,
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nser", "operator", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def test_an_operator_is_added_keyed_rotated_suspended_and_listed(operator_cli: Any) -> None:
    added = operator_cli(
        "add",
        "Bet Kenya",
        "--licence",
        "GRAK-77",
        "--webhook-url",
        "https://hooks.example/nser",
        "--allow",
        "196.201.214.0/24",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    made = json.loads(added.stdout)
    assert made["api_key"].startswith("nser_live_")
    assert made["webhook_secret"].startswith("whsec_")
    op = str(made["operator_id"])
    test_key = json.loads(operator_cli("key-create", op, "--test", "--json").stdout)
    assert test_key["api_key"].startswith("nser_test_")
    assert operator_cli("key-revoke", op, str(made["key_id"]), "--json").returncode == 0
    rotated = json.loads(operator_cli("secret-rotate", op, "--json").stdout)
    assert rotated["webhook_secret"] != made["webhook_secret"]
    assert operator_cli("suspend", op).returncode == 0
    listing = json.loads(operator_cli("list", "--json").stdout)["operators"]
    (only,) = listing
    assert (only["name"], only["status"], only["allow_cidrs"]) == (
        "Bet Kenya",
        "suspended",
        ["196.201.214.0/24"],
    )
    assert [k["mode"] for k in only["keys"]] == ["test"]  # the live key was revoked
    assert test_key["api_key"] not in json.dumps(listing)  # keys are never shown again
    human = operator_cli("list").stdout
    assert "Bet Kenya  licence GRAK-77  suspended  webhook https://hooks.example/nser" in human


def test_refused_changes_say_why_and_exit_1(operator_cli: Any) -> None:
    assert operator_cli("add", "A", "--licence", "L1").returncode == 0
    again = operator_cli("add", "B", "--licence", "L1", "--json")
    assert again.returncode == 1
    assert json.loads(again.stdout) == {"error": "licence L1 is already registered"}
    plain_http = operator_cli(
        "add", "C", "--licence", "L2", "--webhook-url", "http://hooks.example"
    )
    assert plain_http.returncode == 1
    assert "must use https" in plain_http.stdout
    missing = operator_cli("suspend", "999")
    assert (missing.returncode, missing.stdout.strip()) == (
        1,
        "nser operator suspend: no operator 999",
    )
