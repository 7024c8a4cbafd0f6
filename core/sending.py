"""Sending MT SMS from ARQ jobs: the gateway interface, the send rate, retries, the sweeper.

Only jobs send (never a request handler). :func:`send_sms` claims one queued
message of the log (:mod:`core.messages`), renders it if needed, waits for a
slot of the send rate (``NSER_SMS_RATE`` per second, shared by every worker
through Redis), hands it to the :class:`SmsGateway` outside any transaction,
bounded by ``NSER_SMS_TIMEOUT``, and records the answer:

* accepted: ``sent`` (a delivery report ends it later);
* refused for good (invalid number, blacklisted, …): ``failed`` at once;
* refused for a reason that may pass (no balance, gateway or HTTP error,
  timeout): ``queued`` again after :data:`BACKOFF` (1, 2, 5, 10, 30 minutes),
  then ``failed`` after :data:`MAX_ATTEMPTS`. The sweeper (:func:`sweep_messages`,
  every minute) hands due messages to new jobs, so a lost job or Redis costs a
  delay, never a message.

An insufficient balance, or sending failing for ``NSER_SMS_ALERT_MINUTES``,
alerts the regulator's operations number (:mod:`core.alerts`) once per day
(balance) or hour (failures).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlmodel.ext.asyncio.session import AsyncSession

from core import alerts, messages, notices, queue
from core.messages import Claimed
from core.models import MessageKind
from core.services import Services
from core.subjects import MSISDN_FIELD

log = logging.getLogger(__name__)

#: Seconds before the next attempt after attempt 1, 2, … failed for a passing reason.
BACKOFF = (60, 120, 300, 600, 1800)
MAX_ATTEMPTS = len(BACKOFF) + 1
#: A message left ``sending`` this long (its worker died) is queued again by the sweeper.
STUCK_AFTER = timedelta(minutes=5)


class Outcome(enum.StrEnum):
    """What the gateway made of one attempt."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Submission:
    """The gateway's answer to one message.

    ``status`` is the gateway's word for it (``Success``, ``UserInBlacklist``,
    ``HTTP 500``, …); ``gateway_id`` the id its delivery reports will carry;
    ``low_balance`` is set when the account ran out of credit.
    """

    outcome: Outcome
    status: str
    gateway_id: str | None = None
    cost: str | None = None
    low_balance: bool = False


class SmsGateway(Protocol):
    """Where MT SMS go (built by the composition root from ``NSER_SMS_GATEWAY``)."""

    name: str

    async def send(
        self, *, to: str, body: str, link_id: str | None = None, short_code: str | None = None
    ) -> Submission:
        """Hand one message for E.164 number ``to`` to the gateway.

        With ``link_id`` (the ``linkId`` of the MO this replies to) it is a
        premium reply linked to that MO, from ``short_code``.

        Raises nothing on purpose for a refusal (that is a :class:`Submission`);
        an unexpected exception is treated as a passing failure.
        """
        ...


class SendRate:
    """At most ``rate`` messages per second across every worker (a Redis window counter).

    ``clock`` is wall-clock seconds (shared by every worker's machine); ``sleep``
    waits (tests pass their own).

    The window is one second (or ``1/rate`` seconds below one a second); a
    sender that finds the window full sleeps until the next one. With Redis
    unavailable the limit is skipped (logged): sending must not stop for it.
    """

    def __init__(
        self,
        redis: Redis,
        rate: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.redis = redis
        self.window = max(1.0, 1.0 / rate)
        self.allowance = max(1, int(rate * self.window))
        self.clock = clock
        self.sleep = sleep

    async def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock()
            slot = int(now // self.window)
            key = f"nser:sms:rate:{slot}"
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, int(self.window) + 2)
                    count, _ = await pipe.execute()
            except (RedisError, OSError) as exc:
                log.warning("send rate not enforced (%s)", type(exc).__name__)
                return waited
            if count <= self.allowance:
                return waited
            pause = (slot + 1) * self.window - now
            await self.sleep(pause)
            waited += pause


async def _claim(services: Services, message_id: int) -> tuple[Claimed, str] | None:
    """Claim the message and render its text (kept, so retries send the same words)."""
    async with services.db() as db:
        claimed = await messages.claim(db, message_id=message_id, now=services.clock())
        if claimed is None:
            return None
        body = claimed.body
        if body is None:
            assert claimed.template is not None
            body = notices.render(
                claimed.template,
                claimed.params or {},
                _=services.catalogues.gettext(claimed.language),
                lang=claimed.language,
                settings=services.settings,
            )
            await messages.set_body(db, message_id=message_id, body=body)
        await db.commit()
    return claimed, body


async def _hand_over(ctx: dict[str, Any], claimed: Claimed, to: str, body: str) -> Submission:
    services: Services = ctx["services"]
    gateway: SmsGateway = ctx["sms_gateway"]
    rate: SendRate = ctx["sms_rate"]
    await rate.acquire()
    try:
        async with asyncio.timeout(services.settings.sms_timeout + 1):
            return await gateway.send(
                to=to, body=body, link_id=claimed.link_id, short_code=claimed.short_code
            )
    except TimeoutError:
        return Submission(Outcome.RETRY, "Timeout")
    except Exception as exc:  # a gateway bug must not lose the message: retried
        log.exception("SMS gateway %s failed unexpectedly", gateway.name)
        return Submission(Outcome.RETRY, type(exc).__name__)


async def _alerts(
    services: Services, db: AsyncSession, claimed: Claimed, submission: Submission, now: datetime
) -> None:
    """Alert operations about the gateway: no balance (once a day), failing (once an hour)."""
    if claimed.kind == MessageKind.ALERT:
        return  # an alert that cannot be sent is in the log at ERROR already
    failing_since = claimed.first_failed_at or now
    minutes = int((now - failing_since).total_seconds() // 60)
    due: list[tuple[str, str, dict[str, Any]]] = []
    if submission.low_balance:
        due.append((f"sms.low_balance:{now:%Y-%m-%d}", "ops_low_balance", {}))
    if submission.outcome is Outcome.RETRY and minutes >= services.settings.sms_alert_minutes:
        params = {"minutes": minutes, "reason": submission.status[:24]}
        due.append((f"sms.failing:{now:%Y-%m-%dT%H}", "ops_sending_failing", params))
    for incident, template, values in due:
        await alerts.ops_alert(
            db,
            settings=services.settings,
            keyring=services.keyring,
            incident=incident,
            template=template,
            params=values,
            now=now,
        )


async def _record(services: Services, claimed: Claimed, submission: Submission) -> Outcome:
    now = services.clock()
    outcome = submission.outcome
    async with services.db() as db:
        if outcome is Outcome.SENT:
            await messages.record_sent(
                db,
                message_id=claimed.id,
                gateway_id=submission.gateway_id,
                gateway_status=submission.status,
                cost=submission.cost,
                now=now,
            )
        elif outcome is Outcome.RETRY and claimed.attempts < MAX_ATTEMPTS:
            await messages.record_retry(
                db,
                message_id=claimed.id,
                gateway_status=submission.status,
                reason=submission.status,
                retry_at=now + timedelta(seconds=BACKOFF[claimed.attempts - 1]),
                now=now,
            )
        else:
            outcome = Outcome.FAILED
            await messages.record_failed(
                db,
                message_id=claimed.id,
                gateway_status=submission.status,
                reason=submission.status[:64],
                now=now,
            )
        await _alerts(services, db, claimed, submission, now)
        await queue.commit(db, services.queue)
    return outcome


async def send_message(ctx: dict[str, Any], message_id: int) -> str:
    """ARQ job ``send_sms``: one attempt at sending message ``message_id``; what became of it.

    ``"skipped"`` when the message is not queued (sent already, or another job
    has it), else ``"sent"``, ``"retry"`` or ``"failed"``.
    """
    services: Services = ctx["services"]
    taken = await _claim(services, message_id)
    if taken is None:
        return "skipped"
    claimed, body = taken
    to = services.keyring.open(claimed.msisdn_sealed, field=MSISDN_FIELD)
    submission = await _hand_over(ctx, claimed, to, body)
    outcome = await _record(services, claimed, submission)
    if outcome is not Outcome.SENT:
        log.warning(
            "SMS %d attempt %d: %s (%s)", claimed.id, claimed.attempts, outcome, submission.status
        )
    return outcome.value


async def sweep_messages(ctx: dict[str, Any]) -> int:
    """ARQ cron: hand every due queued message to a sending job; returns how many."""
    services: Services = ctx["services"]
    async with services.db() as db:
        due = await messages.due(db, now=services.clock(), stuck_after=STUCK_AFTER)
        for message_id in due:
            await queue.later(
                db, messages.SEND_JOB, job_id=messages.job_id(message_id), message_id=message_id
            )
        await queue.commit(db, services.queue)
    return len(due)
