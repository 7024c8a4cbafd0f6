"""``nser backoffice``: the staff application, run as the SSH ``ForceCommand`` of staff accounts.

The process owns its terminal and nothing else: Ctrl+Z (SIGTSTP) is ignored,
so it can never be put in the background of a session that has no shell to
return to, and quitting ends the process, which ends the SSH session.
"""

from __future__ import annotations

import logging
import signal

from backoffice.app import BackofficeApp
from core.services import open_services
from core.settings import Settings


def run_backoffice(settings: Settings) -> int:
    """Run the back-office until the staff member quits; returns the exit code (0)."""
    signal.signal(signal.SIGTSTP, signal.SIG_IGN)
    # The terminal belongs to the application: log lines would be drawn across it.
    logging.getLogger().handlers.clear()
    logging.getLogger().addHandler(logging.NullHandler())
    app = BackofficeApp(open_services=lambda: open_services(settings, pool_size=2))
    app.run()
    return app.return_code or 0
