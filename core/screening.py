"""Screening results: store a completed screening, and read a citizen's latest back to them.

A result is stored only once an instrument is complete (every item answered),
so an abandoned screening leaves nothing behind. Storing is idempotent on the
channel request: ``request_key`` (``ussd:<sessionId>``, or ``sms:<message
id>`` of the MO that completed it) and ``seq`` (the step of that request that
completed the instrument) identify one result, and every
result of a ``request_key`` belongs to the subject that used it first, so a
gateway that reuses a session id for another phone can neither see nor store
the first caller's result. The answers are sealed (:mod:`core.crypto`); the
audit entry names the instrument and channel, never the answers, score or band.
Results are never shown to operators.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, rescreening, screening_sms, subjects
from core.crypto import KeyRing
from core.enrolment import enrol
from core.errors import RequestKeyConflict
from core.exclusion_store import SUBJECT, SubjectRow, holder_of
from core.instruments import INSTRUMENTS, SELF_SCREENING, Band, Instrument
from core.models import Channel, ScreeningResult

#: Field name the answers are sealed under (bound into the ciphertext).
ANSWERS_FIELD = "screening_result.answers"
RESULT = ScreeningResult.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Result:
    """A stored result as plain values (UTC ``taken_at``); the answers stay sealed."""

    id: int
    instrument: str
    version: str
    score: int
    band: str
    channel: str
    taken_at: datetime

    @classmethod
    def of(cls, row: RowMapping) -> Result:
        """From a ``screening_result`` row."""
        return cls(
            id=row["id"],
            instrument=row["instrument"],
            version=row["version"],
            score=row["score"],
            band=row["band"],
            channel=row["channel"],
            taken_at=row["taken_at"],
        )

    @property
    def meaning(self) -> Band:
        """The band's definition (plain-words label, whether NSER refers) in its instrument."""
        return INSTRUMENTS[self.instrument].band(self.band)


@dataclass(frozen=True)
class Recorded:
    """What :func:`record` did: the result (the earlier one when ``replayed``) and its subject."""

    result: Result
    subject: SubjectRow
    replayed: bool


_OF_REQUEST = select(*RESULT.c).where(
    RESULT.c.request_key == bindparam("request_key", type_=String)
)
_INSERT = (
    insert(RESULT)
    .on_conflict_do_nothing(constraint="screening_result_request")
    .returning(*RESULT.c)
)
_LATEST = (
    select(*RESULT.c)
    .join_from(RESULT, SUBJECT, SUBJECT.c.id == RESULT.c.subject_id)
    .where(
        SUBJECT.c.id == holder_of(bindparam("bidx")),
        RESULT.c.instrument.in_([code.value for code in SELF_SCREENING]),
    )
    .order_by(RESULT.c.taken_at.desc(), RESULT.c.id.desc())
    .limit(1)
)


def open_answers(keyring: KeyRing, sealed: bytes) -> tuple[int, ...]:
    """The option indexes sealed in a result's ``answers_sealed``.

    Raises:
        IntegrityFailure: the value does not decrypt under any key of the ring.
    """
    return tuple(json.loads(keyring.open(sealed, field=ANSWERS_FIELD)))


async def record(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    msisdn: str,
    instrument: Instrument,
    answers: Sequence[int],
    channel: Channel,
    request_key: str,
    seq: int,
    language: str,
    actor: str,
    now: datetime,
) -> Recorded:
    """Store the holder of ``msisdn``'s completed ``instrument`` (``answers``: option indexes).

    A repeated ``request_key`` and ``seq`` returns the first result with
    ``replayed=True`` and changes nothing. A new result is audited
    (``screening.recorded``); at a band where NSER refers, the helpline SMS is
    asked for (:func:`core.screening_sms.helpline`); an opted-in reminder is
    moved to three months from now. The caller commits.

    Raises:
        InvalidAnswers: ``answers`` do not fit ``instrument``; nothing is changed.
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
        RequestKeyConflict: ``request_key`` was first used by another subject;
            nothing is changed and nothing disclosed.
        ValueError: unknown ``channel`` or ``language``.
    """
    scored = instrument.score(answers)
    channel = Channel(channel)
    enrolled = await enrol(
        session, keyring=keyring, msisdn=msisdn, language=language, actor=actor, now=now
    )
    subject = enrolled.subject
    conn = await session.connection()
    # Under the subject lock: a twin request of this subject has committed by now.
    earlier = (await conn.execute(_OF_REQUEST, {"request_key": request_key})).mappings().all()
    if any(row["subject_id"] != subject.id for row in earlier):
        raise RequestKeyConflict(f"request key already used ({channel})")
    for row in earlier:
        if row["seq"] == seq:
            return Recorded(Result.of(row), subject, replayed=True)
    values = {
        "subject_id": subject.id,
        "instrument": instrument.code.value,
        "version": instrument.version,
        "score": scored.score,
        "band": scored.band.code.value,
        "channel": channel.value,
        "answers_sealed": keyring.seal(json.dumps(list(answers)), field=ANSWERS_FIELD),
        "request_key": request_key,
        "seq": seq,
        "taken_at": now,
    }
    inserted = (await conn.execute(_INSERT, values)).mappings().first()
    if inserted is None:  # another subject's request with this key committed meanwhile
        raise RequestKeyConflict(f"request key already used ({channel})")
    result = Result.of(inserted)
    await audit.append(
        session,
        actor=actor,
        action="screening.recorded",
        entity=f"screening_result:{result.id}",
        subject=subject.bst,
        after={"instrument": result.instrument, "version": result.version, "channel": channel},
        occurred_at=now,
    )
    if scored.band.refer:
        await screening_sms.helpline(session, subject=subject, result_key=str(result.id), now=now)
    await rescreening.rescheduled(session, subject=subject, screened_at=now, actor=actor)
    return Recorded(result, subject, replayed=False)


async def latest(session: AsyncSession, *, keyring: KeyRing, msisdn: str) -> Result | None:
    """The latest self-screening result (Lie/Bet or PGSI) of the holder of ``msisdn``, if any.

    Staff assessments (DSM-5) are not shown back to citizens. Read-only, one query.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
    """
    bidx = subjects.msisdn_index(keyring, msisdn)
    row = (await (await session.connection()).execute(_LATEST, {"bidx": bidx})).mappings().first()
    return Result.of(row) if row is not None else None
