"""What the maker-checker screens share (lifts, detaches, the identity queue): a table of
requests or cases, open ones or all (``o``), read again with ``r``, and the selected row
in words below it (``#detail``)."""

from __future__ import annotations

from typing import ClassVar, Generic, Protocol, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from backoffice.screens.base import StaffScreen
from core.i18n import N_


class Numbered(Protocol):
    """A row of the queue: anything with an integer ``id`` (its table row key)."""

    @property
    def id(self) -> int: ...


V = TypeVar("V", bound=Numbered)


class QueueScreen(StaffScreen, Generic[V]):
    """A table (id ``TABLE``) of what :meth:`fetch` returns, open ones first shown.

    Subclasses give :meth:`columns`, :meth:`fetch` (one core call, which checks the
    role), :meth:`cells` (one row's text) and :meth:`words` (the selected row below).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "toggle_open", N_("Open/all"), show=False),
        Binding("r", "refresh", N_("Refresh"), show=False),
    ]
    TABLE: ClassVar[str] = "requests"

    def __init__(self) -> None:
        super().__init__()
        self.open_only = True
        self.views: dict[int, V] = {}

    def body(self) -> ComposeResult:
        yield DataTable(id=self.TABLE, cursor_type="row")
        yield Static("", id="detail", markup=False)

    def columns(self) -> list[str]:
        """The table's headings, in the staff member's language."""
        raise NotImplementedError

    async def fetch(self, db: AsyncSession) -> list[V]:
        """The rows to show (only open ones when ``open_only``)."""
        raise NotImplementedError

    def cells(self, view: V) -> list[str]:
        """One row's cells, after its number."""
        raise NotImplementedError

    def words(self, view: V | None) -> str:
        """The selected row (``None`` when the table is empty) in words, below the table."""
        raise NotImplementedError

    async def on_mount(self) -> None:
        table = self.query_one(f"#{self.TABLE}", DataTable)
        table.add_columns("#", *self.columns())
        table.focus()
        await self.load()

    async def load(self) -> None:
        """Read the rows again and show them (a refusal or a silent database: the status line)."""
        found = await self.call(self.fetch)
        if found is None:
            return
        self.views = {view.id: view for view in found}
        table = self.query_one(f"#{self.TABLE}", DataTable)
        table.clear()
        for view in found:
            table.add_row(str(view.id), *self.cells(view), key=str(view.id))
        self.describe()

    def selected(self) -> V | None:
        """The row under the cursor."""
        key = self.cursor_key(f"#{self.TABLE}")
        return None if key is None else self.views.get(key)

    def on_data_table_row_highlighted(self) -> None:
        self.describe()

    def describe(self) -> None:
        """Show the selected row in words."""
        self.query_one("#detail", Static).update(self.words(self.selected()))

    async def action_refresh(self) -> None:
        await self.load()

    async def action_toggle_open(self) -> None:
        self.open_only = not self.open_only
        await self.load()
