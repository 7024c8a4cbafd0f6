"""Stores down, frozen or flushed: the citizen always gets an answer within 5 s.

Each test runs the app over private servers (:mod:`tests.support.stores`) that
it freezes with ``SIGSTOP`` — what a network blackhole looks like — and thaws
again, and checks the answer, how long it took, and that the service recovers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from core.hints import Hints
from core.services import Services, open_services
from core.settings import Settings
from nser.web import create_app
from tests.support.clock import Clock
from tests.support.stores import Process, migrated_private_postgres, private_redis

#: The gateway gives up at 10-15 s; every answer must come well before.
ANSWER_LIMIT = 5.0
FORM = {"serviceCode": "*384*7#", "phoneNumber": "+254712345678", "networkCode": "63902"}


@pytest.fixture(scope="module")
def frozen_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Process]]:
    """A migrated database on a PostgreSQL server of this module's own."""
    with migrated_private_postgres(tmp_path_factory.mktemp("pg")) as made:
        yield made


@pytest.fixture
def frozen_redis(tmp_path: Path) -> Iterator[tuple[str, Process]]:
    """A Redis server of this test's own."""
    with private_redis(tmp_path) as server:
        yield server


@asynccontextmanager
async def app_over(settings: Settings, clock: Clock, **urls: str) -> AsyncIterator[Caller]:
    services = open_services(settings.model_copy(update=urls), clock=clock)
    # A short cool-down, so recovery is seen within the test.
    services.hints = Hints(services.redis, cooldown_seconds=0.2)
    transport = httpx.ASGITransport(app=create_app(settings, services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Caller(http, services)
    finally:
        await services.close()


class Caller:
    """Posts USSD steps and times each answer."""

    def __init__(self, http: httpx.AsyncClient, services: Services) -> None:
        self.http = http
        self.services = services

    async def step(self, session: str, text: str) -> tuple[str, float]:
        started = time.monotonic()
        response = await self.http.post("/ussd", data={**FORM, "sessionId": session, "text": text})
        assert response.status_code == 200
        return response.text, time.monotonic() - started


async def test_frozen_postgres_gets_a_polite_end_in_time_and_recovers(
    settings: Settings, clock: Clock, frozen_postgres: tuple[str, Process]
) -> None:
    url, postgres = frozen_postgres
    async with app_over(settings, clock, database_url=url) as caller:
        assert (await caller.step("warm", "2*2"))[0].startswith("CON You are not")
        with postgres.frozen():
            menu, menu_time = await caller.step("F1", "2*1")
            confirm, confirm_time = await caller.step("F1", "2*1*2")
            swahili, swahili_time = await caller.step("F2", "1*1*2*1")
        assert menu.startswith("CON Stop betting for how long?")
        assert menu_time < 1.0  # menus never wait for the database
        assert confirm == "END Sorry, something went wrong. Please try again later."
        assert swahili == "END Samahani, hitilafu imetokea. Tafadhali jaribu tena baadaye."
        assert confirm_time < ANSWER_LIMIT
        assert swahili_time < ANSWER_LIMIT
        # Thawed: the same steps work again, without a restart.
        done, _ = await caller.step("F3", "2*1*2*1")
        assert done.startswith("END Done. You are excluded from betting until 21/11/2027.")


async def test_frozen_redis_costs_nothing_but_the_resume_offer(
    settings: Settings,
    clock: Clock,
    frozen_redis: tuple[str, Process],
    database_url: str,
    services: Services,
) -> None:
    url, redis = frozen_redis
    async with app_over(settings, clock, redis_url=url) as caller:
        await caller.step("R1", "2*1*3")  # dropped mid-flow: a resume hint is kept
        with redis.frozen():
            first, first_time = await caller.step("R2", "")
            done, done_time = await caller.step("R2", "2*1*2*1")
        assert first == "CON Karibu NSER / Welcome to NSER\n1. Kiswahili\n2. English"
        assert done.startswith("END Done. You are excluded from betting until 21/11/2027.")
        assert first_time < ANSWER_LIMIT
        assert done_time < ANSWER_LIMIT
        # Thawed: hints are used again after the short cool-down.
        await asyncio.sleep(0.3)
        await caller.step("R3", "2*1*3")
        offer, _ = await caller.step("R4", "")
        assert offer == "CON Continue where you left off?\n1. Continue\n2. Start again"


async def test_stopped_redis_mid_session_loses_nothing(
    settings: Settings, clock: Clock, tmp_path: Path, services: Services
) -> None:
    with ExitStack() as stack:
        url, _redis = stack.enter_context(private_redis(tmp_path))
        async with app_over(settings, clock, redis_url=url) as caller:
            await caller.step("S1", "2*1*2")
            stack.close()  # the Redis server stops between two steps of the session
            done, elapsed = await caller.step("S1", "2*1*2*1")
    assert done.startswith("END Done. You are excluded from betting until 21/11/2027.")
    assert elapsed < ANSWER_LIMIT
