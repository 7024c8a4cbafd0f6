"""Running the back-office under Pilot, at 80×24, with its own services as a real process would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from backoffice.app import BackofficeApp
from core.services import open_services
from core.settings import Settings
from tests.support.clock import Clock
from tests.support.staff import Member

SIZE = (80, 24)
AppFactory = Callable[[], BackofficeApp]
ENROL_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@pytest.fixture
def make_app(settings: Settings, clock: Clock) -> AppFactory:
    """``make_app()``: a back-office that opens its own services (one per staff session)."""

    def make() -> BackofficeApp:
        return BackofficeApp(
            open_services=lambda: open_services(settings, clock=clock, pool_size=2),
            new_secret=lambda: ENROL_SECRET,
        )

    return make


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and the screen repaint."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Focus the field ``selector`` and fill it with ``text`` (Enter is pressed separately)."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    await pilot.pause()


async def fill(pilot: Pilot[Any], key: str, **values: str) -> None:
    """Press ``key`` for a form, type ``values`` into its fields and confirm."""
    await pilot.press(key)
    await settle(pilot)
    for field, text in values.items():
        await type_into(pilot, f"#{field}", text)
    await pilot.press("enter")
    await settle(pilot)


async def sign_in(pilot: Pilot[Any], who: Member, clock: Clock, *, code: str | None = None) -> None:
    """Type username, password and the current code, and submit."""
    await type_into(pilot, "#username", who.principal.username)
    await type_into(pilot, "#password", who.password)
    await type_into(pilot, "#code", who.code(clock.now) if code is None else code)
    await pilot.press("enter")
    await settle(pilot)


def status(pilot: Pilot[Any]) -> str:
    """The status line of the current screen."""
    return str(pilot.app.screen.query_one("#status", Static).render())


def cells(pilot: Pilot[Any], selector: str) -> list[list[str]]:
    """Every row of a table on the current screen, as text."""
    table = pilot.app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def screen_text(pilot: Pilot[Any]) -> str:
    """What the terminal shows now, as plain text lines (trailing spaces dropped)."""
    strips = pilot.app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)
