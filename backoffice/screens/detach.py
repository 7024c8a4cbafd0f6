"""Detaching a number or an ID from a person (a recycled or mistaken number) by maker-checker
(:mod:`core.detach`): an officer asks (``n``) with a reason, a different supervisor approves
(``y``: that one link goes at once) or rejects (``x``). The identifier's value is typed by
the officer and never shown; the list shows its kind and the person's BST.

The request form has three fields, so it fits an 80×24 terminal: the BST, the
identifier as kind and value in one (``phone 0712345678``, ``id 12345678``; a
Kenyan mobile number alone is a phone), and the reason."""

from __future__ import annotations

from typing import ClassVar

from sqlmodel.ext.asyncio.session import AsyncSession
from textual.binding import Binding, BindingType

from backoffice.screens.form import FormScreen
from backoffice.screens.queue import QueueScreen
from backoffice.widgets.text import kind_name, stage, typed_identifier
from core import detach
from core.errors import DetachConflict, InvalidInput, InvalidMsisdn, InvalidNationalId, NotFound
from core.i18n import N_
from core.models import Role


class DetachScreen(QueueScreen[detach.DetachView]):
    """The latest detach requests, open ones or all; the selected request's reason below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "request", N_("Request")),
        Binding("y", "approve", N_("Approve")),
        Binding("x", "reject", N_("Reject")),
    ]
    NEEDS: ClassVar[dict[str, Role]] = {
        "request": Role.OFFICER,
        "approve": Role.SUPERVISOR,
        "reject": Role.SUPERVISOR,
        "toggle_open": Role.OFFICER,
        "refresh": Role.OFFICER,
    }
    TABLE = "detaches"

    def heading(self) -> str:
        return self.gettext("Detach a number or ID")

    def columns(self) -> list[str]:
        _ = self.gettext
        return [_("Person"), _("Kind"), _("Stage"), _("Asked by"), _("Decided by")]

    async def fetch(self, db: AsyncSession) -> list[detach.DetachView]:
        """The requests (officer and above; core checks)."""
        return await detach.listing(db, principal=self.principal, open_only=self.open_only)

    def cells(self, view: detach.DetachView) -> list[str]:
        kind = kind_name(view.kind, self.gettext)
        return [
            view.bst,
            kind,
            stage(view.status, self.gettext),
            view.requested_by,
            view.decided_by or "-",
        ]

    def words(self, view: detach.DetachView | None) -> str:
        """The selected request's reason."""
        if view is None:
            return ""
        return self.gettext("#{id}, {kind} of {bst}: {reason}").format(
            id=view.id, kind=kind_name(view.kind, self.gettext), bst=view.bst, reason=view.reason
        )

    def action_request(self) -> None:
        _ = self.gettext
        form = FormScreen(
            _("Request a detach"),
            [
                ("bst", _("The person's BST")),
                ("value", _("Number or ID, e.g. phone 0712345678 or id 12345678")),
                ("reason", _("Reason (10 to 500 characters)")),
            ],
            note=_("A supervisor other than you decides; the exclusion itself stays."),
        )
        self.app.push_screen(form, self._requested)

    async def _requested(self, values: dict[str, str] | None) -> None:
        if not values:
            return
        _ = self.gettext
        typed = typed_identifier(values["value"])
        if typed is None:
            self.say(
                _("Type the kind, then the number: phone, id, maisha, passport or alien."),
                error=True,
            )
            return
        kind, value = typed
        now = self.core.clock()
        made = await self.call(
            lambda db: detach.request(
                db,
                principal=self.principal,
                keyring=self.core.keyring,
                bst=values["bst"].strip(),
                kind=kind,
                value=value,
                reason=values["reason"],
                now=now,
            ),
            {
                InvalidMsisdn: _("That is not a Kenyan mobile number."),
                InvalidNationalId: _("That ID number does not follow its rules."),
                InvalidInput: _("Give a reason of 10 to 500 characters."),
                NotFound: _("That person holds no such number or ID."),
                DetachConflict: _("A detach of that number or ID is already under way."),
            },
        )
        if made is not None:
            await self.load()
            self.say(
                _("Detach #{id} requested for {bst}; a supervisor decides next.").format(
                    id=made.id, bst=made.bst
                )
            )

    def action_approve(self) -> None:
        self._ask(approve=True)

    def action_reject(self) -> None:
        self._ask(approve=False)

    def _ask(self, *, approve: bool) -> None:
        _ = self.gettext
        view = self.selected()
        if view is None:
            return
        if approve:
            title = _("Approve detach #{id} for {bst}?")
            note = _("The {kind} leaves this person at once; their exclusion stays.")
        else:
            title = _("Reject detach #{id} for {bst}?")
            note = _("Nothing changes; the {kind} stays linked.")
        form = FormScreen(
            title.format(id=view.id, bst=view.bst),
            [],
            note=note.format(kind=kind_name(view.kind, _)),
        )
        self.app.push_screen(form, lambda values: self._decided(view.id, values, approve=approve))

    async def _decided(
        self, request_id: int, values: dict[str, str] | None, *, approve: bool
    ) -> None:
        if values is None:
            return
        _ = self.gettext
        now = self.core.clock()
        decide = detach.approve if approve else detach.reject
        done = await self.call(
            lambda db: decide(db, principal=self.principal, request_id=request_id, now=now),
            {
                DetachConflict: _("That request has been decided already."),
                NotFound: _("That request has been decided already."),
            },
        )
        await self.load()
        if done is not None:
            if approve:
                self.say(_("Detach #{id} approved: the link is gone.").format(id=done.id))
            else:
                self.say(_("Detach #{id} rejected.").format(id=done.id))
