"""The MT message log: writing messages to send, claiming them, recording what happened.

A message is written in the transaction of whatever caused it (a reply, an
exclusion event, a reminder) with :func:`write` or :func:`write_for_subject`,
and its sending job is recorded with :func:`core.queue.later`, so it reaches
ARQ only once that transaction commits. ``dedupe_key`` is unique: writing the
same message twice writes nothing the second time, so a repeated cause (a
re-run job, a sweeper) never sends twice. The sending job (:mod:`core.sending`)
claims a message (``queued`` → ``sending``), calls the gateway outside any
transaction, then records the answer; delivery reports (:func:`apply_report`)
move it to ``delivered`` or ``failed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core import queue
from core.crypto import KeyRing
from core.db import Driver
from core.models import MessageKind, MessageStatus, SmsMessage, SmsReminderOptOut, Subject
from core.subjects import MSISDN_FIELD

MESSAGE = SmsMessage.__table__  # type: ignore[attr-defined]
SUBJECT = Subject.__table__  # type: ignore[attr-defined]
OPT_OUT = SmsReminderOptOut.__table__  # type: ignore[attr-defined]
#: The ARQ function that sends one message (registered by ``nser.worker``).
SEND_JOB = "send_sms"
#: Kinds a citizen can turn off with the reminders keyword (never confirmations or replies).
OPTIONAL_KINDS = frozenset({MessageKind.REMINDER, MessageKind.EXPIRY})
FINAL = (MessageStatus.DELIVERED.value, MessageStatus.FAILED.value)


def job_id(message_id: int) -> str:
    """The ARQ job id of sending message ``message_id`` (unique while queued or running)."""
    return f"sms:{message_id}"


async def _enqueue_after_commit(session: AsyncSession, message_id: int) -> None:
    await queue.later(session, SEND_JOB, job_id=job_id(message_id), message_id=message_id)


async def write(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    e164: str,
    kind: MessageKind,
    dedupe_key: str,
    language: str,
    now: datetime,
    body: str | None = None,
    template: str | None = None,
    params: dict[str, Any] | None = None,
    enqueue: bool = True,
    link_id: str | None = None,
    short_code: str | None = None,
) -> int | None:
    """Write one message to ``e164`` (a normalised MSISDN) and send it after commit.

    Give ``body`` (already rendered), or ``template`` and ``params`` for the
    sending job to render (:func:`core.notices.render`). ``enqueue=False`` is for
    a job that sends it itself right after its commit (the sweeper is the
    fallback). ``link_id`` and ``short_code`` (a reply to an MO that carried a
    ``linkId``, and the shortcode it was sent to) make it a premium reply
    linked to that MO. Returns the new message's id, or ``None`` when
    ``dedupe_key`` was written before.
    """
    statement = (
        insert(MESSAGE)
        .values(
            kind=kind.value,
            dedupe_key=dedupe_key,
            template=template,
            params=params,
            language=language,
            body=body,
            link_id=link_id,
            short_code=short_code,
            msisdn_sealed=keyring.seal(e164, field=MSISDN_FIELD),
            msisdn_bidx=keyring.blind_index(e164, field=MSISDN_FIELD),
            status=MessageStatus.QUEUED.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(MESSAGE.c.id)
    )
    message_id: int | None = (await (await session.connection()).execute(statement)).scalar()
    if message_id is not None and enqueue:
        await _enqueue_after_commit(session, message_id)
    return message_id


def _for_subject(*, optional: bool) -> Driver:
    """``INSERT … SELECT`` of a notice from the subject's row (see :func:`write_for_subject`)."""
    source = select(
        bindparam("kind", type_=String),
        bindparam("dedupe_key", type_=String),
        bindparam("template", type_=String),
        bindparam("params", type_=MESSAGE.c.params.type),
        SUBJECT.c.language,
        SUBJECT.c.msisdn_sealed,
        SUBJECT.c.msisdn_bidx,
        bindparam("exclusion_id", type_=MESSAGE.c.exclusion_id.type),
        literal(MessageStatus.QUEUED.value),
        literal(0),
        bindparam("send_at", type_=DateTime(timezone=True)),
        bindparam("now", type_=DateTime(timezone=True)),
        bindparam("now", type_=DateTime(timezone=True)),
    ).where(
        SUBJECT.c.id == bindparam("subject_id", type_=BigInteger),
        SUBJECT.c.msisdn_bidx.is_not(None),
    )
    if optional:
        source = source.where(~exists().where(OPT_OUT.c.msisdn_bidx == SUBJECT.c.msisdn_bidx))
    columns = [
        "kind",
        "dedupe_key",
        "template",
        "params",
        "language",
        "msisdn_sealed",
        "msisdn_bidx",
        "exclusion_id",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "updated_at",
    ]
    return Driver(
        insert(MESSAGE)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(MESSAGE.c.id)
    )


# On the driver (core.db.Driver): a confirmation is written on the citizen's hot path.
_FOR_SUBJECT = _for_subject(optional=False)
_FOR_SUBJECT_OPTIONAL = _for_subject(optional=True)


async def write_for_subject(
    session: AsyncSession,
    *,
    subject_id: int,
    kind: MessageKind,
    dedupe_key: str,
    template: str,
    params: dict[str, Any],
    exclusion_id: int | None,
    now: datetime,
    send_at: datetime | None = None,
    optional: bool | None = None,
) -> int | None:
    """Write a notice to a subject's number, in its preferred language, in one statement.

    The subject's sealed number and blind index are copied as they are (never
    opened here). ``optional`` notices (by default the kinds of
    :data:`OPTIONAL_KINDS`: reminders and expiry notices) are skipped for a
    number that turned them off; ``optional=False`` is for a reminder the
    citizen opted in to and can turn off at its source. ``send_at`` (later
    than ``now``) holds the message back until then: the sweeper hands it on.
    Returns the message id, or ``None`` when nothing was written (already
    written, or turned off).
    """
    skip_opted_out = optional if optional is not None else kind in OPTIONAL_KINDS
    statement = _FOR_SUBJECT_OPTIONAL if skip_opted_out else _FOR_SUBJECT
    send_at = max(send_at or now, now)
    values = {
        "kind": kind.value,
        "dedupe_key": dedupe_key,
        "template": template,
        "params": params,
        "exclusion_id": exclusion_id,
        "subject_id": subject_id,
        "now": now,
        "send_at": send_at,
    }
    row = await statement.first(session, values)
    message_id: int | None = None if row is None else row["id"]
    if message_id is not None and send_at <= now:
        await _enqueue_after_commit(session, message_id)
    return message_id


@dataclass(frozen=True)
class Claimed:
    """A message taken for one sending attempt (``attempts`` counts this one)."""

    id: int
    kind: str
    language: str
    body: str | None
    template: str | None
    params: dict[str, Any] | None
    msisdn_sealed: bytes
    attempts: int
    first_failed_at: datetime | None
    link_id: str | None
    short_code: str | None


_CLAIM = (
    update(MESSAGE)
    .where(
        MESSAGE.c.id == bindparam("message_id"),
        MESSAGE.c.status == MessageStatus.QUEUED.value,
        MESSAGE.c.next_attempt_at <= bindparam("now"),
    )
    .values(
        status=MessageStatus.SENDING.value,
        attempts=MESSAGE.c.attempts + 1,
        updated_at=bindparam("now"),
    )
    .returning(
        MESSAGE.c.id,
        MESSAGE.c.kind,
        MESSAGE.c.language,
        MESSAGE.c.body,
        MESSAGE.c.template,
        MESSAGE.c.params,
        MESSAGE.c.msisdn_sealed,
        MESSAGE.c.attempts,
        MESSAGE.c.first_failed_at,
        MESSAGE.c.link_id,
        MESSAGE.c.short_code,
    )
)


async def claim(session: AsyncSession, *, message_id: int, now: datetime) -> Claimed | None:
    """Take a queued, due message for one attempt; ``None`` if not (sent, taken, or held back)."""
    params = {"message_id": message_id, "now": now}
    row = (await (await session.connection()).execute(_CLAIM, params)).first()
    return Claimed(**row._mapping) if row is not None else None


async def _update(session: AsyncSession, message_id: int, **values: Any) -> None:
    statement = update(MESSAGE).where(MESSAGE.c.id == message_id).values(**values)
    await (await session.connection()).execute(statement)


async def set_body(session: AsyncSession, *, message_id: int, body: str) -> None:
    """Keep the text rendered for a message, so every attempt sends the same words."""
    await _update(session, message_id, body=body)


async def record_sent(
    session: AsyncSession,
    *,
    message_id: int,
    gateway_id: str | None,
    gateway_status: str | None,
    cost: str | None,
    now: datetime,
) -> None:
    """The gateway accepted the message (``sent``; a delivery report will follow)."""
    await _update(
        session,
        message_id,
        status=MessageStatus.SENT.value,
        gateway_message_id=gateway_id,
        gateway_status=gateway_status,
        cost=cost,
        sent_at=now,
        updated_at=now,
    )


async def record_retry(
    session: AsyncSession,
    *,
    message_id: int,
    gateway_status: str | None,
    reason: str,
    retry_at: datetime,
    now: datetime,
) -> None:
    """The attempt failed for a reason that may pass: ``queued`` again from ``retry_at``.

    The sweeper (:func:`due`) hands it to a sending job once ``retry_at`` has come.
    """
    await _update(
        session,
        message_id,
        status=MessageStatus.QUEUED.value,
        gateway_status=gateway_status,
        failure_reason=reason,
        next_attempt_at=retry_at,
        first_failed_at=func.coalesce(MESSAGE.c.first_failed_at, now),
        updated_at=now,
    )


async def record_failed(
    session: AsyncSession,
    *,
    message_id: int,
    gateway_status: str | None,
    reason: str,
    now: datetime,
) -> None:
    """The message will never be sent (a final failure staff can see)."""
    await _update(
        session,
        message_id,
        status=MessageStatus.FAILED.value,
        gateway_status=gateway_status,
        failure_reason=reason,
        final_at=now,
        updated_at=now,
    )


#: Africa's Talking delivery report statuses that end a message, and what they mean here.
FINAL_REPORTS = {
    "Success": MessageStatus.DELIVERED,
    "Failed": MessageStatus.FAILED,
    "Rejected": MessageStatus.FAILED,
    "AbsentSubscriber": MessageStatus.FAILED,
    "Expired": MessageStatus.FAILED,
}


async def apply_report(
    session: AsyncSession,
    *,
    gateway_id: str,
    status: str,
    failure_reason: str | None,
    network_code: str | None,
    now: datetime,
) -> bool:
    """Apply one delivery report; True when it changed a message.

    A final report (:data:`FINAL_REPORTS`) ends the message unless an earlier
    final one did; an intermediate one (``Sent``, ``Submitted``, ``Buffered``)
    only updates ``gateway_status`` of a message not yet final. So repeated and
    out-of-order reports are harmless: the first final report wins.
    """
    final = FINAL_REPORTS.get(status)
    values: dict[str, Any] = {
        "gateway_status": status,
        "updated_at": now,
        "network_code": network_code,
    }
    if final is not None:
        values.update(status=final.value, final_at=now, failure_reason=failure_reason)
    statement = (
        update(MESSAGE)
        .where(MESSAGE.c.gateway_message_id == gateway_id, MESSAGE.c.final_at.is_(None))
        .values(**values)
    )
    result = await (await session.connection()).execute(statement)
    return bool(result.rowcount)


@dataclass(frozen=True)
class Failure:
    """A message that finally failed, as staff see it (no number: its blind index only)."""

    id: int
    kind: str
    msisdn_bidx: str
    gateway_status: str | None
    failure_reason: str | None
    attempts: int
    created_at: datetime
    final_at: datetime | None


async def failures(
    session: AsyncSession, *, since: datetime, msisdn_bidx: str | None = None, limit: int = 100
) -> list[Failure]:
    """Messages that finally failed since ``since``, newest first (for the back-office)."""
    statement = (
        select(*(MESSAGE.c[name] for name in Failure.__dataclass_fields__))
        .where(MESSAGE.c.status == MessageStatus.FAILED.value, MESSAGE.c.final_at >= since)
        .order_by(MESSAGE.c.final_at.desc())
        .limit(limit)
    )
    if msisdn_bidx is not None:
        statement = statement.where(MESSAGE.c.msisdn_bidx == msisdn_bidx)
    result = await (await session.connection()).execute(statement)
    return [Failure(**row._mapping) for row in result]


async def due(
    session: AsyncSession, *, now: datetime, stuck_after: timedelta, limit: int = 500
) -> list[int]:
    """Ids of messages the sweeper should hand to a sending job again.

    Queued ones whose next attempt is due, and ones left ``sending`` longer
    than ``stuck_after`` (a worker died mid-attempt: they are queued again,
    so such a message may be sent twice; never lost).
    """
    stuck = and_(
        MESSAGE.c.status == MessageStatus.SENDING.value,
        MESSAGE.c.updated_at < now - stuck_after,
    )
    revive = update(MESSAGE).where(stuck).values(status=MessageStatus.QUEUED.value, updated_at=now)
    conn = await session.connection()
    await conn.execute(revive)
    statement = (
        select(MESSAGE.c.id)
        .where(
            MESSAGE.c.status == MessageStatus.QUEUED.value,
            MESSAGE.c.next_attempt_at <= now,
        )
        .order_by(MESSAGE.c.next_attempt_at)
        .limit(limit)
    )
    return list((await conn.execute(statement)).scalars())
