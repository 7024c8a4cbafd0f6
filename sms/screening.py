"""Screening by SMS: the "check your gambling" dialogue as a conversation, one item per SMS.

``CHECK``/``PIMA`` starts (or restarts) it with the first Lie/Bet item; the
citizen answers each item with its number. The instrument and the answers so
far are kept in the database (``sms_screening``, one row per number, the
answers sealed), since an SMS conversation spans minutes or hours: it expires
after :data:`EXPIRES` without a reply. The steps are the USSD dialogue's
(:mod:`core.screening_dialogue`); a completed instrument is stored through
:func:`core.screening.record` exactly as USSD stores it (same instruments and
versions; request key ``sms:<message id>`` of the MO that completed it, so a
re-processed MO stores nothing twice; the helpline SMS where NSER refers).

* A reply that is not an answer asks again with a hint; a second one in a row
  ends the screening. On a Lie/Bet item ``YES``/``NDIYO`` and ``NO``/``HAPANA``
  answer it too, unless an exclusion or extension offer was made after the
  item was asked (then they answer the offer, as always). Other keywords
  work as usual and leave the screening open, except ``STOP``/``SITISHA``,
  which ends an unfinished screening (and nothing else: reminders stop with a
  second ``STOP``).
* The result offers, by number, the PGSI (after Lie/Bet) and a reminder to
  check again every quarter; self-exclusion is offered as its keyword
  (``EXCLUDE 1Y``), which starts the usual two-step confirmation.

Everything runs in the processing job's transaction (:mod:`sms.jobs`), under
its lock on the number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core import offers, rescreening, screening, screening_dialogue
from core.crypto import KeyRing
from core.i18n import Gettext
from core.instruments import INSTRUMENTS, LIE_BET, PGSI, InstrumentCode
from core.models import Channel, SmsScreening
from core.screening_dialogue import FollowUp
from core.services import Services
from sms import screening_replies
from sms.keywords import Command, Intent, number

SCREENING = SmsScreening.__table__  # type: ignore[attr-defined]
#: Field name the answers so far are sealed under (bound into the ciphertext).
ANSWERS_FIELD = "sms_screening.answers"
#: A screening with no reply for this long is over (its unfinished answers dropped).
EXPIRES = timedelta(hours=screening_replies.EXPIRY_HOURS)
#: How long an expired screening's row (its answers emptied) stays, so a late
#: answer is told the screening expired rather than "not understood".
TOMBSTONE = timedelta(days=7)


@dataclass(frozen=True)
class Open:
    """A number's screening in progress, opened: ``expired`` when its time ran out."""

    instrument: InstrumentCode
    answers: tuple[int, ...]
    language: str
    invalid: int
    expired: bool
    asked_at: datetime

    @property
    def complete(self) -> bool:
        """True once every item is answered (the result is stored; a follow-up may come)."""
        return screening_dialogue.is_complete(self.instrument, self.answers)


@dataclass(frozen=True)
class Said:
    """The reply to send and its language."""

    text: str
    lang: str


def offered(instrument: InstrumentCode, answers: Sequence[int]) -> tuple[FollowUp, ...]:
    """The follow-ups a result offers by number in SMS (self-exclusion is its keyword)."""
    return tuple(
        follow_up
        for follow_up in screening_dialogue.follow_ups(instrument, answers)
        if follow_up is not FollowUp.EXCLUDE
    )


async def current(db: AsyncSession, *, keyring: KeyRing, bidx: str, at: datetime) -> Open | None:
    """The screening of the number ``bidx`` (expired or not), or ``None``.

    ``at`` is when the MO arrived (the clock of the expiry, as for offers).
    """
    statement = select(SCREENING).where(SCREENING.c.msisdn_bidx == bidx)
    row = (await (await db.connection()).execute(statement)).mappings().first()
    if row is None:
        return None
    answers = tuple(json.loads(keyring.open(row["answers_sealed"], field=ANSWERS_FIELD)))
    return Open(
        instrument=InstrumentCode(row["instrument"]),
        answers=answers,
        language=row["language"],
        invalid=row["invalid"],
        expired=row["expires_at"] < at,
        asked_at=row["expires_at"] - EXPIRES,
    )


async def forget_expired(db: AsyncSession, *, keyring: KeyRing, now: datetime) -> int:
    """Empty the answers of screenings expired at ``now``; drop those expired :data:`TOMBSTONE` ago.

    For the inbound sweeper (every minute), so unfinished answers do not
    outlive their screening when the citizen never texts again. Returns how
    many rows were emptied or dropped; the caller commits.
    """
    empty = keyring.seal("[]", field=ANSWERS_FIELD)
    conn = await db.connection()
    dropped = await conn.execute(delete(SCREENING).where(SCREENING.c.expires_at < now - TOMBSTONE))
    emptied = await conn.execute(
        update(SCREENING)
        .where(
            SCREENING.c.expires_at < now,
            func.octet_length(SCREENING.c.answers_sealed) > len(empty),
        )
        .values(answers_sealed=empty)
    )
    return int(dropped.rowcount) + int(emptied.rowcount)


async def _save(
    db: AsyncSession,
    keyring: KeyRing,
    bidx: str,
    *,
    instrument: InstrumentCode,
    answers: Sequence[int],
    language: str,
    at: datetime,
    invalid: int = 0,
) -> None:
    values = {
        "msisdn_bidx": bidx,
        "instrument": instrument.value,
        "answers_sealed": keyring.seal(json.dumps(list(answers)), field=ANSWERS_FIELD),
        "language": language,
        "invalid": invalid,
        "started_at": at,
        "expires_at": at + EXPIRES,
    }
    statement = insert(SCREENING).values(**values)
    kept = {"msisdn_bidx", "started_at"} if answers or invalid else {"msisdn_bidx"}
    statement = statement.on_conflict_do_update(
        index_elements=["msisdn_bidx"],
        set_={name: statement.excluded[name] for name in values if name not in kept},
    )
    await (await db.connection()).execute(statement)


async def _drop(db: AsyncSession, bidx: str) -> None:
    await (await db.connection()).execute(delete(SCREENING).where(SCREENING.c.msisdn_bidx == bidx))


@dataclass(frozen=True)
class Turn:
    """One MO that may belong to a screening: who sent it, what it says, when it arrived."""

    services: Services
    db: AsyncSession
    gateway_id: str
    e164: str
    bidx: str
    text: str
    at: datetime
    actor: str

    def _(self, lang: str) -> Gettext:
        return self.services.catalogues.gettext(lang)

    async def start(self, lang: str) -> Said:
        """``CHECK``/``PIMA``: a new screening (replacing any), its first Lie/Bet item."""
        return await self._begin(LIE_BET.code, lang, first=True)

    async def _begin(self, instrument: InstrumentCode, lang: str, *, first: bool = False) -> Said:
        await _save(
            self.db,
            self.services.keyring,
            self.bidx,
            instrument=instrument,
            answers=(),
            language=lang,
            at=self.at,
        )
        text = screening_replies.question(
            self._(lang), instrument=instrument, answered=0, first=first
        )
        return Said(text, lang)

    async def reply(self, open_: Open, command: Command) -> Said | None:
        """The screening's answer to this MO, or ``None`` when it is not for the screening.

        ``None`` leaves the MO to the keyword grammar (a keyword, or anything
        after a result that is not one of its choices).

        Raises:
            RequestKeyConflict: see :func:`core.screening.record` (not with real gateway ids).
        """
        if open_.expired:
            await _drop(self.db, self.bidx)
            if command.intent is Intent.UNKNOWN and number(self.text) is not None:
                return Said(screening_replies.expired(self._(open_.language)), open_.language)
            return None
        if command.intent is Intent.STOP and not open_.complete:
            await _drop(self.db, self.bidx)
            return Said(screening_replies.stopped(self._(open_.language)), open_.language)
        if await self._yes_no_answer(open_, command):
            typed = "1" if command.intent is Intent.CONFIRM else "2"
            return await self._answer(open_, typed)
        if command.intent is not Intent.UNKNOWN:
            return None
        if open_.complete:
            return await self._follow(open_)
        return await self._answer(open_, number(self.text))

    async def _yes_no_answer(self, open_: Open, command: Command) -> bool:
        """True when YES/NO (any language) answers a Lie/Bet item rather than an offer.

        It does when the item was asked after any exclusion or extension offer
        of the number: a reply answers the latest question.
        """
        if open_.complete or open_.instrument != LIE_BET.code:
            return False
        if command.intent not in (Intent.CONFIRM, Intent.DECLINE):
            return False
        offered_at = await offers.asked_at(self.db, bidx=self.bidx)
        return offered_at is None or offered_at < open_.asked_at

    async def _answer(self, open_: Open, typed: str | None) -> Said:
        lang = open_.language
        _ = self._(lang)
        answers = screening_dialogue.answer(open_.instrument, open_.answers, typed or "")
        if typed is None or answers is None:
            if open_.invalid >= 1:
                await _drop(self.db, self.bidx)
                return Said(screening_replies.gave_up(_), lang)
            await self._keep(open_, open_.answers, invalid=open_.invalid + 1)
            text = screening_replies.ask_again(
                _, instrument=open_.instrument, answered=len(open_.answers)
            )
            return Said(text, lang)
        await self._keep(open_, answers)
        if not screening_dialogue.is_complete(open_.instrument, answers):
            text = screening_replies.question(_, instrument=open_.instrument, answered=len(answers))
            return Said(text, lang)
        await screening.record(
            self.db,
            keyring=self.services.keyring,
            msisdn=self.e164,
            instrument=INSTRUMENTS[open_.instrument],
            answers=answers,
            channel=Channel.SMS,
            request_key=f"sms:{self.gateway_id}",
            seq=0,
            language=lang,
            actor=self.actor,
            now=self.services.clock(),
        )
        text = screening_replies.result(
            _,
            instrument=open_.instrument,
            answers=answers,
            offered=offered(open_.instrument, answers),
            settings=self.services.settings,
        )
        return Said(text, lang)

    async def _keep(self, open_: Open, answers: Sequence[int], *, invalid: int = 0) -> None:
        await _save(
            self.db,
            self.services.keyring,
            self.bidx,
            instrument=open_.instrument,
            answers=answers,
            language=open_.language,
            at=self.at,
            invalid=invalid,
        )

    async def _follow(self, open_: Open) -> Said | None:
        lang = open_.language
        typed = number(self.text) or ""
        picked = screening_dialogue.pick(offered(open_.instrument, open_.answers), typed)
        if picked is None:
            await _drop(self.db, self.bidx)
            return None
        if picked is FollowUp.PGSI:
            return await self._begin(PGSI.code, lang)
        await _drop(self.db, self.bidx)
        await rescreening.opt_in(
            self.db,
            keyring=self.services.keyring,
            msisdn=self.e164,
            channel=Channel.SMS,
            language=lang,
            actor=self.actor,
            now=self.services.clock(),
        )
        return Said(screening_replies.reminders_on(self._(lang)), lang)
