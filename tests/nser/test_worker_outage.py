"""The worker inside ``nser serve`` survives a Redis outage of a few seconds."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path

from arq import create_pool
from arq.connections import RedisSettings

from core.queue import QUEUE
from tests.nser.conftest import Nser, RedisServer, bare_environment

OUTAGE_SECONDS = 4


async def run_expiry_job(port: int) -> object:
    pool = await create_pool(RedisSettings(port=port), default_queue_name=QUEUE)
    try:
        job = await pool.enqueue_job("expire_exclusions")
        assert job is not None
        return await job.result(timeout=30)
    finally:
        await pool.aclose()


def test_worker_resumes_after_redis_comes_back(
    tmp_path: Path,
    database_url: str,
    redis_server: RedisServer,
    run_nser: Callable[..., Nser],
) -> None:
    env = bare_environment(
        tmp_path / "data",
        DATABASE_URL=database_url,
        REDIS_URL=redis_server.url,
    )
    server = run_nser(env)
    assert server.wait_healthy()["worker"] == "ok"

    redis_server.stop()
    down = server.wait_for(lambda body: body is not None and body["worker"] != "ok", 30)
    assert down is not None
    assert down["status"] == "unavailable"
    time.sleep(OUTAGE_SECONDS)  # the outage itself
    redis_server.start()

    assert server.wait_healthy(60)["worker"] == "ok"
    assert asyncio.run(run_expiry_job(redis_server.port)) == 0
    assert server.stop(signal.SIGTERM) == 0
    output = server.output()
    assert "WARNING nser.supervisor: worker stopped by ConnectionError" in output
    assert "Traceback" not in output
