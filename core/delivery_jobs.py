"""The webhook jobs: one attempt per ``deliver_webhook`` job, and the sweeper cron.

Wired into the ARQ worker by ``nser.worker``, which opens a :class:`Push` at
start-up (the per-operator slots and HTTP clients) and puts it in ``ctx``.

* ``deliver_webhook(delivery_id, operator_id, attempt)``: leases the row
  (:func:`core.deliveries.lease`), commits, POSTs (no transaction held across
  HTTP), then settles it and queues the retry, if any, after that commit. At
  most :attr:`Push.per_operator` attempts per operator run at once in a
  worker: a job that finds its operator's slots taken re-defers itself by
  :data:`SLOT_WAIT` instead of holding a worker slot, so one slow or dead
  operator never delays the others.
* ``sweep_deliveries`` (cron every :data:`SWEEP_SECONDS` and at start-up):
  enqueues every pending delivery that is due and has no live lease, so a
  flushed Redis or a killed worker loses nothing; ARQ ignores a job id that is
  already queued, so sweeping what is queued anyway costs one Redis call.

The operator's technical contact is alerted by SMS (:func:`core.alerts.operator_alert`)
when its endpoint is disabled by a ``410`` and when an attempt
fails for a delivery whose event is :data:`FAILING_ALERT_AFTER` old or more (each once a
UTC day while it lasts, so a 72-hour outage sends three or four, not one per retry).
"""

from __future__ import annotations

import logging
import ssl
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from arq import Retry
from sqlmodel.ext.asyncio.session import AsyncSession

from core import alerts, deliveries, operators, outbox, queue, webhooks
from core.deliveries import Lease, Result
from core.models import DeliveryStatus
from core.services import Services

log = logging.getLogger(__name__)

ACTOR = "system:webhooks"
#: How soon a job whose operator's slots are all taken tries again.
SLOT_WAIT = timedelta(seconds=0.5)
SWEEP_SECONDS = 10
SWEEP_BATCH = 1000
#: A delivery still failing this long after its event alerts the operator's technical contact.
FAILING_ALERT_AFTER = timedelta(hours=1)


@dataclass
class OperatorSlots:
    """How many attempts each operator has in flight in this worker, bounded by ``limit``."""

    limit: int
    busy: Counter[int] = field(default_factory=Counter)

    def take(self, operator_id: int) -> bool:
        """Claim a slot for ``operator_id``; ``False`` when all ``limit`` are in use."""
        if self.busy[operator_id] >= self.limit:
            return False
        self.busy[operator_id] += 1
        return True

    def give(self, operator_id: int) -> None:
        """Release a slot claimed with :meth:`take`."""
        self.busy[operator_id] -= 1
        if self.busy[operator_id] <= 0:
            del self.busy[operator_id]


@dataclass
class Push:
    """A worker's webhook resources: the per-operator slots and one HTTP client per operator.

    A client per operator, holding at most its slots' worth of connections: one
    operator's slow or dead endpoint cannot use up connections another needs,
    and httpx's pool stays small (it scans every connection per request).
    """

    slots: OperatorSlots
    tls: ssl.SSLContext
    clients: dict[int, httpx.AsyncClient] = field(default_factory=dict)

    @classmethod
    def open(cls, *, per_operator: int) -> Push:
        """Resources for ``per_operator`` attempts at once to each operator."""
        return cls(OperatorSlots(per_operator), httpx.create_ssl_context())

    def client(self, operator_id: int) -> httpx.AsyncClient:
        """The HTTP client of ``operator_id`` (made on first use, sharing one TLS context)."""
        http = self.clients.get(operator_id)
        if http is None:
            http = webhooks.http_client(connections=self.slots.limit, tls=self.tls)
            self.clients[operator_id] = http
        return http

    async def close(self) -> None:
        """Close every client's connections."""
        clients, self.clients = list(self.clients.values()), {}
        for http in clients:
            await http.aclose()


async def deliver_webhook(
    ctx: dict[str, Any], *, delivery_id: int, operator_id: int, attempt: int
) -> str:
    """Make attempt number ``attempt`` (0-based) of a delivery; returns what became of it.

    ``"not due"`` when the row is not pending, due and on that attempt (another
    job or the sweeper's has it, or it was settled).

    Raises:
        arq.Retry: the operator's slots in this worker are all taken.
    """
    push: Push = ctx["push"]
    if not push.slots.take(operator_id):
        raise Retry(defer=SLOT_WAIT)
    try:
        return await _attempt(
            ctx["services"], push.client(operator_id), delivery_id=delivery_id, attempt=attempt
        )
    finally:
        push.slots.give(operator_id)


async def _attempt(
    services: Services, http: httpx.AsyncClient, *, delivery_id: int, attempt: int
) -> str:
    async with services.db() as db:
        now = services.clock()
        taken = await deliveries.lease(db, delivery_id=delivery_id, attempt=attempt, now=now)
        if taken is None:
            return "not due"
        reason = _unsendable(taken)
        if reason is not None:
            await deliveries.skip(db, taken, reason=reason, now=now)
            await db.commit()
            return DeliveryStatus.SKIPPED.value
        secrets = await operators.signing_secrets(
            db, keyring=services.keyring, operator_id=taken.operator_id, now=now
        )
        await db.commit()
    assert taken.webhook_url is not None
    result = await webhooks.post(
        http,
        url=taken.webhook_url,
        message_id=taken.message_id,
        payload=taken.payload,
        secrets=secrets,
    )
    async with services.db() as db:
        now = services.clock()
        status = await deliveries.settle(db, taken, result=result, actor=ACTOR, now=now)
        await _alert(services, db, taken, result=result, status=status, now=now)
        await queue.commit(db, services.queue)
    _log(taken, result, status)
    return status.value


async def _alert(
    services: Services,
    db: AsyncSession,
    taken: Lease,
    *,
    result: Result,
    status: DeliveryStatus,
    now: datetime,
) -> None:
    """Tell the operator's technical contact its endpoint was disabled, or keeps failing."""
    if status is DeliveryStatus.FAILED and result.status_code == 410:
        incident, template = (
            f"webhook.disabled:op-{taken.operator_id}:{now:%Y-%m-%d}",
            ("operator_webhook_disabled"),
        )
    elif status is not DeliveryStatus.DELIVERED and now - taken.created_at >= FAILING_ALERT_AFTER:
        incident, template = (
            f"webhook.failing:op-{taken.operator_id}:{now:%Y-%m-%d}",
            ("operator_deliveries_failing"),
        )
    else:
        return
    await alerts.operator_alert(
        db,
        keyring=services.keyring,
        operator_id=taken.operator_id,
        incident=incident,
        template=template,
        actor=ACTOR,
        now=now,
    )


def _unsendable(taken: Lease) -> str | None:
    if not taken.operator_active:
        return "operator suspended"
    if taken.webhook_url is None:
        return "no webhook endpoint"
    return None


def _log(taken: Lease, result: Result, status: DeliveryStatus) -> None:
    outcome = result.status_code if result.status_code is not None else result.error
    if status is DeliveryStatus.FAILED:
        log.warning(
            "webhook delivery %d to operator %d failed for good after %d attempts (%s)",
            taken.id,
            taken.operator_id,
            taken.attempts,
            outcome,
        )
    elif status is DeliveryStatus.PENDING:
        log.info(
            "webhook delivery %d to operator %d: attempt %d got %s; will retry",
            taken.id,
            taken.operator_id,
            taken.attempts,
            outcome,
        )


async def sweep_deliveries(ctx: dict[str, Any]) -> int:
    """Enqueue every due pending delivery with no live lease; returns how many were new to ARQ."""
    services: Services = ctx["services"]
    async with services.db() as db:
        due = await outbox.due(db, now=services.clock(), limit=SWEEP_BATCH)
    enqueued = 0
    for row in due:
        job = await services.queue.enqueue_job(
            outbox.JOB,
            _job_id=outbox.job_id(row.id, row.attempts),
            delivery_id=row.id,
            operator_id=row.operator_id,
            attempt=row.attempts,
        )
        enqueued += job is not None
    if enqueued:
        log.info("sweeper enqueued %d webhook deliveries", enqueued)
    return enqueued
