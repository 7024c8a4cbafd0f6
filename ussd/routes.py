"""``POST /ussd`` and ``POST /ussd/events``: the Africa's Talking USSD endpoints.

A session request is answered as ``text/plain`` ``CON <screen>`` (continue) or
``END <screen>`` (finish), well inside the gateway's 10-15 s limit: menu
screens touch only Redis; the confirm, status and exclude steps make one short
database transaction. The request is a replay of ``text`` (:mod:`ussd.menu`);
the exclusion is keyed on ``ussd:<sessionId>``, so a repeated POST answers the
same and never excludes twice.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from core import exclusions, periods, subjects
from core.errors import AlreadyExcluded, InvalidMsisdn
from core.i18n import DEFAULT_LANGUAGE, Gettext
from core.identity import normalise_msisdn
from core.models import Exclusion, UssdSessionEvent
from core.services import Services
from ussd import screens
from ussd.callback import EndOfSession, SessionCallback
from ussd.menu import LANGUAGE_CHOICES, Action, Screen, State, replay, split
from ussd.sessions import ResumeStore

log = logging.getLogger(__name__)

MAX_INPUTS = 64
ACTOR = "citizen:ussd"


def _con(body: str) -> Response:
    return PlainTextResponse(f"CON {body}")


def _end(body: str) -> Response:
    return PlainTextResponse(f"END {body}")


def _guess_language(tokens: list[str]) -> str:
    """The language to apologise in before the menu could be replayed."""
    return LANGUAGE_CHOICES.get(tokens[0], DEFAULT_LANGUAGE) if tokens else DEFAULT_LANGUAGE


class UssdSession:
    """Answers one session request: replays the menu and performs a terminal action."""

    def __init__(self, services: Services, call: SessionCallback, msisdn: str) -> None:
        self.services = services
        self.call = call
        self.msisdn = msisdn
        self.bidx = services.keyring.blind_index(msisdn, field=subjects.MSISDN_FIELD)
        self.store = ResumeStore(
            services.redis, resume_seconds=services.settings.ussd_resume_seconds
        )

    async def answer(self, tokens: list[str]) -> Response:
        """The ``CON``/``END`` response for the session's inputs so far."""
        offer = await self.store.offer_for(
            session_id=self.call.session_id, bidx=self.bidx, first_request=not tokens
        )
        state = replay(
            tokens,
            offer_resume=offer.path if offer else None,
            lang=offer.lang if offer else None,
        )
        lang = state.lang or DEFAULT_LANGUAGE
        _ = self.services.catalogues.gettext(lang)
        if state.action is None:
            response = await self.screen(state, lang, _)
        else:
            response = await self.act(state, lang, _)
        if bytes(response.body).startswith(b"CON"):
            await self.store.remember(session_id=self.call.session_id, bidx=self.bidx, state=state)
        else:
            await self.store.finish(bidx=self.bidx)
        return response

    async def screen(self, state: State, lang: str, _: Gettext) -> Response:
        """A menu screen (``CON``); on the confirm screen, ``END`` if confirming is pointless."""
        if state.screen is Screen.RESUME:
            return _con(screens.resume(_, error=state.error))
        if state.screen is Screen.LANGUAGE:
            return _con(screens.language(_, error=state.error))
        if state.screen is Screen.MAIN:
            return _con(screens.main(_, error=state.error))
        if state.screen is Screen.PERIOD:
            return _con(screens.period(_, error=state.error))
        period = state.stack[-1].period
        assert period is not None
        current = await self.in_force()
        new_end = periods.ends_at(period, starts_at=self.services.clock())
        if current is not None and not exclusions.later(new_end, current.ends_at):
            return _end(
                screens.already_excluded(
                    _, lang=lang, ends_at=current.ends_at, reference=current.reference
                )
            )
        return _con(
            screens.confirm(
                _,
                lang=lang,
                new_end=new_end,
                current_end=current.ends_at if current else None,
                extending=current is not None,
                error=state.error,
            )
        )

    async def in_force(self) -> Exclusion | None:
        """The caller's exclusion in force now, if any."""
        async with self.services.sessions() as db:
            status = await exclusions.status(
                db,
                keyring=self.services.keyring,
                msisdn=self.msisdn,
                now=self.services.clock(),
            )
        return status.exclusion

    async def act(self, state: State, lang: str, _: Gettext) -> Response:
        """``END`` screen of a terminal action."""
        if state.action is Action.HELP:
            return _end(screens.help_(_, settings=self.services.settings))
        if state.action is Action.STATUS:
            current = await self.in_force()
            return _end(
                screens.status(
                    _,
                    lang=lang,
                    ends_at=current.ends_at if current else None,
                    reference=current.reference if current else None,
                )
            )
        assert state.period is not None
        async with self.services.sessions() as db:
            try:
                outcome = await exclusions.self_exclude(
                    db,
                    keyring=self.services.keyring,
                    msisdn=self.msisdn,
                    period=state.period,
                    channel="ussd",
                    request_key=f"ussd:{self.call.session_id}",
                    language=lang,
                    actor=ACTOR,
                    now=self.services.clock(),
                )
            except AlreadyExcluded as exc:
                await db.rollback()
                return _end(
                    screens.already_excluded(
                        _,
                        lang=lang,
                        ends_at=exc.exclusion.ends_at,
                        reference=exc.exclusion.reference,
                    )
                )
            await db.commit()
        return _end(
            screens.excluded(
                _,
                lang=lang,
                ends_at=outcome.ends_at,
                reference=outcome.exclusion.reference,
                extended=outcome.extended,
                settings=self.services.settings,
            )
        )


async def session_callback(request: Request) -> Response:
    """``POST /ussd``: one step of a USSD session (fields per Africa's Talking).

    Raises:
        MalformedCallback: answered 400 by the app's exception handler.
    """
    services: Services = request.app.state.services
    call = SessionCallback.parse(await request.form())
    tokens = split(call.text)
    _ = services.catalogues.gettext(_guess_language(tokens))
    if len(tokens) > MAX_INPUTS:
        return _end(screens.too_long(_))
    try:
        msisdn = normalise_msisdn(call.phone_number)
    except InvalidMsisdn:
        return _end(screens.invalid_phone(_))
    try:
        return await UssdSession(services, call, msisdn).answer(tokens)
    except Exception:
        # Logged with the session id only: the traceback holds no MSISDN (only blind indexes).
        log.exception("USSD session %s failed", call.session_id)
        return _end(screens.apology(_))


async def end_of_session(request: Request) -> Response:
    """``POST /ussd/events``: record the gateway's end-of-session notification.

    Raises:
        MalformedCallback: answered 400 by the app's exception handler.
    """
    services: Services = request.app.state.services
    note = EndOfSession.parse(await request.form())
    bidx = None
    if note.phone_number:
        try:
            bidx = subjects.msisdn_index(services.keyring, note.phone_number)
        except InvalidMsisdn:
            bidx = None
    async with services.sessions() as db:
        db.add(
            UssdSessionEvent(
                session_id=note.session_id,
                service_code=note.service_code,
                network_code=note.network_code,
                msisdn_bidx=bidx,
                status=note.status,
                cost=note.cost,
                duration_ms=note.duration_ms,
                hops_count=note.hops_count,
                input=note.input,
                error_message=note.error_message,
                gateway_date=note.date,
                received_at=services.clock(),
            )
        )
        await db.commit()
    return PlainTextResponse("OK")


def routes() -> list[Route]:
    """The USSD channel's routes, mounted by the web app."""
    return [
        Route("/ussd", session_callback, methods=["POST"]),
        Route("/ussd/events", end_of_session, methods=["POST"]),
    ]
