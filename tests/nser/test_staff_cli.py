"""``nser staff``: accounts made, listed, reset and disabled from the server's shell, audited."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys

from core.services import Services
from core.settings import Settings
from tests.support.databases import RowFetcher
from tests.support.keys import TEST_ENCRYPTION_KEYS, TEST_INDEX_KEY


def staff(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "NSER_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
        "NSER_INDEX_KEY": TEST_INDEX_KEY,
        "NSER_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "nser", "staff", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_add_list_reset_disable(
    services: Services, settings: Settings, rows: RowFetcher
) -> None:
    added = staff(settings, "add", "Olive", "--role", "officer")
    assert added.returncode == 0, added.stderr
    lines = added.stdout.splitlines()
    assert lines[0] == "staff account olive: created as officer"
    assert lines[1].startswith("temporary password (shown once, valid 24 hours): ")
    temporary = lines[1].rsplit(" ", 1)[1]
    assert len(temporary) == 19

    listed = staff(settings, "list")
    assert listed.stdout.split() == ["olive", "officer", "active", "not", "set", "up"]

    again = staff(settings, "add", "olive", "--role", "viewer")
    assert (again.returncode, again.stderr) == (2, "nser: username 'olive' is taken\n")
    reset = staff(settings, "reset", "olive")
    assert reset.stdout.splitlines()[0] == "staff account olive: reset"
    assert reset.stdout.splitlines()[1].rsplit(" ", 1)[1] != temporary
    assert staff(settings, "disable", "olive").stdout == "staff account olive disabled\n"
    missing = staff(settings, "disable", "nobody")
    assert (missing.returncode, missing.stderr) == (2, "nser: no staff account 'nobody'\n")

    actor = f"cli:{getpass.getuser()}"
    assert [(e["actor"], e["action"]) for e in await rows("audit_entry")] == [
        (actor, "staff.created"),
        (actor, "staff.reset"),
        (actor, "staff.disabled"),
    ]
    [account] = await rows("staff_account")
    assert account["status"] == "disabled"
