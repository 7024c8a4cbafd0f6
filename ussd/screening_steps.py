"""The "check your gambling" screens that read or change the register.

* A result screen stores the completed screening (:func:`core.screening.record`)
  under the request key ``ussd:<sessionId>`` and the number of the input that
  completed it, so a repeated POST stores one result and shows it again, and a
  session id reused by another phone is refused (``RequestKeyConflict``, which
  the route answers with the neutral "session has ended").
* "Remind me every 3 months" stores the opt-in (:func:`core.rescreening.opt_in`);
  "Stop check reminders", on the status screen, the opt-out (:func:`core.rescreening.opt_out`).
* The latest result, asked for from the status screen (:func:`core.screening.latest`).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from core import rescreening, screening
from core.i18n import Gettext
from core.instruments import INSTRUMENTS
from core.models import Channel
from core.services import Services
from ussd import screening_screens
from ussd.reply import Reply, con, end
from ussd.state import Quiz, State

ACTOR = "citizen:ussd"


class ScreeningSteps:
    """The register side of one caller's screening dialogue in one USSD session."""

    def __init__(self, services: Services, *, msisdn: str, session_id: str) -> None:
        self.services = services
        self.msisdn = msisdn
        self.request_key = f"ussd:{session_id}"

    async def _record(self, db: AsyncSession, quiz: Quiz, lang: str) -> None:
        await screening.record(
            db,
            keyring=self.services.keyring,
            msisdn=self.msisdn,
            instrument=INSTRUMENTS[quiz.instrument],
            answers=quiz.answers,
            channel=Channel.USSD,
            request_key=self.request_key,
            seq=quiz.seq,
            language=lang,
            actor=ACTOR,
            now=self.services.clock(),
        )

    async def result(self, state: State, lang: str, _: Gettext) -> Reply:
        """Store the screening completed on the top frame (once) and show its result.

        Raises:
            RequestKeyConflict: this session id was first used by another caller.
        """
        quiz = state.quiz
        assert quiz is not None
        async with self.services.db() as db:
            await self._record(db, quiz, lang)
            await db.commit()
        settings = self.services.settings
        return con(screening_screens.result(_, quiz=quiz, settings=settings, error=state.error))

    async def remind(self, state: State, lang: str, _: Gettext) -> Reply:
        """Opt in to quarterly reminders from a result screen (its result stored first, once).

        Raises:
            RequestKeyConflict: see :meth:`result`.
        """
        quiz = state.quiz
        assert quiz is not None
        async with self.services.db() as db:
            await self._record(db, quiz, lang)
            await rescreening.opt_in(
                db,
                keyring=self.services.keyring,
                msisdn=self.msisdn,
                channel=Channel.USSD,
                language=lang,
                actor=ACTOR,
                now=self.services.clock(),
            )
            await db.commit()
        return end(screening_screens.reminders_on(_))

    async def stop_reminders(self, _: Gettext) -> Reply:
        """No more quarterly reminders to check again (audited when they were on)."""
        async with self.services.db() as db:
            await rescreening.opt_out(
                db,
                keyring=self.services.keyring,
                msisdn=self.msisdn,
                actor=ACTOR,
                now=self.services.clock(),
            )
            await db.commit()
        return end(screening_screens.reminders_off(_))

    async def last_result(self, lang: str, _: Gettext) -> Reply:
        """The caller's latest screening result (or that there is none)."""
        async with self.services.db() as db:
            latest = await screening.latest(db, keyring=self.services.keyring, msisdn=self.msisdn)
        settings = self.services.settings
        return end(screening_screens.last_result(_, lang=lang, latest=latest, settings=settings))
