"""The person at the desk: their phone number and language, in one row (``#person``)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input

from backoffice.widgets.chrome import gettext_of
from core.i18n import LANGUAGES, Language


class PersonFields(Horizontal):
    """``#phone`` (as typed; core checks it) and ``#language`` (``sw`` unless changed)."""

    def __init__(self) -> None:
        super().__init__(id="person")

    def compose(self) -> ComposeResult:
        _ = gettext_of(self)
        yield Input(id="phone", placeholder=_("The person's phone number"), max_length=20)
        yield Input(value=Language.SWAHILI.value, id="language", max_length=2)

    @property
    def phone(self) -> str:
        """The number as typed."""
        return self.query_one("#phone", Input).value

    @property
    def language(self) -> str | None:
        """``sw`` or ``en`` as typed (any case), or ``None`` for anything else."""
        typed = self.query_one("#language", Input).value.strip().lower()
        return typed if typed in LANGUAGES else None

    def clear(self) -> None:
        """Empty the number and focus it, for the next person."""
        phone = self.query_one("#phone", Input)
        phone.value = ""
        phone.focus()
