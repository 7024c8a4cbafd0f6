"""Inbound SMS storage: every MO is stored (sealed) before any work, once per gateway id.

:func:`store` is the whole of the callback's work: one autocommitted ``INSERT …
ON CONFLICT DO NOTHING`` and, for a new message, its processing job enqueued
once it is stored (:mod:`sms.jobs`). A repeated callback (same ``id``) stores nothing and
enqueues nothing. If Redis is down the job is lost from the queue only: the
row waits with ``processed_at`` unset until the sweeper hands it on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core import queue
from core.crypto import KeyRing
from core.errors import InvalidMsisdn
from core.identity import normalise_msisdn
from core.models import SmsInbound
from core.services import Services
from core.subjects import MSISDN_FIELD
from sms.callback import InboundSms
from sms.conversation import Inbound

INBOUND = SmsInbound.__table__  # type: ignore[attr-defined]
#: The field name sealing the text of an inbound SMS (bound as associated data).
TEXT_FIELD = "sms_inbound.text"
PROCESS_JOB = "process_sms"


def process_job_id(inbound_id: int) -> str:
    """The ARQ job id of processing inbound SMS ``inbound_id`` (unique while queued)."""
    return f"mo:{inbound_id}"


def _e164(sender: str) -> str | None:
    try:
        return normalise_msisdn(sender)
    except InvalidMsisdn:
        return None


async def store(services: Services, mo: InboundSms) -> int | None:
    """Store an MO and enqueue its processing after commit; ``None`` if its id was stored before.

    A sender that is not a valid mobile number is stored too (sealed as posted,
    with no blind index) and will get no reply.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed; nothing was stored.
    """
    keyring = services.keyring
    e164 = _e164(mo.sender)
    statement = (
        insert(INBOUND)
        .values(
            gateway_id=mo.gateway_id,
            msisdn_sealed=keyring.seal(e164 or mo.sender, field=MSISDN_FIELD),
            msisdn_bidx=keyring.blind_index(e164, field=MSISDN_FIELD) if e164 else None,
            to_code=mo.to,
            text_sealed=keyring.seal(mo.text, field=TEXT_FIELD),
            link_id=mo.link_id,
            network_code=mo.network_code,
            gateway_date=mo.date,
            received_at=services.clock(),
        )
        .on_conflict_do_nothing(index_elements=["gateway_id"])
        .returning(INBOUND.c.id)
    )
    # One autocommitted statement: no BEGIN/COMMIT round trips on the callback's path.
    async with services.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        inbound_id: int | None = (await autocommit.execute(statement)).scalar()
    if inbound_id is not None:
        job = queue.Job(PROCESS_JOB, process_job_id(inbound_id), {"inbound_id": inbound_id})
        await queue.enqueue(services.queue, job)
    return inbound_id


@dataclass(frozen=True)
class Pending:
    """An unprocessed MO, locked for this transaction, still sealed."""

    id: int
    gateway_id: str
    msisdn_sealed: bytes
    msisdn_bidx: str | None
    text_sealed: bytes
    received_at: datetime
    link_id: str | None
    to_code: str

    def open(self, keyring: KeyRing) -> Inbound:
        """The MO in clear, for processing."""
        sender = keyring.open(self.msisdn_sealed, field=MSISDN_FIELD)
        e164 = _e164(sender) if self.msisdn_bidx else None
        return Inbound(
            id=self.id,
            gateway_id=self.gateway_id,
            e164=e164,
            bidx=self.msisdn_bidx if e164 else None,
            text=keyring.open(self.text_sealed, field=TEXT_FIELD),
            received_at=self.received_at,
            link_id=self.link_id or None,
            to_code=self.to_code,
        )


_PENDING = select(*(INBOUND.c[name] for name in Pending.__dataclass_fields__))


async def lock_pending(db: AsyncSession, *, inbound_id: int) -> Pending | None:
    """Lock MO ``inbound_id`` if it is still unprocessed (else ``None``)."""
    statement = _PENDING.where(
        INBOUND.c.id == inbound_id, INBOUND.c.processed_at.is_(None)
    ).with_for_update()
    row = (await (await db.connection()).execute(statement)).first()
    return Pending(**row._mapping) if row is not None else None


async def pending_before(db: AsyncSession, *, inbound_id: int) -> tuple[str | None, list[int]]:
    """The sender's blind index, and its unprocessed MOs up to ``inbound_id``, oldest first.

    So a sender's messages are handled in the order they came (``JIZUIE 1Y``
    before ``NDIYO``) even when jobs run out of order. One query; a sender
    without a blind index (not a mobile number) has only this MO.
    """
    this = select(INBOUND.c.msisdn_bidx).where(INBOUND.c.id == inbound_id).scalar_subquery()
    statement = (
        select(INBOUND.c.id, INBOUND.c.msisdn_bidx)
        .where(
            or_(INBOUND.c.id == inbound_id, INBOUND.c.msisdn_bidx == this),
            INBOUND.c.processed_at.is_(None),
            INBOUND.c.id <= inbound_id,
        )
        .order_by(INBOUND.c.id)
    )
    rows = (await (await db.connection()).execute(statement)).all()
    bidx = next((row.msisdn_bidx for row in rows if row.id == inbound_id), None)
    return bidx, [row.id for row in rows]


async def unprocessed(db: AsyncSession, *, before: datetime, limit: int = 500) -> list[int]:
    """Ids of MOs received before ``before`` and still unprocessed, oldest first."""
    statement = (
        select(INBOUND.c.id)
        .where(INBOUND.c.processed_at.is_(None), INBOUND.c.received_at < before)
        .order_by(INBOUND.c.id)
        .limit(limit)
    )
    return list((await (await db.connection()).execute(statement)).scalars())
