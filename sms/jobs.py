"""The SMS channel's background jobs (registered by ``nser.worker``).

* ``process_sms(inbound_id)``: act on one stored MO, write its reply and send it, after
  any earlier unprocessed MO of the same sender (each in a transaction of its
  own, under a lock on the sender's number so two workers never interleave one
  conversation). Its effects, its reply and ``processed_at`` commit together,
  so a re-run does nothing.
* ``sweep_inbound`` (cron, every minute): hands MOs left unprocessed for
  :data:`SWEEP_AFTER` (the worker or Redis was down) to ``process_sms``, and
  empties the answers of expired screenings by SMS (:func:`sms.screening.forget_expired`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from core import messages, queue, sending
from core.i18n import DEFAULT_LANGUAGE
from core.models import InboundOutcome, MessageKind
from core.services import Services
from sms import conversation, replies, screening
from sms.conversation import Answer, Inbound
from sms.inbox import (
    INBOUND,
    PROCESS_JOB,
    lock_pending,
    pending_before,
    process_job_id,
    unprocessed,
)

log = logging.getLogger(__name__)

#: An MO still unprocessed this long after it arrived is handed on again by the sweeper.
SWEEP_AFTER = timedelta(seconds=30)
_LOCK_NUMBER = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("bidx"), 0)))


async def _finish(services: Services, db: AsyncSession, mo: Inbound, answer: Answer) -> int | None:
    """Write the reply (once per MO) and mark the MO processed, in ``db``'s transaction.

    Returns the reply's message id, for the caller to send once this commits.
    """
    reply_id = None
    if answer.reply is not None and mo.e164 is not None:
        reply_id = await messages.write(
            db,
            keyring=services.keyring,
            e164=mo.e164,
            kind=MessageKind.REPLY,
            dedupe_key=f"reply:{mo.id}",
            language=answer.lang,
            body=answer.reply,
            now=services.clock(),
            enqueue=False,
            link_id=mo.link_id,
            short_code=mo.to_code if mo.link_id else None,
        )
    statement = (
        update(INBOUND)
        .where(INBOUND.c.id == mo.id)
        .values(processed_at=services.clock(), outcome=answer.outcome.value)
    )
    await (await db.connection()).execute(statement)
    return reply_id


async def _process(
    ctx: dict[str, Any], db: AsyncSession, inbound_id: int, bidx: str | None
) -> bool:
    """Process one MO in ``db``'s new transaction if still unprocessed; True when this call did.

    The reply is sent right after the commit, in this job (one hop less for the
    citizen's wait); if that fails, the sweeper sends it.
    """
    services: Services = ctx["services"]
    if bidx is not None:
        await (await db.connection()).execute(_LOCK_NUMBER, {"bidx": bidx})
    pending = await lock_pending(db, inbound_id=inbound_id)
    if pending is None:
        await db.rollback()
        return False
    mo = pending.open(services.keyring)
    try:
        answer = await conversation.answer(services, db, mo)
    except (SQLAlchemyError, OSError, TimeoutError):
        raise  # a store is down: nothing committed; the sweeper brings it back
    except Exception:
        # A bug must not block this sender's later messages: apologise, move on.
        log.exception("SMS %d could not be processed", inbound_id)
        await db.rollback()
        await lock_pending(db, inbound_id=inbound_id)
        _ = services.catalogues.gettext(DEFAULT_LANGUAGE)
        answer = Answer(InboundOutcome.REFUSED, replies.apology(_), DEFAULT_LANGUAGE)
    reply_id = await _finish(services, db, mo, answer)
    await queue.commit(db, services.queue)
    log.info("SMS %d processed: %s", inbound_id, answer.outcome)
    if reply_id is not None:
        await sending.send_message(ctx, reply_id)
    return True


async def process_sms(ctx: dict[str, Any], inbound_id: int) -> int:
    """ARQ job: process MO ``inbound_id`` and the sender's earlier unprocessed ones.

    Each MO commits in a transaction of its own (the first one shares the
    session that found them). Returns how many MOs this run processed.
    """
    services: Services = ctx["services"]
    done = 0
    async with services.db() as db:
        bidx, ids = await pending_before(db, inbound_id=inbound_id)
        for one in ids:
            done += await _process(ctx, db, one, bidx)
    return done


async def sweep_inbound(ctx: dict[str, Any]) -> int:
    """ARQ cron: enqueue ``process_sms`` for MOs left unprocessed; returns how many.

    Also forgets the answers of screenings by SMS that expired.
    """
    services: Services = ctx["services"]
    async with services.db() as db:
        await screening.forget_expired(db, keyring=services.keyring, now=services.clock())
        ids = await unprocessed(db, before=services.clock() - SWEEP_AFTER)
        for inbound_id in ids:
            await queue.later(
                db, PROCESS_JOB, job_id=process_job_id(inbound_id), inbound_id=inbound_id
            )
        await queue.commit(db, services.queue)
    if ids:
        log.warning("swept %d unprocessed inbound SMS", len(ids))
    return len(ids)
