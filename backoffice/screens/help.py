"""``?``: every key of the back-office and what each role may do."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from backoffice.widgets.chrome import gettext_of
from core.i18n import N_


class HelpScreen(ModalScreen[None]):
    """A closable panel; Escape or ``?`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", N_("Close")),
    ]

    def compose(self) -> ComposeResult:
        _ = gettext_of(self)
        lines = [
            _("Keys everywhere"),
            "  d  " + _("Dashboard: figures, refreshed live"),
            "  /  " + _("Search: a phone number, a reference or a BST"),
            "  l  " + _("Lifts: requests to lift an exclusion"),
            "  a  " + _("Audit: the log, and checking it"),
            "  p  " + _("Operators: keys, webhooks, delivery health (admin)"),
            "  k  " + _("DSM-5 checklist: record an assessment (officer)"),
            "  e  " + _("Reports: monthly figures for GRAK; Ctrl+S exports CSV (officer)"),
            "  w  " + _("Walk-in: register a person at the desk by a texted code (officer)"),
            "  i  " + _("Identity queue: one ID claimed by two people (officer)"),
            "  u  " + _("Detach a recycled or mistaken number or ID (maker-checker)"),
            "  ?  " + _("This help"),
            "  Ctrl+Q  " + _("Quit (this also ends your session)"),
            "  Tab, Esc  " + _("Next field; leave a field to use the keys"),
            "  r  " + _("Refresh; on Lifts, Detach and Identity, o shows open or all"),
            "",
            _("Who may do what"),
            "  " + _("viewer: look at figures, people, lifts and the audit log"),
            "  " + _("officer: also walk-ins, DSM-5, CSV exports and lift requests"),
            "  " + _("supervisor: also approve or reject someone else's request"),
            "  " + _("supervisor: also resolve identity conflicts and decide detaches"),
            "  " + _("admin: also manage operators, their keys and webhooks"),
            "",
            _("Every search and every change is recorded in the audit log."),
        ]
        with VerticalScroll(id="help"):
            yield Static("\n".join(lines), markup=False)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
