"""Enrolling an authenticator app: a QR code drawn in the terminal, confirmed with one code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from backoffice.widgets.chrome import StaffFooter, gettext_of
from backoffice.widgets.qr import QrCode
from backoffice.widgets.text import STORE_DOWN, problem
from core import staff, totp
from core.errors import InvalidInput, SignInRefused
from core.permissions import Principal

if TYPE_CHECKING:
    from backoffice.app import BackofficeApp


class EnrolScreen(Screen[None]):
    """Shows a fresh secret as a QR code (and as text); the first right code enrols it.

    The secret lives only in this screen until core stores it sealed, and is
    drawn only on this staff member's own terminal.
    """

    def __init__(self, principal: Principal) -> None:
        super().__init__()
        self._principal = principal
        self._secret = ""

    def compose(self) -> ComposeResult:
        app: BackofficeApp = self.app  # type: ignore[assignment]
        _ = gettext_of(self)
        self._secret = app.new_secret()
        uri = totp.provisioning_uri(self._secret, username=self._principal.username)
        with Horizontal(id="enrol"):
            yield QrCode(uri, id="qr")
            with Vertical(classes="form"):
                yield Label(_("Set up your authenticator"), classes="heading")
                yield Label(_("Scan the code with an authenticator app, or type this key:"))
                yield Label(totp.grouped(self._secret), id="secret")
                yield Label(_("Then type the 6-digit code it shows:"))
                yield Input(id="code", max_length=7, restrict=r"[0-9 ]*")
                yield Static("", id="status", classes="error", markup=False)
        yield StaffFooter()

    def on_mount(self) -> None:
        code = self.query_one("#code", Input)
        code.cursor_blink = not self.app.is_headless
        code.focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        app: BackofficeApp = self.app  # type: ignore[assignment]
        _ = app.gettext
        status = self.query_one("#status", Static)
        try:
            async with app.core.db() as db:
                await staff.enrol(
                    db,
                    principal=self._principal,
                    keyring=app.core.keyring,
                    secret=self._secret,
                    code=event.value,
                    now=app.core.clock(),
                )
        except InvalidInput:
            status.update(
                "! " + _("That code does not match. Check the phone's time and try again.")
            )
            event.input.value = ""
            return
        except (SignInRefused, *STORE_DOWN) as exc:
            status.update("! " + (problem(exc, _) or ""))
            return
        app.signed_in(self._principal)
