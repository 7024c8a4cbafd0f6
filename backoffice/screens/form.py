"""A small modal form: a question, a few fields, Enter to confirm and Escape to cancel."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from backoffice.widgets.chrome import gettext_of
from core.i18n import N_


class FormScreen(ModalScreen[dict[str, str] | None]):
    """Asks ``title``, with ``fields`` as ``(id, label)``; dismissed with the values or ``None``.

    With no fields it is a yes/no question: Enter (or ``y``) confirms.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel")),
        Binding("y", "confirm", N_("Confirm"), show=False),
    ]

    def __init__(self, title: str, fields: list[tuple[str, str]], *, note: str = "") -> None:
        super().__init__()
        self._title = title
        self._fields = fields
        self._note = note

    def compose(self) -> ComposeResult:
        _ = gettext_of(self)
        with Vertical(id="form", classes="form"):
            yield Label(self._title, classes="heading")
            if self._note:
                yield Label(self._note)
            for field_id, label in self._fields:
                yield Label(label)
                yield Input(id=field_id, max_length=500)
            yield Label(_("Enter to confirm, Esc to cancel"), classes="hint")

    def on_mount(self) -> None:
        inputs = list(self.query(Input))
        for field in inputs:
            field.cursor_blink = not self.app.is_headless
        if inputs:
            inputs[0].focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        position = inputs.index(event.input)
        if position + 1 < len(inputs):
            inputs[position + 1].focus()
        else:
            self.action_confirm()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key == "enter" and not self._fields:
            self.action_confirm()

    def action_confirm(self) -> None:
        """Dismiss with the values typed."""
        self.dismiss({field.id or "": field.value for field in self.query(Input)})

    def action_cancel(self) -> None:
        """Dismiss with nothing."""
        self.dismiss(None)
