"""Search: a phone number, an exclusion reference or a BST → everything held on that person.

Looking someone up is audited by core, whether or not they are found.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Static

from backoffice.screens.base import StaffScreen
from backoffice.widgets.text import period, when
from core import subject_view
from core.errors import InvalidInput, InvalidMsisdn, NotFound
from core.i18n import N_


class SearchScreen(StaffScreen):
    """One field; the subject below it: summary, exclusions with history, lifts, audit trail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_query", N_("Search"), key_display="/"),
        Binding("escape", "leave_field", N_("Leave field"), show=False),
    ]

    def heading(self) -> str:
        return self.gettext("Search")

    def body(self) -> ComposeResult:
        _ = self.gettext
        yield Input(
            id="query",
            placeholder=_("Phone number, reference (K7M3-Q9PA) or BST, then Enter"),
            max_length=40,
        )
        with VerticalScroll(id="subject"):
            yield Static("", id="summary", markup=False)
            yield DataTable(id="exclusions", cursor_type="row")
            yield DataTable(id="history", cursor_type="none")
            yield DataTable(id="trail", cursor_type="none")

    def on_mount(self) -> None:
        _ = self.gettext
        for table_id, title, columns in (
            (
                "exclusions",
                _("Exclusions"),
                (_("Reference"), _("Period"), _("Status"), _("Channel"), _("From"), _("Until")),
            ),
            ("history", _("History"), (_("When"), _("Event"), _("Period"), _("Until"))),
            ("trail", _("Audit trail"), (_("When"), _("Who"), _("What"))),
        ):
            table = self.query_one(f"#{table_id}", DataTable)
            table.border_title = title
            table.add_columns(*columns)
            table.display = False
        self.query_one("#query", Input).focus()

    def action_focus_query(self) -> None:
        """Back to the search field."""
        self.query_one("#query", Input).focus()

    def action_leave_field(self) -> None:
        """Leave the field so the single-key bindings work."""
        self.set_focus(None)

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        _ = self.gettext
        query = event.value.strip()
        if not query:
            return
        now = self.core.clock()
        found = await self.call(
            lambda db: subject_view.view(
                db, principal=self.principal, keyring=self.core.keyring, query=query, now=now
            ),
            {
                InvalidMsisdn: _("Not a Kenyan mobile number, a reference (K7M3-Q9PA) or a BST."),
                InvalidInput: _(
                    "That reference or BST has a typing mistake: its last character does not match."
                ),
                NotFound: _("No one in the register matches. (This search was recorded.)"),
            },
        )
        if found is None:
            self.clear()
            return
        self.show(found)

    def clear(self) -> None:
        """Hide the last subject shown."""
        self.query_one("#summary", Static).update("")
        for table in self.query(DataTable):
            table.clear()
            table.display = False

    def show(self, found: subject_view.SubjectView) -> None:
        """Fill the subject view."""
        _ = self.gettext
        language = {"sw": "Kiswahili", "en": "English"}.get(found.language, found.language)
        self.query_one("#summary", Static).update(
            _("{bst} · phone {msisdn} · {language} · known since {since}").format(
                bst=found.bst, msisdn=found.msisdn, language=language, since=when(found.created_at)
            )
        )
        exclusions = self.query_one("#exclusions", DataTable)
        history = self.query_one("#history", DataTable)
        exclusions.clear()
        history.clear()
        for item in found.exclusions:
            exclusions.add_row(
                item.reference,
                period(item.period, _),
                self.status_name(item.status),
                item.channel,
                when(item.starts_at),
                when(item.ends_at) if item.ends_at else _("permanently"),
            )
            for moment, kind, item_period, ends in item.events:
                history.add_row(
                    when(moment),
                    f"{item.reference} {kind.removeprefix('exclusion.')}",
                    period(item_period, _),
                    when(ends) if ends else _("permanently"),
                )
        for lift in found.lifts:
            history.add_row(
                when(lift.requested_at),
                f"{lift.reference} lift #{lift.id} {lift.status}",
                "",
                when(lift.effective_at),
            )
        trail = self.query_one("#trail", DataTable)
        trail.clear()
        for line in found.trail:
            trail.add_row(when(line.occurred_at), line.actor, line.action)
        for table in (exclusions, history, trail):
            table.display = True
        self.say(_("Shown. Viewing this person was recorded in the audit log."))

    def status_name(self, status: str) -> str:
        """An exclusion status in words."""
        _ = self.gettext
        return {"active": _("active"), "expired": _("expired"), "lifted": _("lifted")}.get(
            status, status
        )
