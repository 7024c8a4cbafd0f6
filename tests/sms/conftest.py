"""Fixtures of the SMS tests: handsets that text the shortcode, and the burst worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from core.services import Services
from core.settings import Settings
from tests.support.texter import Texter
from tests.support.worker import drain


@pytest.fixture
def texter(client: httpx.AsyncClient, services: Services) -> Callable[..., Texter]:
    """Factory of handsets: ``texter()`` or ``texter("+254722000000")``."""

    def make(number: str = "+254712345678") -> Texter:
        return Texter(client, services, number)

    return make


@pytest.fixture
def work(settings: Settings, services: Services) -> Callable[[], Awaitable[None]]:
    """``await work()``: the real worker runs every queued job, then stops."""

    async def run() -> None:
        await drain(settings, services)

    return run
