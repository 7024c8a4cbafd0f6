"""Signing in: username, password and the authenticator's code (empty at the first sign-in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from backoffice.screens.enrol import EnrolScreen
from backoffice.screens.password import PasswordScreen
from backoffice.widgets.chrome import StaffFooter, gettext_of
from backoffice.widgets.text import STORE_DOWN, when
from core import staff
from core.errors import AccountLocked, SignInRefused

if TYPE_CHECKING:
    from backoffice.app import BackofficeApp


class LoginScreen(Screen[None]):
    """The first screen. A wrong answer says only that something was wrong."""

    def compose(self) -> ComposeResult:
        _ = gettext_of(self)
        yield Static(_("NSER back-office"), id="topbar")
        with Vertical(id="login", classes="form"):
            yield Label(_("Sign in"), classes="heading")
            yield Label(_("Username"))
            yield Input(id="username", max_length=24)
            yield Label(_("Password"))
            yield Input(id="password", password=True, max_length=128)
            yield Label(_("Code from your authenticator app (empty at your first sign-in)"))
            yield Input(id="code", max_length=7, restrict=r"[0-9 ]*")
        yield Static("", id="status", markup=False)
        yield StaffFooter()

    def on_mount(self) -> None:
        if self.app.is_headless:
            for field in self.query(Input):
                field.cursor_blink = False
        self.query_one("#username", Input).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        following = {"username": "#password", "password": "#code"}
        if event.input.id in following and not (
            event.input.id == "password" and self.query_one("#code", Input).value
        ):
            self.query_one(following[event.input.id], Input).focus()
            return
        await self.sign_in()

    def _say(self, text: str) -> None:
        status = self.query_one("#status", Static)
        status.set_class(True, "error")
        status.update("! " + text)

    async def sign_in(self) -> None:
        """Check the three fields with core; go on to set-up or to the dashboard."""
        app: BackofficeApp = self.app  # type: ignore[assignment]
        _ = app.gettext
        username = self.query_one("#username", Input).value
        password = self.query_one("#password", Input).value
        code = self.query_one("#code", Input)
        try:
            async with app.core.db() as db:
                signed = await staff.sign_in(
                    db,
                    keyring=app.core.keyring,
                    username=username,
                    password=password,
                    code=code.value,
                    now=app.core.clock(),
                )
        except AccountLocked as locked:
            self._say(
                _("Too many failed attempts: locked until {time}.").format(time=when(locked.until))
            )
            return
        except SignInRefused:
            self._say(_("Wrong username, password or code."))
            self.query_one("#password", Input).value = ""
            code.value = ""
            self.query_one("#password", Input).focus()
            return
        except STORE_DOWN:
            self._say(_("The database is not answering. Nothing was changed; try again shortly."))
            return
        if signed.must_change_password:
            app.push_screen(PasswordScreen(signed.principal, current=password))
        elif signed.must_enrol:
            app.push_screen(EnrolScreen(signed.principal))
        else:
            app.signed_in(signed.principal)
