"""``POST /sms/inbound`` and ``POST /sms/delivery-reports``: the Africa's Talking SMS callbacks.

Both are behind the same callback guard as USSD (:mod:`gateway.guard`): with
``NSER_CALLBACK_TOKEN`` set the gateway is given ``/sms/<token>/inbound`` and
``/sms/<token>/delivery-reports``. An MO is only stored here (:func:`sms.inbox.store`)
and answered ``200`` at once; the work and the reply happen in a job. A
delivery report updates the message log in one statement. A malformed callback
gets ``400`` (:mod:`sms.app`); with the database down the answer is ``503``,
so a gateway that retries brings the message back.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from core import messages
from core.services import services_in
from core.settings import Settings
from gateway.guard import CallbackGuard
from sms import inbox
from sms.callback import DeliveryReport, InboundSms

log = logging.getLogger(__name__)

_UNAVAILABLE = PlainTextResponse(
    "unavailable, try again\n", status_code=503, headers={"Retry-After": "5"}
)


def routes(settings: Settings) -> list[Route]:
    """The SMS channel's routes, behind the callback guard built from ``settings``."""
    guard = CallbackGuard.from_settings(settings, channel="sms")

    async def inbound(request: Request) -> Response:
        """``POST /sms[/<token>]/inbound``: store one MO (once per ``id``); ``200 OK``.

        Raises:
            MalformedCallback: answered 400 by the app's exception handler.
        """
        if (refusal := guard.refused(request)) is not None:
            return refusal
        mo = InboundSms.parse(await request.form())
        try:
            stored = await inbox.store(services_in(request.scope), mo)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.error("MO %s not stored: %s", mo.gateway_id, type(exc).__name__)
            return _UNAVAILABLE
        if stored is None:
            log.info("MO %s repeated: already stored", mo.gateway_id)
        return PlainTextResponse("OK")

    async def delivery_report(request: Request) -> Response:
        """``POST /sms[/<token>]/delivery-reports``: update the message log; ``200 OK``.

        Raises:
            MalformedCallback: answered 400 by the app's exception handler.
        """
        if (refusal := guard.refused(request)) is not None:
            return refusal
        report = DeliveryReport.parse(await request.form())
        services = services_in(request.scope)
        try:
            async with services.db() as db:
                changed = await messages.apply_report(
                    db,
                    gateway_id=report.gateway_id,
                    status=report.status,
                    failure_reason=report.failure_reason,
                    network_code=report.network_code,
                    now=services.clock(),
                )
                await db.commit()
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.error("delivery report %s not applied: %s", report.gateway_id, type(exc).__name__)
            return _UNAVAILABLE
        if not changed:
            log.info("delivery report %s changed nothing", report.gateway_id)
        return PlainTextResponse("OK")

    return [
        Route("/sms/inbound", inbound, methods=["POST"]),
        Route("/sms/delivery-reports", delivery_report, methods=["POST"]),
        Route("/sms/{token}/inbound", inbound, methods=["POST"]),
        Route("/sms/{token}/delivery-reports", delivery_report, methods=["POST"]),
    ]
