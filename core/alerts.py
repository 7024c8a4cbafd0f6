"""Alerts by SMS to technical and operations contacts, once per incident.

:func:`alert` writes one message to a number for an *incident key*: the same
key never alerts twice (the message log's ``dedupe_key`` is
``alert:<incident>``), so a cause seen again and again sends one SMS. Each
alert is audited (``alert.raised``, with the incident key and template; never
the number) and logged at ERROR, which is where it is seen if SMS itself is
what fails. Incident keys must hold no personal data.

Used for the regulator's operations number (``NSER_OPS_ALERT_NUMBER``) when
the gateway reports an insufficient balance or sending keeps failing
(:mod:`core.sending`), and by the webhook jobs (:mod:`core.delivery_jobs`) for
an operator's technical contact (:func:`operator_alert`, templates
``operator_webhook_disabled`` and ``operator_deliveries_failing`` of
:mod:`core.notices`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from core import audit, messages, operators
from core.crypto import KeyRing
from core.identity import normalise_msisdn
from core.models import MessageKind, Operator
from core.notices import TEMPLATES
from core.settings import Settings

log = logging.getLogger(__name__)

#: An operator's name is cut to this in an alert, so the SMS stays one segment.
OPERATOR_NAME_CHARS = 40


async def alert(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    msisdn: str,
    incident: str,
    template: str,
    params: dict[str, Any],
    actor: str,
    now: datetime,
    language: str = "en",
) -> bool:
    """Alert ``msisdn`` about ``incident`` with ``template`` once; True when this call did.

    The SMS goes out after the caller commits (see :mod:`core.messages`).

    Raises:
        InvalidMsisdn: ``msisdn`` is not a mobile number.
        KeyError: ``template`` is not one of :data:`core.notices.TEMPLATES`.
    """
    if template not in TEMPLATES:  # fail here, not in the sending job
        raise KeyError(template)
    message_id = await messages.write(
        session,
        keyring=keyring,
        e164=normalise_msisdn(msisdn),
        kind=MessageKind.ALERT,
        dedupe_key=f"alert:{incident}",
        language=language,
        template=template,
        params=params,
        now=now,
    )
    if message_id is None:
        return False
    log.error("alert %s (%s) raised", incident, template)
    await audit.append(
        session,
        actor=actor,
        action="alert.raised",
        entity=f"sms_message:{message_id}",
        after={"incident": incident, "template": template},
        occurred_at=now,
    )
    return True


async def ops_alert(
    session: AsyncSession,
    *,
    settings: Settings,
    keyring: KeyRing,
    incident: str,
    template: str,
    params: dict[str, Any],
    now: datetime,
) -> bool:
    """:func:`alert` to the regulator's operations number; only logged when none is set."""
    if settings.ops_alert_number is None:
        log.error("alert %s (%s): no NSER_OPS_ALERT_NUMBER to send it to", incident, template)
        return False
    return await alert(
        session,
        keyring=keyring,
        msisdn=settings.ops_alert_number,
        incident=incident,
        template=template,
        params=params,
        actor="system:sms",
        now=now,
    )


async def operator_alert(
    session: AsyncSession,
    *,
    keyring: KeyRing,
    operator_id: int,
    incident: str,
    template: str,
    actor: str,
    now: datetime,
) -> bool:
    """:func:`alert` to operator ``operator_id``'s technical contact, naming the operator.

    An operator registered without a contact phone cannot be told by SMS: the
    incident is logged at ERROR (and stays visible to staff in the back-office's
    delivery figures); returns False then.

    Raises:
        NotFound: no such operator.
        KeyError: ``template`` is not one of :data:`core.notices.TEMPLATES`.
    """
    operator: Operator = await operators.get(session, operator_id)
    if operator.contact_phone_sealed is None:
        log.error(
            "alert %s (%s): operator %d has no technical contact", incident, template, operator_id
        )
        return False
    return await alert(
        session,
        keyring=keyring,
        msisdn=keyring.open(operator.contact_phone_sealed, field=operators.CONTACT_FIELD),
        incident=incident,
        template=template,
        params={"operator": operator.name[:OPERATOR_NAME_CHARS]},
        actor=actor,
        now=now,
    )
