"""Keeping an ARQ worker running through Redis outages, and stopping it cleanly.

ARQ's ``Worker.main()`` ends at the first Redis error (a restart, a network
blip), and a worker cannot be run twice; inside ``nser serve`` that left the
process serving HTTP with no worker, so expiries stopped for good. The
supervisor logs the failure, waits (0.5 s, doubling to 10 s) and runs a fresh
worker, until asked to stop.

Stopping does not use ``Worker.close()``: it logs "shutdown on SIGUSR1" whatever
the signal, re-raises the ``CancelledError`` of the jobs it has just cancelled,
and waits on Redis with no time limit. :meth:`WorkerSupervisor.stop` lets
running jobs finish for a grace period, cancels what is left, and bounds every
Redis call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from arq.worker import Worker
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

FIRST_DELAY = 0.5
MAX_DELAY = 10.0
#: A worker that ran this long (seconds) before failing had recovered: start the back-off over.
STABLE_SECONDS = 60.0
#: Seconds given to Redis for each clean-up call once the worker stops.
REDIS_TIMEOUT = 2.0
#: Seconds a stopping worker gives its running jobs before cancelling them.
GRACE = 5.0


class WorkerSupervisor:
    """Runs workers made by ``factory`` one after another until :meth:`stop`.

    ``factory`` returns a new :class:`arq.worker.Worker` built with
    ``handle_signals=False`` (the process owns its signals).
    """

    def __init__(self, factory: Callable[[], Worker], *, grace: float = GRACE) -> None:
        self._factory = factory
        self._grace = grace
        self._worker: Worker | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._state = "starting"

    def health(self) -> str:
        """``"ok"`` while a worker is connected and polling; else ``"starting"``,
        ``"restarting after <error>"``, ``"stopping"`` or ``"stopped"``."""
        worker = self._worker
        if self._stopping.is_set() or worker is None:
            return self._state
        main = worker.main_task
        # ARQ puts its pool in ctx once it is connected, before polling starts.
        if main is not None and not main.done() and worker.ctx.get("redis") is not None:
            return "ok"
        return self._state

    def start(self) -> asyncio.Task[None]:
        """Start supervising in a task of the running loop; the task ends only after
        :meth:`stop`, or with an error from ``factory``."""
        self._task = asyncio.create_task(self._run(), name="worker-supervisor")
        return self._task

    async def _run(self) -> None:
        delay = FIRST_DELAY
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            worker = self._worker = self._factory()
            began = loop.time()
            try:
                await worker.async_run()
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    return  # stop() cancelled the worker's main task
                raise
            except Exception as exc:  # any failure of the worker is survived the same way
                if loop.time() - began > STABLE_SECONDS:
                    delay = FIRST_DELAY
                self._state = f"restarting after {type(exc).__name__}"
                log.warning(
                    "worker stopped by %s: %s; starting a new one in %.1f s",
                    type(exc).__name__,
                    exc,
                    delay,
                )
            else:
                return  # burst mode: the queue is empty
            self._worker = None  # stop() from now on only waits for this loop
            await self._dispose(worker)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, MAX_DELAY)

    async def stop(self, signum: signal.Signals = signal.SIGTERM) -> None:
        """Stop the worker: no new jobs, ``grace`` seconds for running ones, then cancel.

        Never raises; takes at most ``grace`` plus about 2 × :data:`REDIS_TIMEOUT` seconds.
        """
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._state = "stopping"
        worker = self._worker
        if worker is not None:
            worker.allow_pick_jobs = False
            running = [task for task in worker.tasks.values() if not task.done()]
            if running:
                await asyncio.wait(running, timeout=self._grace)
            if worker.main_task is not None and not worker.main_task.done():
                worker.handle_sig(signum)  # logs "shutdown on SIG…", cancels what is left
            await self._dispose(worker)
        if self._task is not None:
            (outcome,) = await asyncio.gather(self._task, return_exceptions=True)
            if isinstance(outcome, Exception):
                log.error("worker supervisor failed: %r", outcome)
        self._state = "stopped"

    async def _dispose(self, worker: Worker) -> None:
        """Cancel what ``worker`` still runs and release its Redis pool, within bounded time."""
        tasks = [task for task in worker.tasks.values() if not task.done()]
        if worker.main_task is not None:
            tasks.append(worker.main_task)
        for task in tasks:
            task.cancel()
        # return_exceptions: collect the cancellations and failures, do not re-raise them.
        await asyncio.gather(*tasks, return_exceptions=True)
        pool = worker.ctx.get("redis")
        if pool is None:
            return
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await asyncio.wait_for(pool.delete(worker.health_check_key), REDIS_TIMEOUT)
        if worker.on_shutdown is not None:
            try:
                await worker.on_shutdown(worker.ctx)
            except Exception:
                log.exception("worker shutdown hook failed")
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            await asyncio.wait_for(pool.aclose(close_connection_pool=True), REDIS_TIMEOUT)
