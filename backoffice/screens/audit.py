"""The audit log: newest entries first, filtered by action, actor or BST; ``v`` verifies it.

``c`` shows the newest signed checkpoints (tree size, when, root), the ones
operators keep as witnesses.

Verification is one call to core (:func:`core.audit_log.verify`) with a
progress bar; the screen shows the outcome and the first broken entry, if any.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, ProgressBar

from backoffice.screens.base import StaffScreen
from backoffice.screens.form import FormScreen
from backoffice.widgets.text import when
from core import audit_log
from core.i18n import N_


class AuditScreen(StaffScreen):
    """Filters in one row, the entries below, the verification's bar at the bottom."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "verify", N_("Verify")),
        Binding("r", "refresh", N_("Refresh")),
        Binding("m", "more", N_("Older")),
        Binding("c", "checkpoints", N_("Checkpoints"), show=False),
        Binding("escape", "leave_field", N_("Leave field"), show=False),
    ]

    def heading(self) -> str:
        return self.gettext("Audit")

    def body(self) -> ComposeResult:
        _ = self.gettext
        with Horizontal(id="filters"):
            yield Input(id="action", placeholder=_("action, e.g. lift."), max_length=64)
            yield Input(id="actor", placeholder=_("who, e.g. staff:"), max_length=80)
            yield Input(id="subject", placeholder=_("BST"), max_length=16)
        yield DataTable(id="entries", cursor_type="row")
        yield ProgressBar(id="progress", total=None, show_eta=False)

    async def on_mount(self) -> None:
        _ = self.gettext
        table = self.query_one("#entries", DataTable)
        table.add_columns("#", _("When"), _("Who"), _("What"), _("On"), _("BST"))
        self.query_one("#progress", ProgressBar).display = False
        table.focus()
        await self.load()

    def action_leave_field(self) -> None:
        self.query_one("#entries", DataTable).focus()

    def filters(self) -> tuple[str, str, str]:
        """The three filters as typed: action, actor, BST."""
        action, actor, subject = (
            self.query_one(f"#{name}", Input).value for name in ("action", "actor", "subject")
        )
        return action, actor, subject

    async def on_input_submitted(self) -> None:
        await self.load()

    async def action_refresh(self) -> None:
        await self.load()

    async def action_more(self) -> None:
        table = self.query_one("#entries", DataTable)
        if table.row_count:
            last = table.get_row_at(table.row_count - 1)[0]
            await self.load(before_id=int(last), append=True)

    async def load(self, *, before_id: int | None = None, append: bool = False) -> None:
        """Read a page of entries (older than ``before_id``) and show them."""
        _ = self.gettext
        action, actor, subject = self.filters()
        found = await self.call(
            lambda db: audit_log.browse(
                db,
                principal=self.principal,
                action=action,
                actor=actor,
                subject=subject,
                before_id=before_id,
            )
        )
        if found is None:
            return
        table = self.query_one("#entries", DataTable)
        if not append:
            table.clear()
        for line in found:
            table.add_row(
                str(line.id),
                when(line.occurred_at),
                line.actor,
                line.action,
                line.entity,
                line.subject or "",
            )
        self.say(_("{n} entries shown, newest first.").format(n=table.row_count))

    async def action_checkpoints(self) -> None:
        """The newest signed checkpoints in a window: size, when, the root's first characters."""
        _ = self.gettext
        found = await self.call(
            lambda db: audit_log.checkpoints(db, principal=self.principal, limit=10)
        )
        if found is None:
            return
        lines = [
            _("{size} entries, signed {when}, root {root}…").format(
                size=c.size, when=when(c.signed_at), root=c.root[:16]
            )
            for c in found
        ] or [_("No checkpoint signed yet.")]
        note = "\n".join([*lines, _("Operators keep these as witnesses; v checks them all.")])
        self.app.push_screen(FormScreen(_("Signed checkpoints, newest first"), [], note=note))

    def action_verify(self) -> None:
        self.verify()

    @work(exclusive=True, group="verify")
    async def verify(self) -> None:
        """Run core's verification with the bar moving; say the outcome."""
        _ = self.gettext
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.say(_("Verifying the audit log…"))

        def progress(checked: int, total: int) -> None:
            bar.update(total=max(total, 1), progress=checked)

        report = await self.call(
            lambda db: audit_log.verify(
                db,
                principal=self.principal,
                verifier=self.core.audit_signer.verifier,
                progress=progress,
                now=self.core.clock(),
            )
        )
        if report is None:
            return
        await self.load()
        if report.ok:
            self.say(_("Audit log verified: all {n} entries are intact.").format(n=report.leaves))
        else:
            self.say(_("Audit log MISMATCH: {problem}").format(problem=report.problem), error=True)
