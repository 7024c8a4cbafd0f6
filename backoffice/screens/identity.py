"""The identity queue: one ID claimed by two people (:func:`core.identifiers.conflicts`).

Officers see the queue; a supervisor resolves a conflict (``y``) with a note of what
staff found. Resolving changes no link and no exclusion: both people stay excluded;
an identifier leaves a person only by a detach (``u``, :mod:`backoffice.screens.detach`).
The ID itself is never shown, only its kind and the two people's BSTs.
"""

from __future__ import annotations

from typing import ClassVar

from sqlmodel.ext.asyncio.session import AsyncSession
from textual.binding import Binding, BindingType

from backoffice.screens.form import FormScreen
from backoffice.screens.queue import QueueScreen
from backoffice.widgets.text import kind_name, when
from core import identifiers
from core.errors import InvalidInput, NotFound
from core.i18n import N_
from core.models import Role


class IdentityScreen(QueueScreen[identifiers.ConflictView]):
    """Open conflicts (or all), oldest first; the selected one in words below."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "resolve", N_("Resolve"))]
    NEEDS: ClassVar[dict[str, Role]] = {
        "resolve": Role.SUPERVISOR,
        "toggle_open": Role.OFFICER,
        "refresh": Role.OFFICER,
    }
    TABLE = "conflicts"

    def heading(self) -> str:
        return self.gettext("Identity queue")

    def columns(self) -> list[str]:
        _ = self.gettext
        return [_("ID kind"), _("Person"), _("Other person"), _("Flagged")]

    async def fetch(self, db: AsyncSession) -> list[identifiers.ConflictView]:
        """The conflicts (officer and above; core checks)."""
        return await identifiers.conflict_queue(
            db, principal=self.principal, open_only=self.open_only
        )

    def cells(self, view: identifiers.ConflictView) -> list[str]:
        return [
            kind_name(view.family, self.gettext),
            view.bst,
            view.other_bst,
            when(view.created_at),
        ]

    def words(self, view: identifiers.ConflictView | None) -> str:
        """The selected conflict in words, and how it was resolved."""
        _ = self.gettext
        if view is None:
            return _("No ID is claimed by two people.") if self.open_only else ""
        text = _("#{id}: one {kind} is linked to {bst} and to {other}; both stay excluded.").format(
            id=view.id, kind=kind_name(view.family, _), bst=view.bst, other=view.other_bst
        )
        if view.resolved_at is not None:
            text += "\n" + _("Resolved {date}: {note}").format(
                date=when(view.resolved_at), note=view.resolution or ""
            )
        return text

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
        done = await self.call(
            lambda db: identifiers.resolve_conflict(
                db,
                principal=self.principal,
                conflict_id=conflict_id,
                note=values.get("note", ""),
                now=now,
            ),
            {
                InvalidInput: _("Give a note of 10 to 500 characters."),
                NotFound: _("That conflict has been resolved already."),
            },
        )
        await self.load()
        if done is not None:
            self.say(_("Conflict #{id} resolved.").format(id=done.id))
