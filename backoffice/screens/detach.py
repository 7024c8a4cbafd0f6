"""Detaching a number or an ID from a person (a recycled or mistaken number) by maker-checker
(:mod:`core.detach`): an officer asks (``n``) with a reason, a different supervisor approves
(``y``: that one link goes at once) or rejects (``x``). The identifier's value is typed by
the officer and never shown; the list shows its kind and the person's BST."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from backoffice.screens.base import StaffScreen
from backoffice.screens.form import FormScreen
from backoffice.widgets.text import kind_name, typed_kind
from core import detach
from core.errors import DetachConflict, InvalidInput, InvalidMsisdn, InvalidNationalId, NotFound
from core.i18n import N_
from core.models import Role


class DetachScreen(StaffScreen):
    """The latest detach requests, open ones or all; the selected request's reason below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "request", N_("Request")),
        Binding("y", "approve", N_("Approve")),
        Binding("x", "reject", N_("Reject")),
        Binding("o", "toggle_open", N_("Open/all"), show=False),
        Binding("r", "refresh", N_("Refresh"), show=False),
    ]
    NEEDS: ClassVar[dict[str, Role]] = {
        "request": Role.OFFICER,
        "approve": Role.SUPERVISOR,
        "reject": Role.SUPERVISOR,
        "toggle_open": Role.OFFICER,
        "refresh": Role.OFFICER,
    }

    def __init__(self) -> None:
        super().__init__()
        self.open_only = True
        self.views: dict[int, detach.DetachView] = {}

    def heading(self) -> str:
        return self.gettext("Detach a number or ID")

    def body(self) -> ComposeResult:
        yield DataTable(id="detaches", cursor_type="row")
        yield Static("", id="detail", markup=False)

    async def on_mount(self) -> None:
        _ = self.gettext
        table = self.query_one("#detaches", DataTable)
        table.add_columns("#", _("Person"), _("Kind"), _("Stage"), _("Asked by"), _("Decided by"))
        table.focus()
        await self.load()

    def stage(self, view: detach.DetachView) -> str:
        """A request's status in words."""
        _ = self.gettext
        return {
            "requested": _("awaiting decision"),
            "detached": _("detached"),
            "rejected": _("rejected"),
        }.get(view.status, view.status)

    async def load(self) -> None:
        """Read the requests again and show them (officer and above; core checks)."""
        found = await self.call(
            lambda db: detach.listing(db, principal=self.principal, open_only=self.open_only)
        )
        if found is None:
            return
        self.views = {view.id: view for view in found}
        table = self.query_one("#detaches", DataTable)
        table.clear()
        for view in found:
            table.add_row(
                str(view.id),
                view.bst,
                kind_name(view.kind, self.gettext),
                self.stage(view),
                view.requested_by,
                view.decided_by or "-",
                key=str(view.id),
            )
        self.describe()

    def selected(self) -> detach.DetachView | None:
        """The request under the cursor."""
        key = self.cursor_key("#detaches")
        return None if key is None else self.views.get(key)

    def on_data_table_row_highlighted(self) -> None:
        self.describe()

    def describe(self) -> None:
        """Show the selected request's reason."""
        view = self.selected()
        text = ""
        if view is not None:
            text = self.gettext("#{id}, {kind} of {bst}: {reason}").format(
                id=view.id,
                kind=kind_name(view.kind, self.gettext),
                bst=view.bst,
                reason=view.reason,
            )
        self.query_one("#detail", Static).update(text)

    async def action_refresh(self) -> None:
        await self.load()

    async def action_toggle_open(self) -> None:
        self.open_only = not self.open_only
        await self.load()

    def action_request(self) -> None:
        _ = self.gettext
        form = FormScreen(
            _("Request a detach"),
            [
                ("bst", _("The person's BST")),
                ("kind", _("Kind: phone, id, maisha, passport or alien")),
                ("value", _("The number or ID to detach")),
                ("reason", _("Reason (10 to 500 characters)")),
            ],
            note=_("A supervisor other than you decides; the exclusion itself stays."),
        )
        self.app.push_screen(form, self._requested)

    async def _requested(self, values: dict[str, str] | None) -> None:
        if not values:
            return
        _ = self.gettext
        kind = typed_kind(values["kind"])
        if kind is None:
            self.say(_("Kind: type phone, id, maisha, passport or alien."), error=True)
            return
        now = self.core.clock()
        try:
            made = await self.call(
                lambda db: detach.request(
                    db,
                    principal=self.principal,
                    keyring=self.core.keyring,
                    bst=values["bst"].strip(),
                    kind=kind,
                    value=values["value"],
                    reason=values["reason"],
                    now=now,
                )
            )
        except InvalidMsisdn:
            self.say(_("That is not a Kenyan mobile number."), error=True)
            return
        except InvalidNationalId:
            self.say(_("That ID number does not follow its rules."), error=True)
            return
        except InvalidInput:
            self.say(_("Give a reason of 10 to 500 characters."), error=True)
            return
        except NotFound:
            self.say(_("That person holds no such number or ID."), error=True)
            return
        except DetachConflict:
            self.say(_("A detach of that number or ID is already under way."), error=True)
            return
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
        try:
            done = await self.call(
                lambda db: decide(db, principal=self.principal, request_id=request_id, now=now)
            )
        except (DetachConflict, NotFound):
            await self.load()
            self.say(_("That request has been decided already."), error=True)
            return
        if done is not None:
            await self.load()
            if approve:
                self.say(_("Detach #{id} approved: the link is gone.").format(id=done.id))
            else:
                self.say(_("Detach #{id} rejected.").format(id=done.id))
