from __future__ import annotations

from core.models import Role
from core.services import Services
from tests.backoffice.conftest import SIZE, AppFactory, cells, sign_in, status
from tests.support.clock import Clock
from tests.support.staff import excluded, member


async def test_smoke(services: Services, make_app: AppFactory, clock: Clock) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    await excluded(services)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, olive, clock)
        print(type(app.screen).__name__, status(pilot))
        print(cells(pilot, "#new"))
        print(app.export_screenshot()[:100])
        await pilot.press("l")
        await pilot.pause()
        print(type(app.screen).__name__, status(pilot))
        print(cells(pilot, "#requests"))
