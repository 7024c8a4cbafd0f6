"""Lift requests: an officer asks (``n``), a different supervisor approves (``y``) or
rejects (``x``); an approved lift takes effect after the cooling-off, shown here."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from sqlmodel.ext.asyncio.session import AsyncSession
from textual.binding import Binding, BindingType

from backoffice.screens.form import FormScreen
from backoffice.screens.queue import QueueScreen
from backoffice.widgets.text import stage, when
from core import lifts
from core.errors import InvalidInput, NotFound
from core.i18n import N_
from core.models import Role


class LiftsScreen(QueueScreen[lifts.LiftView]):
    """The latest requests, open ones or all; the selected request's reason below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "request", N_("Request")),
        Binding("y", "approve", N_("Approve")),
        Binding("x", "reject", N_("Reject")),
    ]
    NEEDS: ClassVar[dict[str, Role]] = {
        "request": Role.OFFICER,
        "approve": Role.SUPERVISOR,
        "reject": Role.SUPERVISOR,
    }

    def heading(self) -> str:
        return self.gettext("Lifts")

    def columns(self) -> list[str]:
        _ = self.gettext
        return [_("Reference"), _("Stage"), _("Asked by"), _("Decided by"), _("Takes effect")]

    async def fetch(self, db: AsyncSession) -> list[lifts.LiftView]:
        return await lifts.listing(db, principal=self.principal, open_only=self.open_only)

    def cells(self, view: lifts.LiftView) -> list[str]:
        return [
            view.reference,
            stage(view.status, self.gettext),
            view.requested_by,
            view.decided_by or "-",
            when(view.effective_at),
        ]

    def words(self, view: lifts.LiftView | None) -> str:
        """The selected request's reason and decision."""
        _ = self.gettext
        if view is None:
            return ""
        text = _("#{id} for {reference} ({bst}), asked {asked}: {reason}").format(
            id=view.id,
            reference=view.reference,
            bst=view.bst,
            asked=when(view.requested_at),
            reason=view.reason,
        )
        if view.decision_note:
            text += "\n" + _("Decision note: {note}").format(note=view.decision_note)
        return text

    def action_request(self) -> None:
        _ = self.gettext
        form = FormScreen(
            _("Request a lift"),
            [
                ("reference", _("Exclusion reference")),
                ("reason", _("Reason (10 to 500 characters)")),
            ],
            note=_(
                "A supervisor other than you decides; a lift takes effect after the cooling-off."
            ),
        )
        self.app.push_screen(form, self._requested)

    async def _requested(self, values: dict[str, str] | None) -> None:
        if not values:
            return
        _ = self.gettext
        now = self.core.clock()
        made = await self.call(
            lambda db: lifts.request(
                db,
                principal=self.principal,
                reference=values["reference"],
                reason=values["reason"],
                now=now,
            ),
            {
                NotFound: _("No exclusion has that reference."),
                InvalidInput: _("Give a reason of 10 to 500 characters."),
            },
        )
        if made is not None:
            await self.load()
            self.say(
                _("Lift #{id} requested for {reference}; a supervisor decides next.").format(
                    id=made.id, reference=made.reference
                )
            )

    def action_approve(self) -> None:
        _ = self.gettext
        view = self.selected()
        if view is None:
            return
        days = self.core.settings.lift_cooling_off_days
        form = FormScreen(
            _("Approve lift #{id} for {reference}?").format(id=view.id, reference=view.reference),
            [],
            note=_("The exclusion is lifted {days} days after approval, on {date}.").format(
                days=days, date=when(self.core.clock() + timedelta(days=days))
            ),
        )
        self.app.push_screen(form, lambda values: self._decided(view.id, values, approve=True))

    def action_reject(self) -> None:
        _ = self.gettext
        view = self.selected()
        if view is None:
            return
        form = FormScreen(
            _("Reject lift #{id} for {reference}?").format(id=view.id, reference=view.reference),
            [("note", _("Why (10 to 500 characters)"))],
        )
        self.app.push_screen(form, lambda values: self._decided(view.id, values, approve=False))

    async def _decided(
        self, request_id: int, values: dict[str, str] | None, *, approve: bool
    ) -> None:
        if values is None:
            return
        _ = self.gettext
        now = self.core.clock()
        cooling_off = timedelta(days=self.core.settings.lift_cooling_off_days)
        try:
            if approve:
                done = await self.call(
                    lambda db: lifts.approve(
                        db,
                        principal=self.principal,
                        request_id=request_id,
                        cooling_off=cooling_off,
                        now=now,
                    )
                )
            else:
                done = await self.call(
                    lambda db: lifts.reject(
                        db,
                        principal=self.principal,
                        request_id=request_id,
                        note=values.get("note", ""),
                        now=now,
                    )
                )
        except InvalidInput:
            self.say(_("Give a reason of 10 to 500 characters."), error=True)
            return
        if done is not None:
            await self.load()
            if approve:
                self.say(
                    _("Lift #{id} approved: it takes effect on {date}.").format(
                        id=done.id, date=when(done.effective_at)
                    )
                )
            else:
                self.say(_("Lift #{id} rejected.").format(id=done.id))
