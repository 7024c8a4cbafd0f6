"""The dashboard: new exclusions by channel, exclusions in force by period, lifts under way.

Refreshed every :data:`REFRESH_SECONDS` and on ``r``. Only aggregates: no
person appears here, so looking at it is not audited.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.widgets import DataTable, Static

from backoffice.screens.base import StaffScreen
from backoffice.widgets.text import period, when
from core import figures
from core.i18n import N_
from core.models import Channel
from core.periods import Period

REFRESH_SECONDS = 10


class DashboardScreen(StaffScreen):
    """Three small tables and the time of the figures."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", N_("Refresh"))]

    def heading(self) -> str:
        return self.gettext("Dashboard")

    def body(self) -> ComposeResult:
        with Grid(id="dashboard"):
            yield DataTable(id="new", cursor_type="none", zebra_stripes=False)
            yield DataTable(id="active", cursor_type="none")
            yield DataTable(id="lifts", cursor_type="none")
            yield Static("", id="as-of", markup=False)

    def on_mount(self) -> None:
        _ = self.gettext
        new = self.query_one("#new", DataTable)
        new.border_title = _("New exclusions")
        new.add_columns(_("Channel"), _("Today"), _("This week"))
        active = self.query_one("#active", DataTable)
        active.border_title = _("In force")
        active.add_columns(_("Period"), _("Exclusions"))
        lifts = self.query_one("#lifts", DataTable)
        lifts.border_title = _("Lift requests")
        lifts.add_columns(_("Stage"), _("Requests"))
        self.set_interval(REFRESH_SECONDS, self.action_refresh)
        self.action_refresh()

    def action_refresh(self) -> None:
        """Read the figures again."""
        self.load()

    @work(exclusive=True, group="dashboard")
    async def load(self) -> None:
        """Fetch and show the figures (a worker: the screen stays responsive)."""
        now = self.core.clock()
        shown = await self.call(lambda db: figures.figures(db, principal=self.principal, now=now))
        if shown is not None:
            self.show(shown)

    def show(self, data: figures.Figures) -> None:
        """Fill the tables with ``data``; every channel and period is listed, zeros too."""
        _ = self.gettext
        channels = {
            Channel.USSD: "USSD",
            Channel.SMS: "SMS",
            Channel.BACKOFFICE: _("Back-office"),
        }
        new = self.query_one("#new", DataTable)
        new.clear()
        for channel, label in channels.items():
            new.add_row(label, str(data.today.get(channel, 0)), str(data.week.get(channel, 0)))
        new.add_row(_("Total"), str(sum(data.today.values())), str(sum(data.week.values())))
        active = self.query_one("#active", DataTable)
        active.clear()
        for value in Period:
            active.add_row(period(value, _), str(data.active.get(value, 0)))
        active.add_row(_("Total"), str(sum(data.active.values())))
        lifts = self.query_one("#lifts", DataTable)
        lifts.clear()
        lifts.add_row(_("Awaiting a decision"), str(data.lifts.get("requested", 0)))
        lifts.add_row(_("Approved, cooling off"), str(data.lifts.get("approved", 0)))
        self.query_one("#as-of", Static).update(
            _("Figures at {time}; the week began on Monday {day}.").format(
                time=when(data.as_of), day=data.week_start.strftime("%d/%m/%Y")
            )
        )
