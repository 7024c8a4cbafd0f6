"""The back-office application: sign-in first, then the screens, each reached by one key.

It runs as the SSH ``ForceCommand`` of staff accounts (``docs/backoffice.md``),
so it must never hand over the terminal: there is no binding, command or
action that starts a program, suspends the process (Ctrl+Z) or opens a browser;
the only file it writes is a CSV report, into the one reports directory
(:mod:`core.reports`); quitting ends the process and with it the SSH session.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from backoffice.screens.audit import AuditScreen
from backoffice.screens.checklist import ChecklistScreen
from backoffice.screens.dashboard import DashboardScreen
from backoffice.screens.detach import DetachScreen
from backoffice.screens.help import HelpScreen
from backoffice.screens.identity import IdentityScreen
from backoffice.screens.lifts import LiftsScreen
from backoffice.screens.login import LoginScreen
from backoffice.screens.operators import OperatorsScreen
from backoffice.screens.reports import ReportsScreen
from backoffice.screens.search import SearchScreen
from backoffice.screens.walkin import WalkInScreen
from core import totp
from core.i18n import N_, Gettext, Language
from core.permissions import Principal
from core.services import Services

#: The screens a signed-in staff member moves between (Textual modes, one stack each).
SCREENS: dict[str, Callable[[], Screen[None]]] = {
    "dashboard": DashboardScreen,
    "search": SearchScreen,
    "lifts": LiftsScreen,
    "audit": AuditScreen,
    "operators": OperatorsScreen,
    "checklist": ChecklistScreen,
    "reports": ReportsScreen,
    "walkin": WalkInScreen,
    "identity": IdentityScreen,
    "detach": DetachScreen,
}


class BackofficeApp(App[int]):
    """NSER's staff application. ``open_services`` is called once the event loop runs.

    ``new_secret`` makes the TOTP secret shown at enrolment (a fixed one in tests).
    """

    CSS_PATH = "backoffice.tcss"
    TITLE = "NSER"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = dict(SCREENS)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", N_("Quit"), priority=True),
        Binding("d", "go('dashboard')", N_("Dashboard")),
        Binding("slash", "go('search')", N_("Search"), key_display="/"),
        Binding("l", "go('lifts')", N_("Lifts")),
        Binding("a", "go('audit')", N_("Audit")),
        Binding("p", "go('operators')", N_("Operators"), show=False),
        Binding("k", "go('checklist')", N_("DSM-5 checklist"), show=False),
        Binding("e", "go('reports')", N_("Reports"), show=False),
        Binding("w", "go('walkin')", N_("Walk-in"), show=False),
        Binding("i", "go('identity')", N_("Identity queue"), show=False),
        Binding("u", "go('detach')", N_("Detach"), show=False),
        Binding("question_mark", "help", N_("Help"), key_display="?"),
    ]

    def __init__(
        self,
        *,
        open_services: Callable[[], Services],
        new_secret: Callable[[], str] = totp.new_secret,
    ) -> None:
        super().__init__()
        self._open_services = open_services
        self.new_secret = new_secret
        self.services: Services | None = None
        self.principal: Principal | None = None
        self.gettext: Gettext = str

    @property
    def core(self) -> Services:
        """The process's services (database, keys, clock)."""
        assert self.services is not None, "services open when the app mounts"
        return self.services

    async def on_mount(self) -> None:
        if not self.is_headless and threading.current_thread() is threading.main_thread():
            # Textual's terminal driver installs a SIGTSTP handler that stops the process;
            # on a ForceCommand session nothing could resume it, so the signal is ignored.
            signal.signal(signal.SIGTSTP, signal.SIG_IGN)
        self.services = self._open_services()
        self.gettext = self.services.catalogues.gettext(Language.ENGLISH)
        await self.push_screen(LoginScreen())

    async def on_unmount(self) -> None:
        if self.services is not None:
            await self.services.close()

    def signed_in(self, principal: Principal) -> None:
        """Begin working as ``principal``, in their language, on the dashboard."""
        self.principal = principal
        self.gettext = self.core.catalogues.gettext(principal.language)
        self.switch_mode("dashboard")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Nothing but signing in (and quitting) before sign-in.
        return not (action in {"go", "help"} and self.principal is None)

    def action_go(self, mode: str) -> None:
        """Show one of :data:`SCREENS`."""
        if mode in SCREENS:
            self.switch_mode(mode)

    def action_help(self) -> None:
        """The keys of this screen and what each role may do."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # What must never happen on a ForceCommand session ------------------------------

    def action_suspend_process(self) -> None:
        """Ctrl+Z does nothing: a suspended back-office would leave the SSH session hanging."""
        self.notify(self.gettext("Suspending is not available here."), severity="warning")

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        """Never start a browser (a text browser on the server would be a way out)."""
        self.notify(self.gettext("Links cannot be opened here."), severity="warning")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette offers the screens, help and quitting; nothing else.

        Textual's own extras (screenshots saved to disk, themes) are left out.
        """
        _ = self.gettext
        if self.principal is not None:
            for mode, title in (
                ("dashboard", _("Dashboard")),
                ("search", _("Search")),
                ("lifts", _("Lifts")),
                ("audit", _("Audit")),
                ("operators", _("Operators")),
                ("checklist", _("DSM-5 checklist")),
                ("reports", _("Reports")),
                ("walkin", _("Walk-in registration")),
                ("identity", _("Identity queue")),
                ("detach", _("Detach a number or ID")),
            ):
                yield SystemCommand(title, _("Show this screen"), lambda m=mode: self.action_go(m))
            yield SystemCommand(_("Help"), _("Keys and roles"), self.action_help)
        yield SystemCommand(_("Quit"), _("Sign out and close the back-office"), self.exit)
