"""The dashboard: new exclusions by channel, exclusions in force by period, lifts under way,
and how messages get out (webhook deliveries, failed SMS, the newest audit checkpoint's age).

Refreshed every :data:`REFRESH_SECONDS` and on ``r``. Only aggregates: no
person appears here, so looking at it is not audited.
"""

from __future__ import annotations

from typing import ClassVar

from sqlmodel.ext.asyncio.session import AsyncSession
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.widgets import DataTable, Static

from backoffice.screens.base import StaffScreen
from backoffice.widgets.text import age, period, when
from core import figures
from core.i18n import N_
from core.models import Channel
from core.periods import Period

REFRESH_SECONDS = 10


class DashboardScreen(StaffScreen):
    """Four small tables and the time of the figures."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", N_("Refresh"))]

    def heading(self) -> str:
        return self.gettext("Dashboard")

    def body(self) -> ComposeResult:
        with Grid(id="dashboard"):
            yield DataTable(id="new", cursor_type="none", zebra_stripes=False)
            yield DataTable(id="active", cursor_type="none")
            yield DataTable(id="lifts", cursor_type="none")
            yield DataTable(id="health", cursor_type="none")
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
        health = self.query_one("#health", DataTable)
        health.border_title = _("Getting the word out")
        health.add_columns(_("What"), _("Now"))
        self.set_interval(REFRESH_SECONDS, self.action_refresh)
        self.action_refresh()

    def action_refresh(self) -> None:
        """Read the figures again."""
        self.load()

    @work(exclusive=True, group="dashboard")
    async def load(self) -> None:
        """Fetch and show the figures (a worker: the screen stays responsive)."""
        now = self.core.clock()

        async def both(db: AsyncSession) -> tuple[figures.Figures, figures.Health]:
            return (
                await figures.figures(db, principal=self.principal, now=now),
                await figures.health(db, principal=self.principal, now=now),
            )

        shown = await self.call(both)
        if shown is not None:
            self.show(*shown)

    def show(self, data: figures.Figures, health: figures.Health) -> None:
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
        self.show_health(health)
        self.query_one("#as-of", Static).update(
            _("Figures at {time}; the week began on Monday {day}.").format(
                time=when(data.as_of), day=data.week_start.strftime("%d/%m/%Y")
            )
        )

    def show_health(self, data: figures.Health) -> None:
        """Deliveries, the operators failing most, failed SMS and the checkpoint's age."""
        _ = self.gettext
        failing = ", ".join(f"{name} ({n})" for name, n in data.failing.items())
        table = self.query_one("#health", DataTable)
        table.clear()
        table.add_row(_("Pushes pending"), str(data.pending))
        table.add_row(_("Oldest pending"), age(data.oldest_pending, data.as_of, _))
        table.add_row(_("Pushes failed"), str(data.failed))
        table.add_row(_("Failing"), failing[:20] or "-")
        table.add_row(_("SMS failed, 24 h"), str(data.sms_failed))
        table.add_row(_("Last checkpoint"), age(data.checkpoint_at, data.as_of, _))
