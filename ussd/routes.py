"""``POST /ussd`` and ``POST /ussd/events``: the Africa's Talking USSD endpoints.

A session request is answered as ``text/plain`` ``CON <screen>`` (continue) or
``END <screen>`` (finish). The request is a replay of ``text`` (:mod:`ussd.menu`);
the exclusion is keyed on ``ussd:<sessionId>`` and bound to the caller, so a
repeated POST answers the same and never excludes twice, and a session id
reused by another phone neither sees nor triggers the first caller's result.

Every answer comes within :data:`ANSWER_SECONDS` whatever the stores do (the
gateway gives up after 10-15 s): Redis holds only resume hints and is skipped
when down, every database wait is bounded (:func:`core.db.create_engine`), and
past the budget the citizen gets a polite ``END`` in the session's language.

With ``NSER_CALLBACK_TOKEN`` set the gateway calls ``/ussd/<token>`` and
``/ussd/<token>/events``; see :mod:`gateway.guard` for every check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from core import exclusions, identifiers, queue, subjects
from core.errors import AlreadyExcluded, InvalidMsisdn, LinkRefused, RequestKeyConflict
from core.exclusions import Verdict
from core.i18n import DEFAULT_LANGUAGE, Gettext
from core.identity import normalise_msisdn
from core.models import Channel, UssdDialogueEnd
from core.services import Services, services_in
from core.settings import Settings
from gateway.guard import CallbackGuard
from ussd import screening_screens, screens
from ussd.callback import EndOfSession, SessionCallback
from ussd.menu import LANGUAGE_CHOICES, Action, Screen, State, replay_last, split
from ussd.reply import Reply, con, end
from ussd.resume import OfferMemo, ResumeStore
from ussd.screening_steps import ACTOR, ScreeningSteps

log = logging.getLogger(__name__)

MAX_INPUTS = 64
#: Seconds within which every session request is answered, failure or not.
ANSWER_SECONDS = 4.5


#: Screens that need nothing but the language and the error flag.
_PLAIN_SCREENS: dict[Screen, Callable[..., str]] = {
    Screen.RESUME: screens.resume,
    Screen.LANGUAGE: screens.language,
    Screen.MAIN: screens.main,
    Screen.PERIOD: screens.period,
    Screen.ID_KIND: screens.id_kind,
}


def _guess_language(tokens: list[str]) -> str:
    """The language to apologise in before the menu could be replayed."""
    return LANGUAGE_CHOICES.get(tokens[0], DEFAULT_LANGUAGE) if tokens else DEFAULT_LANGUAGE


class UssdDialogue:
    """One USSD dialogue step (the gateway calls it a session; here a session is the database's).

    Replays the menu over the inputs so far and shows its screen or performs its
    terminal action; the screening dialogue's steps are :class:`ScreeningSteps`.
    """

    def __init__(
        self, services: Services, call: SessionCallback, msisdn: str, memo: OfferMemo
    ) -> None:
        self.services = services
        self.call = call
        self.msisdn = msisdn
        self.bidx = services.keyring.blind_index(msisdn, field=subjects.MSISDN_FIELD)
        self.store = ResumeStore(
            services.hints,
            keyring=services.keyring,
            resume_seconds=services.settings.ussd_resume_seconds,
            memo=memo,
        )
        self.screening = ScreeningSteps(services, msisdn=msisdn, session_id=call.session_id)

    async def answer(self, tokens: list[str]) -> Reply:
        """The reply for the session's inputs so far.

        Raises:
            RequestKeyConflict: this session id was first used by another caller.
        """
        offer = await self.store.offer_for(
            session_id=self.call.session_id, bidx=self.bidx, first_request=not tokens
        )
        resume_path = offer.path if offer else None
        resume_lang = offer.lang if offer else None
        before, state = replay_last(tokens, offer_resume=resume_path, lang=resume_lang)
        lang = state.lang or DEFAULT_LANGUAGE
        _ = self.services.catalogues.gettext(lang)
        if state.action is None:
            reply = await self.screen(state, lang, _)
        else:
            reply = await self.act(state, lang, _)
        await self.store.record(
            session_id=self.call.session_id,
            bidx=self.bidx,
            before=before,
            after=state,
            final=reply.final,
        )
        return reply

    async def screen(self, state: State, lang: str, _: Gettext) -> Reply:
        """A menu screen (``CON``); on the confirm screen, ``END`` if confirming is pointless.

        Raises:
            RequestKeyConflict: see :meth:`answer` (a screening result screen stores).
        """
        plain = _PLAIN_SCREENS.get(state.screen)
        if plain is not None:
            return con(plain(_, error=state.error))
        if state.screen is Screen.CONFIRM:
            return await self.confirm(state, lang, _)
        if state.screen is Screen.STATUS:
            return await self.status(state, lang, _)
        if state.screen is Screen.ID_ENTRY:
            kind = state.stack[-1].kind
            assert kind is not None
            return con(screens.id_entry(_, kind=kind, error=state.error))
        if state.screen is Screen.LINK:
            return await self.link(state, lang, _)
        if state.screen is Screen.QUESTION:
            assert state.quiz is not None
            return con(screening_screens.question(_, quiz=state.quiz, error=state.error))
        return await self.screening.result(state, lang, _)

    async def confirm(self, state: State, lang: str, _: Gettext) -> Reply:
        """Confirm the period chosen, or ``END`` when it would not lengthen the exclusion."""
        period = state.stack[-1].period
        assert period is not None
        async with self.services.db() as db:
            ahead = await exclusions.preview(
                db,
                keyring=self.services.keyring,
                msisdn=self.msisdn,
                period=period,
                now=self.services.clock(),
            )
        if ahead.verdict is Verdict.ALREADY:
            assert ahead.reference is not None
            return end(
                screens.already_excluded(
                    _, lang=lang, ends_at=ahead.current_end, reference=ahead.reference
                )
            )
        return con(
            screens.confirm(
                _,
                lang=lang,
                new_end=ahead.new_end,
                current_end=ahead.current_end,
                extending=ahead.verdict is Verdict.EXTEND,
                error=state.error,
                with_id=state.stack[-1].document is not None,
            )
        )

    async def link(self, state: State, lang: str, _: Gettext) -> Reply:
        """Ask for a reference; with one typed, join that exclusion (a wrong one re-prompts).

        The join commits with its event (SMS to the first number, operators'
        webhooks); a wrong reference commits only its count toward the limit.
        """
        entry = state.stack[-1].entry
        if entry is None:
            return con(screens.link(_, error=state.error))
        try:
            async with self.services.db() as db:
                try:
                    joined = await identifiers.join_by_reference(
                        db,
                        keyring=self.services.keyring,
                        msisdn=self.msisdn,
                        reference=entry,
                        channel=Channel.USSD,
                        actor=ACTOR,
                        now=self.services.clock(),
                        # A repeated POST of this step counts once toward the limit.
                        attempt=f"ussd:{self.call.session_id}:{self.call.text.count('*')}",
                    )
                except LinkRefused:
                    await db.commit()  # the wrong reference counts toward the limit
                    raise
                await queue.commit(db, self.services.queue)
        except LinkRefused as exc:
            if exc.reason == "limited":
                return end(screens.link_limited(_, settings=self.services.settings))
            return con(screens.link(_, error=True))
        return end(screens.linked(_, lang=lang, ends_at=joined.ends_at, reference=joined.reference))

    async def status(self, state: State, lang: str, _: Gettext) -> Reply:
        """My status: the exclusion in force, if any (the latest screening is a choice here)."""
        async with self.services.db() as db:
            current = (
                await exclusions.status(
                    db,
                    keyring=self.services.keyring,
                    msisdn=self.msisdn,
                    now=self.services.clock(),
                )
            ).exclusion
        return con(
            screens.status(
                _,
                lang=lang,
                ends_at=current.ends_at if current else None,
                reference=current.reference if current else None,
                error=state.error,
            )
        )

    async def act(self, state: State, lang: str, _: Gettext) -> Reply:
        """``END`` screen of a terminal action.

        Raises:
            RequestKeyConflict: see :meth:`answer`.
        """
        if state.action is Action.HELP:
            return end(screens.help_(_, settings=self.services.settings))
        if state.action is Action.LAST_RESULT:
            return await self.screening.last_result(lang, _)
        if state.action is Action.REMIND:
            return await self.screening.remind(state, lang, _)
        if state.action is Action.NOT_MINE:
            return end(screens.not_mine(_, settings=self.services.settings))
        if state.action is Action.STOP_REMINDERS:
            return await self.screening.stop_reminders(_)
        return await self.exclude(state, lang, _)

    async def exclude(self, state: State, lang: str, _: Gettext) -> Reply:
        """Exclude (or extend) for the period confirmed; once per session and caller.

        Raises:
            RequestKeyConflict: see :meth:`answer`.
        """
        assert state.period is not None
        keyring = self.services.keyring
        document = state.document
        try:
            async with self.services.db() as db:
                outcome = await exclusions.self_exclude(
                    db,
                    keyring=self.services.keyring,
                    msisdn=self.msisdn,
                    period=state.period,
                    channel=Channel.USSD,
                    request_key=f"ussd:{self.call.session_id}",
                    language=lang,
                    actor=ACTOR,
                    now=self.services.clock(),
                    document=(
                        subjects.identifier(keyring, document.kind, document.value)
                        if document is not None
                        else None
                    ),
                )
                # The confirmation SMS and the operators' webhooks are written with the
                # exclusion; their jobs go after the commit.
                await queue.commit(db, self.services.queue)
        except AlreadyExcluded as exc:
            return end(
                screens.already_excluded(_, lang=lang, ends_at=exc.ends_at, reference=exc.reference)
            )
        return end(
            screens.excluded(
                _,
                lang=lang,
                ends_at=outcome.ends_at,
                reference=outcome.exclusion.reference,
                extended=outcome.extended,
                settings=self.services.settings,
            )
        )


async def _respond(services: Services, call: SessionCallback, memo: OfferMemo) -> Reply:
    """The reply to a well-formed callback; every failure becomes a polite ``END``."""
    tokens = split(call.text)
    _ = services.catalogues.gettext(_guess_language(tokens))
    if len(tokens) > MAX_INPUTS:
        return end(screens.session_ended(_))
    try:
        msisdn = normalise_msisdn(call.phone_number)
    except InvalidMsisdn:
        return end(screens.invalid_phone(_))
    try:
        async with asyncio.timeout(ANSWER_SECONDS):
            return await UssdDialogue(services, call, msisdn, memo).answer(tokens)
    except RequestKeyConflict:
        log.warning("USSD session %s: session id reused by another caller", call.session_id)
        return end(screens.session_ended(_))
    except TimeoutError:
        log.error("USSD session %s: no answer within %.1f s", call.session_id, ANSWER_SECONDS)
        return end(screens.apology(_))
    except Exception:
        # Logged with the session id only: the traceback holds no MSISDN (only blind indexes).
        log.exception("USSD session %s failed", call.session_id)
        return end(screens.apology(_))


async def _recordend(services: Services, note: EndOfSession) -> None:
    """Store an end-of-session notification, the number only as its blind index."""
    bidx = None
    if note.phone_number:
        try:
            bidx = subjects.msisdn_index(services.keyring, note.phone_number)
        except InvalidMsisdn:
            bidx = None
    async with services.db() as db:
        db.add(
            UssdDialogueEnd(
                session_id=note.session_id,
                service_code=note.service_code,
                network_code=note.network_code,
                msisdn_bidx=bidx,
                status=note.status,
                cost=note.cost,
                duration_ms=note.duration_ms,
                hops_count=note.hops_count,
                error_message=note.error_message,
                gateway_date=note.date,
                received_at=services.clock(),
            )
        )
        await db.commit()


def routes(settings: Settings) -> list[Route]:
    """The USSD channel's routes, behind the callback guard built from ``settings``."""
    guard = CallbackGuard.from_settings(settings, channel="ussd")
    memo = OfferMemo()

    async def session_callback(request: Request) -> Response:
        """``POST /ussd[/<token>]``: one step of a USSD session (fields per Africa's Talking).

        Raises:
            MalformedCallback: answered 400 by the app's exception handler.
        """
        # Checked before the body is read, and again with the service code it names.
        if (refusal := guard.refused(request)) is not None:
            return refusal
        call = SessionCallback.parse(await request.form())
        if (refusal := guard.refused(request, service_code=call.service_code)) is not None:
            return refusal
        services = services_in(request.scope)
        return PlainTextResponse((await _respond(services, call, memo)).render())

    async def end_of_session(request: Request) -> Response:
        """``POST /ussd[/<token>]/events``: record the gateway's end-of-session notification.

        Raises:
            MalformedCallback: answered 400 by the app's exception handler.
        """
        if (refusal := guard.refused(request)) is not None:
            return refusal
        note = EndOfSession.parse(await request.form())
        if (refusal := guard.refused(request, service_code=note.service_code)) is not None:
            return refusal
        await _recordend(services_in(request.scope), note)
        return PlainTextResponse("OK")

    return [
        Route("/ussd", session_callback, methods=["POST"]),
        Route("/ussd/events", end_of_session, methods=["POST"]),
        Route("/ussd/{token}", session_callback, methods=["POST"]),
        Route("/ussd/{token}/events", end_of_session, methods=["POST"]),
    ]
