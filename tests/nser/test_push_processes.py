"""Webhook push survives real process trouble: kill -9, a flushed Redis, a failing operator.

Each test runs ``nser worker`` as a real process against the suite's database
and Redis database, and a real receiver in the test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.services import Services
from core.settings import Settings
from nser.receiver import Received
from tests.nser.conftest import bare_environment
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.keys import TEST_ENCRYPTION_KEYS, TEST_INDEX_KEY
from tests.support.push import answers, bookie
from tests.support.staff import self_excluded

ALICE = "+254712000001"


@pytest.fixture
def real_time(clock: Clock) -> None:
    """The services' clock reads now, as the worker process's does."""
    clock.now = datetime.now(UTC)


@pytest.fixture
async def worker(
    settings: Settings, tmp_path: Path, real_time: None
) -> AsyncIterator[Callable[[], subprocess.Popen[bytes]]]:
    """``start()`` runs an ``nser worker`` process; all are stopped at the end."""
    assert settings.database_url is not None
    assert settings.redis_url is not None
    env = bare_environment(
        tmp_path / "data",
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        NSER_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS,
        NSER_INDEX_KEY=TEST_INDEX_KEY,
    )
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "nser", "worker"], env=env, stdout=log, stderr=log
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def logs(tmp_path: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("worker-*.log")))


async def test_a_flushed_redis_loses_nothing_the_sweeper_enqueues_it_again(
    services: Services,
    worker: Callable[[], subprocess.Popen[bytes]],
    rows: RowFetcher,
    tmp_path: Path,
) -> None:
    async with bookie(services, customers={"c-1": ALICE}) as op:
        await self_excluded(services, ALICE)
        await services.redis.flushdb()  # the job is gone; the outbox row is not
        worker()
        await op.receiver.wait_for(lambda r: len(r) == 1, seconds=60)
    assert op.receiver.received[0].verified
    [row] = await rows("webhook_delivery")
    assert (row["status"], row["attempts"]) == ("delivered", 1)
    assert "sweeper enqueued 1 webhook deliveries" in logs(tmp_path)


async def test_a_worker_killed_mid_delivery_is_followed_by_one_that_delivers(
    services: Services,
    worker: Callable[[], subprocess.Popen[bytes]],
    rows: RowFetcher,
) -> None:
    release = asyncio.Event()
    calls = 0

    async def first_hangs(received: Received) -> tuple[int, dict[str, str]]:
        nonlocal calls
        calls += 1
        if calls == 1:
            await release.wait()
        return 204, {}

    async with bookie(services, customers={"c-1": ALICE}, answer=first_hangs) as op:
        doomed = worker()
        await self_excluded(services, ALICE)
        await op.receiver.wait_for(lambda r: len(r) == 1, seconds=60)
        doomed.kill()  # SIGKILL while the POST is in flight
        doomed.wait(timeout=10)
        release.set()
        worker()
        # The killed attempt's lease (20 s) runs out, the sweeper (every 10 s) re-enqueues.
        await op.receiver.wait_for(lambda r: len(r) == 2, seconds=90)
    first, second = op.receiver.received
    assert first.webhook_id == second.webhook_id
    assert second.verified
    assert second.replay  # recognisable by its webhook-id
    [row] = await rows("webhook_delivery")
    assert (row["status"], row["attempts"], row["last_status"]) == ("delivered", 2, 204)


async def test_an_operator_answering_500_for_a_while_gets_it_when_it_recovers(
    services: Services,
    worker: Callable[[], subprocess.Popen[bytes]],
    rows: RowFetcher,
) -> None:
    async with bookie(services, customers={"c-1": ALICE}, answer=answers(500, 500)) as op:
        worker()
        await self_excluded(services, ALICE)
        await op.receiver.wait_for(lambda r: len(r) == 3, seconds=90)  # after 5 s, then 30 s
    ids = {r.webhook_id for r in op.receiver.received}
    assert len(ids) == 1
    assert [r.replay for r in op.receiver.received] == [False, True, True]
    [row] = await rows("webhook_delivery")
    assert ids == {row["message_id"]}
    assert (row["status"], row["attempts"], row["last_status"]) == ("delivered", 3, 204)
