"""Quarterly reminders to screen again: the citizen's opt-in, and finding who is due.

A citizen opts in at a screening's result screen. The reminder is due three
calendar months after their latest screening; screening again (by any
channel) moves it to three months after that, and each reminder to three
months after the one before, so an opted-in citizen hears from NSER once a
quarter at most. The worker's cron (:func:`core.jobs.remind_rescreening`)
runs :func:`remind_due`, which hands each due subject to the SMS seam
(:func:`core.screening_sms.rescreen_reminder`). Every change is audited with
the subject's BST and dates only.
"""

from __future__ import annotations

from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, screening_sms, subjects
from core.crypto import KeyRing
from core.enrolment import enrol
from core.exclusion_store import SUBJECT, SubjectRow, holder_of
from core.instruments import SELF_SCREENING
from core.models import Channel, ScreeningReminder, ScreeningResult

#: Months between reminders.
QUARTER_MONTHS = 3
REMINDER = ScreeningReminder.__table__  # type: ignore[attr-defined]
_RESULT = ScreeningResult.__table__  # type: ignore[attr-defined]


def next_due(since: datetime, *, now: datetime) -> datetime:
    """The first whole quarter after ``since`` that is later than ``now`` (UTC in, UTC out).

    Counted from ``since`` (``since`` + 3, 6, 9… calendar months, clamped to
    the month's last day as :mod:`dateutil.relativedelta` does).
    """
    quarters = 1
    while (due := since + relativedelta(months=QUARTER_MONTHS * quarters)) <= now:
        quarters += 1
    return due


_STATE = select(REMINDER.c.active, REMINDER.c.next_due_at).where(
    REMINDER.c.subject_id == bindparam("sid")
)
_LAST_SCREENED = (
    select(_RESULT.c.taken_at)
    .where(
        _RESULT.c.subject_id == bindparam("sid"),
        _RESULT.c.instrument.in_([code.value for code in SELF_SCREENING]),
    )
    .order_by(_RESULT.c.taken_at.desc())
    .limit(1)
)
_TURN_ON = (
    insert(REMINDER)
    .values(
        subject_id=bindparam("sid"),
        active=True,
        next_due_at=bindparam("due"),
        channel=bindparam("via"),
        created_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
    .on_conflict_do_update(
        index_elements=["subject_id"],
        set_={
            "active": True,
            "next_due_at": bindparam("due"),
            "channel": bindparam("via"),
            "updated_at": bindparam("now"),
        },
    )
)
_TURN_OFF = (
    update(REMINDER)
    .where(REMINDER.c.subject_id == bindparam("sid"), REMINDER.c.active)
    .values(active=False, updated_at=bindparam("now"))
    .returning(REMINDER.c.next_due_at)
)
_RESCHEDULE = (
    update(REMINDER)
    .where(REMINDER.c.subject_id == bindparam("sid"))
    .values(next_due_at=bindparam("due"), updated_at=bindparam("now"))
)
_REMINDED = _RESCHEDULE.values(last_reminded_at=bindparam("now"))
_SUBJECT_BY_INDEX = select(SUBJECT.c.id, SUBJECT.c.bst, SUBJECT.c.language).where(
    SUBJECT.c.id == holder_of(bindparam("bidx"))
)
_DUE = (
    select(
        REMINDER.c.subject_id,
        REMINDER.c.next_due_at,
        SUBJECT.c.bst,
        SUBJECT.c.language,
    )
    .join_from(REMINDER, SUBJECT, SUBJECT.c.id == REMINDER.c.subject_id)
    .where(REMINDER.c.active, REMINDER.c.next_due_at <= bindparam("now"))
    .order_by(REMINDER.c.next_due_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=REMINDER)
)


def _entity(subject: SubjectRow) -> str:
    return f"screening_reminder:{subject.id}"


async def opt_in(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    msisdn: str,
    channel: Channel,
    language: str,
    actor: str,
    now: datetime,
) -> datetime:
    """Remind the holder of ``msisdn`` every quarter; returns when the first reminder is due (UTC).

    Due three months after their latest screening (or ``now`` if none). Already
    opted in: nothing changes. Otherwise audited (``screening.reminders_on``);
    reminders come in the subject's ``language``. The caller commits.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
        ValueError: unknown ``channel`` or ``language``.
    """
    channel = Channel(channel)
    enrolled = await enrol(
        session, keyring=keyring, msisdn=msisdn, language=language, actor=actor, now=now
    )
    subject = enrolled.subject
    conn = await session.connection()
    state = (await conn.execute(_STATE, {"sid": subject.id})).first()
    if state is not None and state.active:
        due: datetime = state.next_due_at
        return due
    last = (await conn.execute(_LAST_SCREENED, {"sid": subject.id})).scalar()
    due = next_due(last or now, now=now)
    params = {"sid": subject.id, "due": due, "via": channel.value, "now": now}
    await conn.execute(_TURN_ON, params)
    await audit.append(
        session,
        actor=actor,
        action="screening.reminders_on",
        entity=_entity(subject),
        subject=subject.bst,
        before={"active": False} if state is not None else None,
        after={"active": True, "next_due_at": due.isoformat(), "channel": channel},
        occurred_at=now,
    )
    return due


async def opt_out(
    session: AsyncSession, *, keyring: KeyRing, msisdn: str, actor: str, now: datetime
) -> bool:
    """Stop the reminders of the holder of ``msisdn``; True when they were on (then audited).

    For USSD's "Stop check reminders" and the SMS keyword ``STOP``/``SITISHA``.
    Someone NSER never saw changes nothing.

    Raises:
        InvalidMsisdn: see :func:`core.identity.normalise_msisdn`.
    """
    bidx = subjects.msisdn_index(keyring, msisdn)
    conn = await session.connection()
    found = (await conn.execute(_SUBJECT_BY_INDEX, {"bidx": bidx})).first()
    if found is None:
        return False
    subject = SubjectRow(found.id, found.bst, found.language)
    stopped = (await conn.execute(_TURN_OFF, {"sid": subject.id, "now": now})).first()
    if stopped is None:
        return False
    await audit.append(
        session,
        actor=actor,
        action="screening.reminders_off",
        entity=_entity(subject),
        subject=subject.bst,
        before={"active": True, "next_due_at": stopped.next_due_at.isoformat()},
        after={"active": False},
        occurred_at=now,
    )
    return True


async def rescheduled(
    session: AsyncSession, *, subject: SubjectRow, screened_at: datetime, actor: str
) -> None:
    """After a new screening: an opted-in ``subject``'s next reminder is a quarter from it.

    Called by :func:`core.screening.record` under the subject lock; audited
    (``screening.reminder_moved``) only when reminders are on.
    """
    conn = await session.connection()
    state = (await conn.execute(_STATE, {"sid": subject.id})).first()
    if state is None or not state.active:
        return
    due = next_due(screened_at, now=screened_at)
    await conn.execute(_RESCHEDULE, {"sid": subject.id, "due": due, "now": screened_at})
    await audit.append(
        session,
        actor=actor,
        action="screening.reminder_moved",
        entity=_entity(subject),
        subject=subject.bst,
        before={"next_due_at": state.next_due_at.isoformat()},
        after={"next_due_at": due.isoformat()},
        occurred_at=screened_at,
    )


async def remind_due(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    """Remind up to ``limit`` opted-in subjects whose reminder is due at ``now``; returns how many.

    Each is handed to :func:`core.screening_sms.rescreen_reminder` and its next
    reminder set a quarter after the one due (audited as
    ``screening.reminder_due``, actor ``system:rescreening``). Rows are claimed
    ``FOR UPDATE SKIP LOCKED``, so several workers may run it at once. The
    caller commits.
    """
    conn = await session.connection()
    due_rows = (await conn.execute(_DUE, {"now": now, "limit": limit})).all()
    for row in due_rows:
        subject = SubjectRow(row.subject_id, row.bst, row.language)
        await screening_sms.rescreen_reminder(session, subject=subject, now=now)
        following = next_due(row.next_due_at, now=now)
        await conn.execute(_REMINDED, {"sid": subject.id, "due": following, "now": now})
        await audit.append(
            session,
            actor="system:rescreening",
            action="screening.reminder_due",
            entity=_entity(subject),
            subject=subject.bst,
            before={"next_due_at": row.next_due_at.isoformat()},
            after={"next_due_at": following.isoformat()},
            occurred_at=now,
        )
    return len(due_rows)
