"""The SMS NSER sends on its own: confirmations, expiry reminders and notices, alerts.

Wording is discreet (phones are shared): no betting company is named and
nothing is said that the citizen did not ask for. Each notice is written into
the message log (:mod:`core.messages`) as a template name and plain parameters,
in the transaction of its cause, and rendered in the recipient's language by
the sending job (:func:`render`), which has the catalogues. Every template, in
both languages and with the longest values, is GSM-7 and at most 160 septets
(``tests/core/test_notices.py``).

* **confirmation**: after every exclusion created or extended, whatever the
  channel (:func:`on_event`, called by :func:`core.exclusions._record_event`);
* **reminder**: :data:`~core.settings.Settings.sms_reminder_days` before an
  exclusion ends (:func:`queue_reminders`, from the worker's cron), offering a
  one-reply extension (an ``extend`` offer that YES/NDIYO takes until the end);
* **expiry**: when the expiry job ends an exclusion (:func:`on_event`);
* **screening**: the helpline after a result at which NSER refers
  (:func:`helpline_after_screening`) and the quarterly re-screening reminder
  (:func:`rescreening_due`), for the screening seam to call.

Reminders and expiry notices, which the citizen did not just ask for, are held
back to Nairobi daytime (:func:`daytime`, 08:00-20:00); confirmations answer
the citizen's own action and go at once.
* **alerts**: see :mod:`core.alerts`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import BigInteger, bindparam, cast, exists, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import messages, offers, periods
from core.exclusion_store import EXCLUSION, SUBJECT, EventRow, ExclusionRow
from core.i18n import Gettext
from core.models import EventType, ExclusionStatus, MessageKind, OfferKind
from core.periods import NAIROBI, Period
from core.settings import Settings
from core.texts import helpline, helpline_line, reference_line, until


def _instant(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def confirmation(_: Gettext, lang: str, params: Mapping[str, Any], settings: Settings) -> str:
    """After an exclusion was created or extended: until when, the reference, the helpline."""
    ends = until(_instant(params.get("ends_at")), lang, _)
    if params.get("extended"):
        head = _("NSER: your exclusion now lasts {until}.").format(until=ends)
    else:
        head = _("NSER: you are excluded from betting {until}.").format(until=ends)
    return "\n".join(
        (
            head,
            reference_line(_, params["reference"]),
            helpline_line(_, settings),
        )
    )


def reminder(_: Gettext, lang: str, params: Mapping[str, Any], settings: Settings) -> str:
    """Some days before the end: offer to stay excluded with one reply."""
    return _(
        "NSER: your exclusion lasts {until}. To stay excluded {new}, reply YES. "
        "You cannot cancel this later. No more reminders: send STOP."
    ).format(
        until=until(_instant(params.get("ends_at")), lang, _),
        new=until(_instant(params.get("new_end")), lang, _),
    )


def expiry(_: Gettext, lang: str, params: Mapping[str, Any], settings: Settings) -> str:
    """The exclusion has ended."""
    return "\n".join(
        (
            _("NSER: your exclusion has ended. To stop betting again, send EXCLUDE 1Y."),
            helpline_line(_, settings),
        )
    )


def identifier_added(_: Gettext, lang: str, params: Mapping[str, Any], settings: Settings) -> str:
    """To the first number: another number or an ID joined the exclusion (names neither)."""
    return "\n".join(
        (
            _("NSER: another phone number or ID was added to your exclusion."),
            reference_line(_, params["reference"]),
            _("Not you? Call {helpline}.").format(helpline=helpline(settings)),
        )
    )


def screening_helpline(_: Gettext, lang: str, params: Mapping[str, Any], settings: Settings) -> str:
    """After a screening result at which NSER refers: the helpline, and the way to stop.

    It names no result (phones are shared).
    """
    return "\n".join(
        (
            _("NSER: talking to someone can help."),
            helpline_line(_, settings),
            _("To stop betting, send EXCLUDE 1Y."),
        )
    )


def walkin_code(_: Gettext, lang: str, params: Mapping[str, Any], settings: Settings) -> str:
    """The one-time code a person at an NSER desk reads out to prove they hold the phone."""
    return _(
        "NSER: your code is {code}. Give it to the NSER officer only if you are at the "
        "office asking to stop betting. It expires in {minutes} minutes."
    ).format(code=params["code"], minutes=params["minutes"])


def rescreen_reminder(_: Gettext, lang: str, params: Mapping[str, Any], settings: Settings) -> str:
    """The quarterly reminder to screen again, for those who opted in."""
    return _(
        "NSER: as you asked, it is time to check your betting again. "
        "Dial the NSER code and choose 4, or send CHECK. No more reminders: send STOP."
    )


def ops_low_balance(_: Gettext, lang: str, params: Mapping[str, Any], settings: Settings) -> str:
    """To the regulator's operations number: the gateway account is out of credit."""
    return _(
        "NSER alert: the SMS gateway reports insufficient balance. Citizens' messages are "
        "waiting. Please top up the account."
    )


def ops_sending_failing(
    _: Gettext, lang: str, params: Mapping[str, Any], settings: Settings
) -> str:
    """To the regulator's operations number: sending has failed for some minutes."""
    return _(
        "NSER alert: SMS sending has been failing for {minutes} minutes ({reason}). "
        "Messages are kept and retried."
    ).format(minutes=params["minutes"], reason=params["reason"])


def operator_webhook_disabled(
    _: Gettext, lang: str, params: Mapping[str, Any], settings: Settings
) -> str:
    """To an operator's technical contact: its webhook endpoint was disabled."""
    return _(
        "NSER alert for {operator}: your webhook endpoint has been disabled. "
        "Fix it, re-enable it and catch up from the feed."
    ).format(operator=params["operator"])


def operator_deliveries_failing(
    _: Gettext, lang: str, params: Mapping[str, Any], settings: Settings
) -> str:
    """To an operator's technical contact: its webhook deliveries fail for an hour."""
    return _(
        "NSER alert for {operator}: webhook deliveries to you have been failing for an hour. "
        "They are retried."
    ).format(operator=params["operator"])


Template = Callable[[Gettext, str, Mapping[str, Any], Settings], str]

#: Every template a message row may name, by name.
TEMPLATES: dict[str, Template] = {
    "confirmation": confirmation,
    "reminder": reminder,
    "expiry": expiry,
    "identifier_added": identifier_added,
    "screening_helpline": screening_helpline,
    "rescreen_reminder": rescreen_reminder,
    "walkin_code": walkin_code,
    "ops_low_balance": ops_low_balance,
    "ops_sending_failing": ops_sending_failing,
    "operator_webhook_disabled": operator_webhook_disabled,
    "operator_deliveries_failing": operator_deliveries_failing,
}


def render(
    template: str, params: Mapping[str, Any], *, _: Gettext, lang: str, settings: Settings
) -> str:
    """The text of ``template`` with ``params`` in language ``lang`` (``_`` is its gettext).

    Raises:
        KeyError: unknown template, or a parameter it needs is missing.
    """
    return TEMPLATES[template](_, lang, params, settings)


#: Unasked SMS (reminders, notices at expiry) go out between these Nairobi hours only.
DAY_STARTS = time(8)
DAY_ENDS = time(20)


def daytime(now: datetime) -> datetime:
    """``now`` if it is daytime in Nairobi, else the next 08:00 there (UTC-aware either way).

    Exclusions end at Nairobi midnight, so their notices would otherwise wake a
    household; a shared phone lighting up at night is what discretion avoids.
    """
    local = now.astimezone(NAIROBI)
    if DAY_STARTS <= local.time() < DAY_ENDS:
        return now
    day = local.date() if local.time() < DAY_STARTS else local.date() + timedelta(days=1)
    return datetime.combine(day, DAY_STARTS, tzinfo=NAIROBI).astimezone(now.tzinfo)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def on_event(session: AsyncSession, *, exclusion: ExclusionRow, event: EventRow) -> None:
    """Write the citizen's SMS for an exclusion event, in the event's transaction.

    Created or extended: the confirmation (reference, end, helpline). Expired:
    the notice, unless the number turned notices off. Once per event.
    """
    if event.type in (EventType.CREATED, EventType.EXTENDED):
        await messages.write_for_subject(
            session,
            subject_id=exclusion.subject_id,
            kind=MessageKind.CONFIRMATION,
            dedupe_key=f"confirmation:{event.id}",
            template="confirmation",
            params={
                "reference": exclusion.reference,
                "ends_at": _iso(event.ends_at),
                "extended": event.type == EventType.EXTENDED,
            },
            exclusion_id=exclusion.id,
            now=event.occurred_at,
        )
    elif event.type == EventType.IDENTIFIER_ADDED:
        await messages.write_for_subject(
            session,
            subject_id=exclusion.subject_id,
            kind=MessageKind.CONFIRMATION,
            dedupe_key=f"identifier_added:{event.id}",
            template="identifier_added",
            params={"reference": exclusion.reference},
            exclusion_id=exclusion.id,
            now=event.occurred_at,
        )
    elif event.type == EventType.EXPIRED:
        await messages.write_for_subject(
            session,
            subject_id=exclusion.subject_id,
            kind=MessageKind.EXPIRY,
            dedupe_key=f"expiry:{exclusion.id}",
            template="expiry",
            params={"reference": exclusion.reference},
            exclusion_id=exclusion.id,
            now=event.occurred_at,
            send_at=daytime(event.occurred_at),
        )


def reminder_key(exclusion_id: int, ends_at: datetime) -> str:
    """The dedupe key of the reminder about one end (a later end gets a reminder of its own)."""
    return f"reminder:{exclusion_id}:{int(ends_at.timestamp())}"


_REMINDER_KEY = func.concat(
    "reminder:",
    EXCLUSION.c.id,
    ":",
    cast(func.floor(func.extract("epoch", EXCLUSION.c.ends_at)), BigInteger),
)
_DUE_REMINDERS = (
    select(
        EXCLUSION.c.id,
        EXCLUSION.c.subject_id,
        EXCLUSION.c.period,
        EXCLUSION.c.ends_at,
        EXCLUSION.c.reference,
        SUBJECT.c.msisdn_bidx,
        SUBJECT.c.language,
    )
    .join_from(EXCLUSION, SUBJECT, SUBJECT.c.id == EXCLUSION.c.subject_id)
    .where(
        EXCLUSION.c.status == ExclusionStatus.ACTIVE.value,
        EXCLUSION.c.ends_at > bindparam("now"),
        EXCLUSION.c.ends_at <= bindparam("horizon"),
        SUBJECT.c.msisdn_bidx.is_not(None),  # no contact number (detached): nobody to remind
        ~exists().where(messages.MESSAGE.c.dedupe_key == _REMINDER_KEY),
        ~exists().where(messages.OPT_OUT.c.msisdn_bidx == SUBJECT.c.msisdn_bidx),
    )
    .order_by(EXCLUSION.c.ends_at)
    .limit(bindparam("limit"))
)


async def queue_reminders(
    session: AsyncSession, *, days: int, now: datetime, limit: int = 500
) -> int:
    """Write the reminder of every exclusion ending within ``days`` that has not had one.

    Each reminder comes with an ``extend`` offer (the exclusion's own period,
    counted from the YES) valid until the exclusion ends. Numbers that turned
    reminders off get neither. Returns how many were written; the caller commits.
    """
    params = {"now": now, "horizon": now + timedelta(days=days), "limit": limit}
    due = (await (await session.connection()).execute(_DUE_REMINDERS, params)).all()
    written = 0
    for row in due:
        period = Period(row.period)
        message_id = await messages.write_for_subject(
            session,
            subject_id=row.subject_id,
            kind=MessageKind.REMINDER,
            dedupe_key=reminder_key(row.id, row.ends_at),
            template="reminder",
            params={
                "ends_at": _iso(row.ends_at),
                "new_end": _iso(periods.ends_at(period, starts_at=now)),
                "reference": row.reference,
            },
            exclusion_id=row.id,
            now=now,
            send_at=daytime(now),
        )
        written += message_id is not None
        await offers.put(
            session,
            bidx=row.msisdn_bidx,
            kind=OfferKind.EXTEND,
            period=period,
            language=row.language,
            now=now,
            expires_at=row.ends_at,
        )
    return written


async def helpline_after_screening(
    session: AsyncSession, *, subject_id: int, result_key: str, now: datetime
) -> int | None:
    """Write the helpline SMS after a screening result at which NSER refers; once per result.

    ``result_key`` names the result (e.g. its id). For ``core.screening_sms.helpline``.
    """
    return await messages.write_for_subject(
        session,
        subject_id=subject_id,
        kind=MessageKind.HELPLINE,
        dedupe_key=f"helpline:{result_key}",
        template="screening_helpline",
        params={},
        exclusion_id=None,
        now=now,
    )


async def rescreening_due(session: AsyncSession, *, subject_id: int, now: datetime) -> int | None:
    """Write the re-screening reminder (daytime, once a day at most).

    For ``core.screening_sms.rescreen_reminder``. The citizen opted in to it,
    and turns it off at its source (:func:`core.rescreening.opt_out`, which
    ``STOP``/``SITISHA`` calls too), so a later opt-in is not overridden by an
    earlier ``STOP``.
    """
    return await messages.write_for_subject(
        session,
        subject_id=subject_id,
        kind=MessageKind.REMINDER,
        dedupe_key=f"rescreen:{subject_id}:{now.astimezone(NAIROBI):%Y-%m-%d}",
        template="rescreen_reminder",
        params={},
        exclusion_id=None,
        now=now,
        send_at=daytime(now),
        optional=False,
    )
