"""Choosing one's own password after signing in with a temporary one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from backoffice.screens.enrol import EnrolScreen
from backoffice.widgets.chrome import StaffFooter, gettext_of
from backoffice.widgets.text import STORE_DOWN, problem
from core import passwords, staff
from core.errors import SignInRefused, WeakPassword
from core.permissions import Principal

if TYPE_CHECKING:
    from backoffice.app import BackofficeApp


class PasswordScreen(Screen[None]):
    """New password twice; then the authenticator (:class:`EnrolScreen`)."""

    def __init__(self, principal: Principal, *, current: str) -> None:
        super().__init__()
        self._principal = principal
        self._current = current

    def compose(self) -> ComposeResult:
        _ = gettext_of(self)
        yield Static(_("NSER back-office"), id="topbar")
        with Vertical(classes="form"):
            yield Label(_("Choose your own password"), classes="heading")
            yield Label(
                _("At least {n} characters; a few unrelated words are easy to remember.").format(
                    n=passwords.MIN_LENGTH
                )
            )
            yield Label(_("New password"))
            yield Input(id="new", password=True, max_length=passwords.MAX_LENGTH)
            yield Label(_("The same again"))
            yield Input(id="again", password=True, max_length=passwords.MAX_LENGTH)
        yield Static("", id="status", classes="error", markup=False)
        yield StaffFooter()

    def on_mount(self) -> None:
        if self.app.is_headless:
            for field in self.query(Input):
                field.cursor_blink = False
        self.query_one("#new", Input).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "new":
            self.query_one("#again", Input).focus()
            return
        app: BackofficeApp = self.app  # type: ignore[assignment]
        _ = app.gettext
        status = self.query_one("#status", Static)
        new = self.query_one("#new", Input).value
        if new != self.query_one("#again", Input).value:
            status.update("! " + _("The two passwords differ."))
            return
        try:
            async with app.core.db() as db:
                await staff.change_password(
                    db,
                    principal=self._principal,
                    current=self._current,
                    new=new,
                    now=app.core.clock(),
                )
        except WeakPassword:
            status.update(
                "! "
                + _("Choose at least {n} characters, without your username.").format(
                    n=passwords.MIN_LENGTH
                )
            )
            return
        except (SignInRefused, *STORE_DOWN) as exc:
            status.update("! " + (problem(exc, _) or ""))
            return
        app.switch_screen(EnrolScreen(self._principal))
