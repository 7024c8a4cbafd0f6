"""The back-office is an SSH ForceCommand: it must not be left for a shell.

No key, action or palette command starts a program, suspends the process or
opens a browser; quitting ends the process (and so the SSH session).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from textual.command import CommandPalette

from backoffice.app import SCREENS, BackofficeApp
from core.models import Role
from core.services import Services
from core.settings import Settings
from tests.backoffice.conftest import SIZE, AppFactory, settle, sign_in
from tests.support.clock import Clock
from tests.support.keys import TEST_ENCRYPTION_KEYS, TEST_INDEX_KEY
from tests.support.staff import member

#: Textual actions that leave the application, save files, or hand over the terminal.
WAYS_OUT = {"suspend_process", "screenshot", "command_palette_shell", "change_theme"}


def every_binding() -> list[tuple[str, str]]:
    """(key, action) of every binding declared by the app and its screens."""
    from backoffice.screens.enrol import EnrolScreen
    from backoffice.screens.form import FormScreen
    from backoffice.screens.help import HelpScreen
    from backoffice.screens.login import LoginScreen
    from backoffice.screens.password import PasswordScreen

    owners = [
        BackofficeApp,
        *SCREENS.values(),
        LoginScreen,
        PasswordScreen,
        EnrolScreen,
        FormScreen,
        HelpScreen,
    ]
    found = []
    for owner in owners:
        for binding in getattr(owner, "BINDINGS", []):
            found.append((binding.key, binding.action))
    return found


def test_no_binding_leads_out() -> None:
    actions = {action.split("(")[0].removeprefix("app.") for _, action in every_binding()}
    assert actions & WAYS_OUT == set()
    assert "ctrl+z" not in {key for key, _ in every_binding()}


async def test_ctrl_z_the_palette_and_links_keep_the_staff_member_inside(
    services: Services, make_app: AppFactory, clock: Clock
) -> None:
    vera = await member(services, "vera", Role.VIEWER)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, vera, clock)
        await pilot.press("ctrl+z")
        app.action_suspend_process()  # as if a binding reached it
        app.open_url("file:///bin/sh")
        await settle(pilot)
        assert app.is_running
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles == [
            "Dashboard",
            "Search",
            "Lifts",
            "Audit",
            "Operators",
            "DSM-5 checklist",
            "Reports",
            "Walk-in registration",
            "Identity queue",
            "Detach a number or ID",
            "Help",
            "Quit",
        ]
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"shell", "enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert app.return_code == 0


def read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{marker!r} not shown; got {seen[-400:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_the_real_process_ignores_ctrl_z_and_sigtstp_and_ends_on_quit(
    settings: Settings, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "NSER_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEYS,
        "NSER_INDEX_KEY": TEST_INDEX_KEY,
        "NSER_DATA_DIR": str(tmp_path),
        "TERM": "xterm-256color",
    }
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "nser", "backoffice"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=True,
    )
    os.close(follower)
    try:
        read_until(leader, b"Username", timeout=30)
        os.write(leader, b"\x1a")  # Ctrl+Z typed
        process.send_signal(signal.SIGTSTP)  # and the signal itself
        time.sleep(0.5)
        assert process.poll() is None
        status = Path(f"/proc/{process.pid}/stat").read_text().split()[2]
        assert status != "T", "stopped"
        os.write(leader, b"\x11")  # Ctrl+Q
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        os.close(leader)
