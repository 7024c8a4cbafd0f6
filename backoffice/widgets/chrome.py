"""The frame of every screen: a title bar naming who is signed in, and a translated footer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from backoffice.widgets.text import role_name
from core.i18n import Gettext


def gettext_of(widget: Widget) -> Gettext:
    """The gettext of the signed-in staff member's language (English before sign-in)."""
    translate = getattr(widget.app, "gettext", None)
    return translate if callable(translate) else str


class TopBar(Static):
    """``NSER back-office · Dashboard · olive (officer)``: where you are and who you are."""

    def __init__(self, title: str) -> None:
        super().__init__(id="topbar", markup=False)
        self._title = title

    def on_mount(self) -> None:
        _ = gettext_of(self)
        principal = getattr(self.app, "principal", None)
        who = f"{principal.username} ({role_name(principal.role, _)})" if principal else ""
        self.update(" · ".join(part for part in (_("NSER back-office"), self._title, who) if part))


class StaffFooter(Footer):
    """Textual's footer, compact, with each key's description in the staff member's language."""

    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)

    def compose(self) -> ComposeResult:
        _ = gettext_of(self)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description:
                widget.description = _(widget.description)
            yield widget
