"""Reports: GRAK's monthly statistics on screen (Enter) and exported as CSV (Ctrl+S, officer+).

Only aggregates (:mod:`core.reports`); a progress bar follows core's steps while
the CSV is exported. The file goes to the one reports
directory on the server under the name typed; exporting is audited by core.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, ProgressBar

from backoffice.screens.base import StaffScreen
from core import reports
from core.errors import ExportFailed, InvalidInput
from core.i18n import N_
from core.models import Role
from core.periods import NAIROBI


class ReportsScreen(StaffScreen):
    """The month and file name in one row; the month's totals below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "export", N_("Export CSV"), priority=True),
        Binding("escape", "leave_field", N_("Leave field"), show=False),
    ]
    NEEDS: ClassVar[dict[str, Role]] = {"export": Role.OFFICER}

    def heading(self) -> str:
        return self.gettext("Reports")

    def body(self) -> ComposeResult:
        _ = self.gettext
        month = self.core.clock().astimezone(NAIROBI).strftime("%Y-%m")
        with Horizontal(id="report-for"):
            yield Input(value=month, id="month", placeholder="YYYY-MM", max_length=7)
            yield Input(value=f"nser-{month}", id="file", placeholder=_("file name"), max_length=80)
        yield DataTable(id="totals", cursor_type="row")
        yield ProgressBar(id="progress", total=None, show_eta=False)

    async def on_mount(self) -> None:
        _ = self.gettext
        table = self.query_one("#totals", DataTable)
        table.add_columns(_("Figure"), _("Of"), _("Total"))
        self.query_one("#progress", ProgressBar).display = False
        table.focus()
        await self.load()

    def action_leave_field(self) -> None:
        self.query_one("#totals", DataTable).focus()

    async def on_input_submitted(self) -> None:
        await self.load()

    def month(self) -> date | None:
        """The month typed (its first day), or ``None`` with the reason on the status line."""
        try:
            return reports.parse_month(self.query_one("#month", Input).value)
        except InvalidInput:
            self.say(self.gettext("Write the month as YYYY-MM, e.g. 2026-11."), error=True)
            return None

    async def load(self) -> None:
        """Read the typed month's report and show its totals."""
        _ = self.gettext
        month = self.month()
        if month is None:
            return
        report = await self.call(
            lambda db: reports.monthly(db, principal=self.principal, month=month)
        )
        if report is None:
            return
        self.show(report)
        self.say(_("Figures for {month}: aggregates only.").format(month=month.strftime("%Y-%m")))

    def show(self, report: reports.Report) -> None:
        """One line per figure: exclusions by channel, screenings by band, lookups and pushes
        by operator."""
        _ = self.gettext
        labels = {
            ("exclusions", "created"): _("Exclusions"),
            ("screenings", "results"): _("Screenings"),
            ("operator_usage", "lookups"): _("Lookups"),
            ("operator_usage", "subscription_changes"): _("Subscription changes"),
            ("deliveries", "delivered"): _("Pushes delivered"),
            ("deliveries", "failed"): _("Pushes failed"),
            ("deliveries", "pending"): _("Pushes pending"),
            ("deliveries", "skipped"): _("Pushes skipped"),
        }
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for section, _day, group, subgroup, measure, value in report.rows:
            of = f"{group} {subgroup}".strip() if section == "screenings" else group
            totals[(labels.get((section, measure), measure), of)] += value
        table = self.query_one("#totals", DataTable)
        table.clear()
        if not totals:
            table.add_row(_("Nothing this month"), "", "0")
        for (label, of), value in totals.items():
            table.add_row(label, of, str(value))

    async def action_export(self) -> None:
        """Write the month's CSV under the name typed, the bar moving with core's steps."""
        _ = self.gettext
        month = self.month()
        if month is None:
            return
        name, now = self.query_one("#file", Input).value, self.core.clock()
        directory = self.core.settings.reports_path
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.say(_("Exporting {month}…").format(month=month.strftime("%Y-%m")))

        def progress(done: int, total: int) -> None:
            bar.update(total=total, progress=done)

        path = await self.call(
            lambda db: reports.export(
                db,
                principal=self.principal,
                month=month,
                directory=directory,
                name=name,
                now=now,
                progress=progress,
            ),
            {
                InvalidInput: _("Choose a new file name: letters, digits, '.', '_' and '-' only."),
                ExportFailed: _(
                    "The file could not be written in {directory}; nothing was exported."
                ).format(directory=directory),
            },
        )
        bar.display = path is not None  # a refused export leaves no half-full bar behind
        if path is not None:
            self.say(_("Exported to {path}").format(path=path))
