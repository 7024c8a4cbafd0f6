"""What NSER does with one inbound SMS, and what it answers (the channel's logic).

:func:`answer` runs inside the processing job's transaction and returns an
:class:`Answer` (the outcome and the reply, if any); :mod:`sms.jobs` writes
the reply to the message log. Rules (``docs/sms.md``):

* a sender that is not a Kenyan mobile number gets no answer;
* the reply is in the keyword's language, which also becomes the subject's
  preferred language; a message not understood gets a short bilingual help;
* an exclusion keyword only *asks*: YES/NDIYO within ``NSER_SMS_CONFIRM_MINUTES``
  of it (as the gateway received them) confirms, through the same rule as USSD
  (:func:`core.exclusions.self_exclude`, request key ``sms:<message id>``), so
  "already excluded" and extensions behave alike; the confirmation SMS
  written with the exclusion is then the answer;
* YES also takes the extension offered by an expiry reminder;
* ``CHECK``/``PIMA`` starts a screening, and while one is open a number
  answers it (:mod:`sms.screening`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from core import exclusions, identifiers, offers, preferences, rescreening, subjects, texts
from core.errors import AlreadyExcluded, InvalidInput, LinkRefused, RequestKeyConflict
from core.exclusions import Verdict
from core.i18n import DEFAULT_LANGUAGE
from core.models import Channel, InboundOutcome, OfferKind
from core.services import Services
from sms import replies, screening
from sms.keywords import Command, Intent, parse

ACTOR = "citizen:sms"
#: Numbers NSER answers: Kenyan mobiles (a shortcode cannot reply abroad).
COUNTRY_PREFIX = "+254"


@dataclass(frozen=True)
class Inbound:
    """An inbound SMS opened for processing: ``e164``/``bidx`` are ``None`` for a bad sender.

    ``received_at`` is when it reached NSER (the clock of the confirmation window).
    ``link_id`` is the gateway's ``linkId`` (premium services), ``to_code`` the
    shortcode it was sent to: a reply is linked to it.
    """

    id: int
    gateway_id: str
    e164: str | None
    bidx: str | None
    text: str
    received_at: datetime
    link_id: str | None = None
    to_code: str | None = None


@dataclass(frozen=True)
class Answer:
    """What processing did and the reply to send, if any (in ``lang``)."""

    outcome: InboundOutcome
    reply: str | None
    lang: str


@dataclass(frozen=True)
class _Turn:
    services: Services
    db: AsyncSession
    mo: Inbound
    e164: str
    bidx: str
    command: Command
    lang: str
    standing: exclusions.Status

    @property
    def _(self) -> Callable[[str], str]:
        return self.services.catalogues.gettext(self.lang)

    @property
    def minutes(self) -> int:
        return self.services.settings.sms_confirm_minutes

    def reply(self, outcome: InboundOutcome, text: str) -> Answer:
        return Answer(outcome, text, self.lang)


async def _exclude(turn: _Turn) -> Answer:
    period = turn.command.period
    if period is None:
        return turn.reply(InboundOutcome.HELP, replies.ask_period(turn._))
    ahead = exclusions.judge(turn.standing.exclusion, period=period, now=turn.services.clock())
    if ahead.verdict is Verdict.ALREADY:
        assert ahead.reference is not None
        text = replies.already_excluded(
            turn._, lang=turn.lang, ends_at=ahead.current_end, reference=ahead.reference
        )
        return turn.reply(InboundOutcome.REFUSED, text)
    await offers.put(
        turn.db,
        bidx=turn.bidx,
        kind=OfferKind.EXCLUDE,
        period=period,
        language=turn.lang,
        now=turn.mo.received_at,
        expires_at=turn.mo.received_at + timedelta(minutes=turn.minutes),
    )
    text = replies.ask_confirm(
        turn._,
        lang=turn.lang,
        new_end=ahead.new_end,
        current_end=ahead.current_end,
        extending=ahead.verdict is Verdict.EXTEND,
        minutes=turn.minutes,
    )
    return turn.reply(InboundOutcome.ASKED, text)


async def _confirm(turn: _Turn) -> Answer:
    offer = await offers.take(turn.db, bidx=turn.bidx, at=turn.mo.received_at)
    if offer is None:
        return turn.reply(
            InboundOutcome.REFUSED, replies.nothing_to_confirm(turn._, minutes=turn.minutes)
        )
    try:
        await exclusions.self_exclude(
            turn.db,
            keyring=turn.services.keyring,
            msisdn=turn.e164,
            period=offer.period,
            channel=Channel.SMS,
            request_key=f"sms:{turn.mo.gateway_id}",
            language=turn.lang,
            actor=ACTOR,
            now=turn.services.clock(),
        )
    except AlreadyExcluded as exc:
        text = replies.already_excluded(
            turn._, lang=turn.lang, ends_at=exc.ends_at, reference=exc.reference
        )
        return turn.reply(InboundOutcome.REFUSED, text)
    except RequestKeyConflict:
        return turn.reply(InboundOutcome.REFUSED, replies.apology(turn._))
    # The confirmation SMS (reference, end, helpline) was written with the exclusion.
    return Answer(InboundOutcome.CONFIRMED, None, turn.lang)


async def _decline(turn: _Turn) -> Answer:
    await offers.withdraw(turn.db, bidx=turn.bidx)
    return turn.reply(InboundOutcome.DECLINED, replies.declined(turn._))


async def _status(turn: _Turn) -> Answer:
    current = turn.standing.exclusion
    text = replies.status(
        turn._,
        lang=turn.lang,
        ends_at=current.ends_at if current else None,
        reference=current.reference if current else None,
    )
    return turn.reply(InboundOutcome.STATUS, text)


async def _help(turn: _Turn) -> Answer:
    return turn.reply(InboundOutcome.HELP, replies.help_(turn._, settings=turn.services.settings))


async def _language(turn: _Turn) -> Answer:
    return turn.reply(InboundOutcome.LANGUAGE, replies.language_set(turn._))


def _screening(services: Services, db: AsyncSession, mo: Inbound) -> screening.Turn:
    assert mo.e164 is not None
    assert mo.bidx is not None
    return screening.Turn(
        services, db, mo.gateway_id, mo.e164, mo.bidx, mo.text, mo.received_at, ACTOR
    )


async def _check(turn: _Turn) -> Answer:
    said = await _screening(turn.services, turn.db, turn.mo).start(turn.lang)
    return Answer(InboundOutcome.SCREENING, said.text, said.lang)


async def _stop(turn: _Turn) -> Answer:
    now = turn.services.clock()
    await preferences.stop_reminders(turn.db, bidx=turn.bidx, actor=ACTOR, now=now)
    # The quarterly reminders to check again too, at their source (audited if they were on).
    await rescreening.opt_out(
        turn.db, keyring=turn.services.keyring, msisdn=turn.e164, actor=ACTOR, now=now
    )
    return turn.reply(InboundOutcome.STOPPED, replies.reminders_stopped(turn._))


async def _add_id(turn: _Turn) -> Answer:
    """``ID <number>``: the ID joins the sender's exclusion in force, as claimed."""
    kind = turn.command.kind
    assert kind is not None
    if not turn.command.argument:
        return turn.reply(InboundOutcome.HELP, replies.ask_id(turn._))
    current = turn.standing.exclusion
    if current is None or turn.standing.subject is None:
        return turn.reply(InboundOutcome.REFUSED, replies.id_needs_exclusion(turn._))
    try:
        document = subjects.identifier(turn.services.keyring, kind, turn.command.argument)
    except InvalidInput:
        name = texts.document_name(kind, turn._)
        return turn.reply(InboundOutcome.REFUSED, replies.bad_id(turn._, document=name))
    now = turn.services.clock()
    subject = await exclusions.lock_holder(turn.db, keyring=turn.services.keyring, msisdn=turn.e164)
    await identifiers.link(
        turn.db,
        keyring=turn.services.keyring,
        subject=subject,
        identifier=document,
        channel=Channel.SMS,
        actor=ACTOR,
        now=now,
    )
    return turn.reply(
        InboundOutcome.CONFIRMED, replies.id_added(turn._, reference=current.reference)
    )


async def _link(turn: _Turn) -> Answer:
    """``LINK <reference>``: this number joins that exclusion (wrong ones count to the limit)."""
    if not turn.command.argument:
        return turn.reply(InboundOutcome.HELP, replies.ask_reference(turn._))
    try:
        joined = await identifiers.join_by_reference(
            turn.db,
            keyring=turn.services.keyring,
            msisdn=turn.e164,
            reference=turn.command.argument,
            channel=Channel.SMS,
            actor=ACTOR,
            now=turn.services.clock(),
        )
    except LinkRefused as exc:
        if exc.reason == "limited":
            text = replies.link_limited(turn._, settings=turn.services.settings)
        else:
            text = replies.unknown_reference(turn._)
        return turn.reply(InboundOutcome.REFUSED, text)
    text = replies.linked(
        turn._, lang=turn.lang, ends_at=joined.ends_at, reference=joined.reference
    )
    return turn.reply(InboundOutcome.CONFIRMED, text)


_ACTIONS: dict[Intent, Callable[[_Turn], Awaitable[Answer]]] = {
    Intent.EXCLUDE: _exclude,
    Intent.CONFIRM: _confirm,
    Intent.DECLINE: _decline,
    Intent.STATUS: _status,
    Intent.HELP: _help,
    Intent.LANGUAGE: _language,
    Intent.STOP: _stop,
    Intent.ADD_ID: _add_id,
    Intent.LINK: _link,
    Intent.CHECK: _check,
}


async def answer(services: Services, db: AsyncSession, mo: Inbound) -> Answer:
    """Act on one inbound SMS in ``db``'s transaction (the caller commits) and say what to reply.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database failed (nothing is committed).
    """
    if mo.e164 is None or mo.bidx is None or not mo.e164.startswith(COUNTRY_PREFIX):
        return Answer(InboundOutcome.IGNORED, None, DEFAULT_LANGUAGE)
    command = parse(mo.text)
    open_screening = await screening.current(
        db, keyring=services.keyring, bidx=mo.bidx, at=mo.received_at
    )
    if open_screening is not None:
        said = await _screening(services, db, mo).reply(open_screening, command)
        if said is not None:
            return Answer(InboundOutcome.SCREENING, said.text, said.lang)
    action = _ACTIONS.get(command.intent)
    if action is None or command.lang is None:
        _ = services.catalogues.gettext(DEFAULT_LANGUAGE)
        return Answer(InboundOutcome.UNKNOWN, replies.not_understood(_), DEFAULT_LANGUAGE)
    lang = command.target or command.lang
    now = services.clock()
    # One read serves every action: the language to store, the status, what a period would do.
    standing = await exclusions.status(db, keyring=services.keyring, msisdn=mo.e164, now=now)
    await preferences.set_language(
        db, subject=standing.subject, language=lang, actor=ACTOR, now=now
    )
    turn = _Turn(services, db, mo, mo.e164, mo.bidx, command, lang, standing)
    return await action(turn)
