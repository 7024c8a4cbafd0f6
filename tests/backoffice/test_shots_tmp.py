from __future__ import annotations
import os
from core.models import Role
from core.services import Services
from tests.backoffice.conftest import screen_text, SIZE, AppFactory, cells, sign_in, status, settle, type_into
from tests.support.clock import Clock
from tests.support.staff import excluded, member


async def test_shots(services: Services, make_app: AppFactory, clock: Clock) -> None:
    olive = await member(services, "olive", Role.OFFICER)
    ex = await excluded(services)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        print("=== login"); print(screen_text(pilot))
        await sign_in(pilot, olive, clock)
        print("=== dash"); print(screen_text(pilot))
        await pilot.press("slash"); await settle(pilot)
        await type_into(pilot, "#query", ex.reference); await pilot.press("enter"); await settle(pilot)
        print("=== search"); print(screen_text(pilot))
        await pilot.press("escape"); await pilot.press("l"); await settle(pilot)
        await pilot.press("n"); await settle(pilot)
        await pilot.press(*ex.reference); await pilot.press("enter"); await pilot.press(*"Citizen asked at the counter"); 
        print("=== form"); print(screen_text(pilot))
        await pilot.press("enter"); await settle(pilot)
        print("=== lifts"); print(screen_text(pilot))
        await pilot.press("a"); await settle(pilot)
        await pilot.press("v"); await settle(pilot)
        print("=== audit"); print(screen_text(pilot))
        await pilot.press("question_mark"); await settle(pilot)
        print("=== help"); print(screen_text(pilot))
