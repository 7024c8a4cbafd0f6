"""Operators with real webhook receivers, customers, exclusions and workers for the push tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

from core import operators, subscriptions
from core.services import Services
from core.settings import Settings
from nser.receiver import (
    Answer,
    Received,
    WebhookReceiver,
    listening_socket,
    serving,
    verified_or_401,
)
from nser.supervisor import GRACE, WorkerSupervisor
from nser.worker import create_worker

_licences = itertools.count(1)


@dataclass
class Bookie:
    """A registered operator: its id, first API key, webhook secret and receiver (if any)."""

    id: int
    key: str
    secret: str
    receiver: WebhookReceiver


async def register(
    services: Services,
    *,
    name: str = "Bookie",
    url: str | None,
    customers: dict[str, str],
    contact: str | None = None,
) -> tuple[int, str, str]:
    """Register an operator with ``url`` and subscribe ``customers`` (ref -> MSISDN).

    ``contact`` is the technical contact's phone, told by SMS of delivery trouble.

    Returns its id, first API key and webhook secret.
    """
    now = services.clock()
    async with services.db() as db:
        made = await operators.register(
            db,
            keyring=services.keyring,
            name=name,
            licence=f"BCLB-{next(_licences):05d}",
            webhook_url=url,
            contact_name="Tech desk" if contact else None,
            contact_phone=contact,
            actor="test",
            now=now,
        )
        for ref, msisdn in customers.items():
            ids = subscriptions.identifiers(services.keyring, msisdn=msisdn, national_id=None)
            await subscriptions.subscribe(
                db, operator_id=made.id, customer_ref=ref, identifiers=ids, now=now
            )
        await db.commit()
    return made.id, made.api_key.key, made.webhook_secret


@contextlib.asynccontextmanager
async def receiving(
    answer: Answer = verified_or_401,
) -> AsyncIterator[tuple[WebhookReceiver, str]]:
    """A real webhook receiver on 127.0.0.1 and its URL, for the block's length.

    It knows no secret yet: append the operator's to ``receiver.secrets``.
    """
    receiver = WebhookReceiver([], answer=answer)
    async with serving(receiver.app(), listening_socket()) as base:
        yield receiver, f"{base}/webhooks"


@contextlib.asynccontextmanager
async def bookie(
    services: Services,
    *,
    name: str = "Bookie",
    customers: dict[str, str],
    answer: Answer = verified_or_401,
    contact: str | None = None,
) -> AsyncIterator[Bookie]:
    """An operator whose webhook URL is a real receiver on 127.0.0.1, for the block's length."""
    async with receiving(answer) as (receiver, url):
        operator_id, key, secret = await register(
            services, name=name, url=url, customers=customers, contact=contact
        )
        receiver.secrets.append(secret)
        yield Bookie(operator_id, key, secret, receiver)


async def run_burst(settings: Settings, services: Services) -> None:
    """Run a real ARQ worker until its queue is empty (deferred jobs included).

    Jobs still finishing their bookkeeping when the queue empties get the
    supervisor's grace period before ``Worker.close()`` (which cancels them).
    """
    worker = create_worker(settings, services=services, burst=True, handle_signals=False)
    try:
        await worker.async_run()
        finishing = [task for task in worker.tasks.values() if not task.done()]
        if finishing:
            await asyncio.wait(finishing, timeout=GRACE)
    finally:
        await worker.close()


@contextlib.asynccontextmanager
async def worker_running(settings: Settings, services: Services) -> AsyncIterator[None]:
    """A real ARQ worker polling in this event loop for the block's length.

    Run and stopped by the supervisor ``nser serve`` uses: at the end running jobs
    get its grace period, then what is left is cancelled. (Cancelling the worker's
    task and calling ``Worker.close()`` re-raised the ``CancelledError`` of a job
    still finishing its bookkeeping: a test failing one run in a few.)
    """
    supervisor = WorkerSupervisor(
        lambda: create_worker(settings, services=services, handle_signals=False)
    )
    supervisor.start()
    try:
        yield
    finally:
        await supervisor.stop()


def answers(*codes: int, then: int = 204, headers: dict[str, str] | None = None) -> Answer:
    """A policy answering ``codes`` in turn to verified deliveries, then ``then`` for good."""
    queued = list(codes)

    async def answer(received: Received) -> tuple[int, dict[str, str]]:
        if not received.verified:
            return 401, {}
        if queued:
            return queued.pop(0), dict(headers or {})
        return then, {}

    return answer
