"""The identity queue: one ID claimed by two people (:func:`core.identifiers.conflicts`).

Officers see the queue; a supervisor resolves a conflict (``y``) with a note of what
staff found. Resolving changes no link and no exclusion: both people stay excluded;
an identifier leaves a person only by a detach (``u``, :mod:`backoffice.screens.detach`).
The ID itself is never shown, only its kind and the two people's BSTs.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from backoffice.screens.base import StaffScreen
from backoffice.screens.form import FormScreen
from backoffice.widgets.text import kind_name, when
from core import identifiers
from core.errors import InvalidInput, NotFound
from core.i18n import N_
from core.models import Role


class IdentityScreen(StaffScreen):
    """Open conflicts (or all), oldest first; the selected one in words below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "resolve", N_("Resolve")),
        Binding("o", "toggle_open", N_("Open/all")),
        Binding("r", "refresh", N_("Refresh"), show=False),
    ]
    NEEDS: ClassVar[dict[str, Role]] = {
        "resolve": Role.SUPERVISOR,
        "toggle_open": Role.OFFICER,
        "refresh": Role.OFFICER,
    }

    def __init__(self) -> None:
        super().__init__()
        self.open_only = True
        self.views: dict[int, identifiers.ConflictView] = {}

    def heading(self) -> str:
        return self.gettext("Identity queue")

    def body(self) -> ComposeResult:
        yield DataTable(id="conflicts", cursor_type="row")
        yield Static("", id="detail", markup=False)

    async def on_mount(self) -> None:
        _ = self.gettext
        table = self.query_one("#conflicts", DataTable)
        table.add_columns("#", _("ID kind"), _("Person"), _("Other person"), _("Flagged"))
        table.focus()
        await self.load()

    async def load(self) -> None:
        """Read the conflicts again and show them (officer and above; core checks)."""
        found = await self.call(
            lambda db: identifiers.conflict_queue(
                db, principal=self.principal, open_only=self.open_only
            )
        )
        if found is None:
            return
        self.views = {view.id: view for view in found}
        table = self.query_one("#conflicts", DataTable)
        table.clear()
        for view in found:
            table.add_row(
                str(view.id),
                kind_name(view.family, self.gettext),
                view.bst,
                view.other_bst,
                when(view.created_at),
                key=str(view.id),
            )
        self.describe()

    def selected(self) -> identifiers.ConflictView | None:
        """The conflict under the cursor."""
        key = self.cursor_key("#conflicts")
        return None if key is None else self.views.get(key)

    def on_data_table_row_highlighted(self) -> None:
        self.describe()

    def describe(self) -> None:
        """The selected conflict in words, and how it was resolved."""
        _ = self.gettext
        view = self.selected()
        text = ""
        if view is None:
            text = _("No ID is claimed by two people.") if self.open_only else ""
        else:
            text = _(
                "#{id}: one {kind} is linked to {bst} and to {other}; both stay excluded."
            ).format(id=view.id, kind=kind_name(view.family, _), bst=view.bst, other=view.other_bst)
            if view.resolved_at is not None:
                text += "\n" + _("Resolved {date}: {note}").format(
                    date=when(view.resolved_at), note=view.resolution or ""
                )
        self.query_one("#detail", Static).update(text)

    async def action_refresh(self) -> None:
        await self.load()

    async def action_toggle_open(self) -> None:
        self.open_only = not self.open_only
        await self.load()

    def action_resolve(self) -> None:
        _ = self.gettext
        view = self.selected()
        if view is None or view.resolved_at is not None:
            return
        form = FormScreen(
            _("Resolve conflict #{id}?").format(id=view.id),
            [("note", _("What you found (10 to 500 characters)"))],
            note=_("Nobody's exclusion changes. To take an ID off a person, request a detach (u)."),
        )
        self.app.push_screen(form, lambda values: self._resolved(view.id, values))

    async def _resolved(self, conflict_id: int, values: dict[str, str] | None) -> None:
        if values is None:
            return
        _ = self.gettext
        now = self.core.clock()
        try:
            done = await self.call(
                lambda db: identifiers.resolve_conflict(
                    db,
                    principal=self.principal,
                    conflict_id=conflict_id,
                    note=values.get("note", ""),
                    now=now,
                )
            )
        except InvalidInput:
            self.say(_("Give a note of 10 to 500 characters."), error=True)
            return
        except NotFound:
            await self.load()
            self.say(_("That conflict has been resolved already."), error=True)
            return
        if done is not None:
            await self.load()
            self.say(_("Conflict #{id} resolved.").format(id=done.id))
