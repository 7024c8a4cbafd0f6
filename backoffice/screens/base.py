"""What every signed-in screen shares: the frame, the staff member's language, and one way
of calling core that turns its refusals and a silent database into a line on the screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, ClassVar, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from textual import events, on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from backoffice.widgets.chrome import StaffFooter, TopBar
from backoffice.widgets.text import problem
from core import queue
from core.i18n import Gettext
from core.models import Role
from core.permissions import Principal
from core.services import Services

if TYPE_CHECKING:
    from backoffice.app import BackofficeApp

T = TypeVar("T")


class StaffScreen(Screen[None]):
    """A screen of the signed-in back-office: title bar, body, status line, footer.

    Subclasses give :meth:`heading` and :meth:`body`. :meth:`call` runs one core
    operation in its own database session; an error every screen may meet
    (refused, database down, not found, conflict) is shown in the status line
    and returns ``None``; a screen's own errors it catches itself.

    ``NEEDS`` maps an action to the role it needs: the footer dims it for a
    lesser role (core refuses it anyway, and audits the refusal).
    """

    NEEDS: ClassVar[dict[str, Role]] = {}

    @property
    def bo(self) -> BackofficeApp:
        """The application, typed."""
        return self.app  # type: ignore[return-value]

    @property
    def core(self) -> Services:
        """Database, keys, settings and the clock."""
        return self.bo.core

    @property
    def principal(self) -> Principal:
        """The signed-in staff member."""
        assert self.bo.principal is not None
        return self.bo.principal

    @property
    def gettext(self) -> Gettext:
        """Translation into the staff member's language."""
        return self.bo.gettext

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Actions above the signed-in role are shown dimmed (core refuses them anyway)."""
        needed = self.NEEDS.get(action)
        if needed is not None and not self.principal.role.covers(needed):
            return None
        return True

    def heading(self) -> str:
        """The screen's name in the title bar."""
        raise NotImplementedError

    def body(self) -> ComposeResult:
        """The screen's own widgets."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        yield TopBar(self.heading())
        yield from self.body()
        yield Static("", id="status", markup=False)
        yield StaffFooter()

    @on(events.Mount)
    def _steady_cursors(self) -> None:
        if self.app.is_headless:  # tests and snapshots: no blinking cursor to race
            for field in self.query(Input):
                field.cursor_blink = False

    def cursor_key(self, selector: str) -> int | None:
        """The integer row key under the cursor of the table ``selector`` (``None`` if empty)."""
        table = self.query_one(selector, DataTable)
        if table.cursor_row < 0 or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key else None

    def say(self, text: str, *, error: bool = False) -> None:
        """Show ``text`` in the status line (marked as an error when ``error``)."""
        status = self.query_one("#status", Static)
        status.set_class(error, "error")
        status.update(("! " if error else "") + text)

    async def call(
        self,
        operation: Callable[[AsyncSession], Awaitable[T]],
        errors: Mapping[type[Exception], str] | None = None,
    ) -> T | None:
        """``await operation(db)`` in a session that is committed after it; errors shown.

        ``errors`` gives the screen's own words for some errors (the first class the
        error is an instance of wins: list subclasses first); the others any screen
        may meet are put in words by :func:`backoffice.widgets.text.problem`.
        Jobs the operation asked for (an SMS, a webhook push) are enqueued once the
        commit succeeded (:func:`core.queue.commit`; the sweepers are the fallback).
        """
        try:
            async with self.core.db() as db:
                result = await operation(db)
                await queue.commit(db, self.core.queue)
                return result
        except Exception as exc:  # mapped below; anything unexpected is re-raised
            mine = [text for kind, text in (errors or {}).items() if isinstance(exc, kind)]
            message = mine[0] if mine else problem(exc, self.gettext)
            if message is None:
                raise
            self.say(message, error=True)
            return None

    async def done(
        self,
        operation: Callable[[AsyncSession], Awaitable[object]],
        errors: Mapping[type[Exception], str] | None = None,
    ) -> bool:
        """:meth:`call` for an operation that returns nothing: whether it went through."""

        async def run(db: AsyncSession) -> bool:
            await operation(db)
            return True

        return await self.call(run, errors) is not None
