"""Where MT SMS go: the console (development) or Africa's Talking through its official SDK.

Both implement :class:`core.sending.SmsGateway`; :func:`build` picks one from
``NSER_SMS_GATEWAY``. The Africa's Talking SDK (``africastalking``) is
synchronous (``requests``), so each call runs in a worker thread, bounded by
``NSER_SMS_TIMEOUT`` (the SDK's own connect/read timeouts, and the caller's).

Africa's Talking answers a send with HTTP 201 and, per recipient, a
``statusCode``/``status`` (``SMSMessageData.Recipients``): 100-102 accepted;
403 ``InvalidPhoneNumber``, 404 ``UnsupportedNumberType``, 406 ``UserInBlacklist``
and 409 ``DoNotDisturbRejection`` refuse for good; the rest (401 ``RiskHold``,
402 ``InvalidSenderId``, 405 ``InsufficientBalance``, 407 ``CouldNotRoute``,
5xx) may pass and are retried. Source: Africa's Talking SMS API documentation
("Sending messages", status codes) and the SDK's ``africastalking/SMS.py``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService

from core.identity import mask_msisdn
from core.sending import Outcome, SmsGateway, Submission
from core.settings import Settings

log = logging.getLogger(__name__)

#: Per-recipient statuses that will not change however often the message is retried.
REFUSED_FOR_GOOD = frozenset(
    {"InvalidPhoneNumber", "UnsupportedNumberType", "UserInBlacklist", "DoNotDisturbRejection"}
)
ACCEPTED_CODES = frozenset({100, 101, 102})
#: The SDK's production base URL, which ``NSER_AFRICASTALKING_API_URL`` replaces.
PRODUCTION_API = "https://api.africastalking.com"


class ConsoleGateway:
    """Development: each message is logged as ``SMS to <masked number>: <text> [<id>]``.

    The message log keeps it like any other (status ``sent``, gateway id
    ``console-…``, shown in brackets), so a delivery report can be tried against
    it by hand.
    """

    name = "console"

    async def send(
        self, *, to: str, body: str, link_id: str | None = None, short_code: str | None = None
    ) -> Submission:
        """Log the message (the number masked, lines joined with `` | ``) and accept it.

        A premium reply's ``link_id`` and ``short_code`` change nothing here.
        """
        gateway_id = f"console-{uuid.uuid4().hex[:16]}"
        log.info("SMS to %s: %s [%s]", mask_msisdn(to), body.replace("\n", " | "), gateway_id)
        return Submission(Outcome.SENT, "Success", gateway_id=gateway_id)


def _recipient(answer: object) -> dict[str, Any] | None:
    if not isinstance(answer, dict):
        return None
    data = answer.get("SMSMessageData")
    recipients = data.get("Recipients") if isinstance(data, dict) else None
    if isinstance(recipients, list) and recipients and isinstance(recipients[0], dict):
        return recipients[0]
    return None


def judge(answer: object) -> Submission:
    """What one Africa's Talking send answer (the SDK's return value) means for the message."""
    recipient = _recipient(answer)
    if recipient is None:
        # e.g. {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}
        data = answer.get("SMSMessageData") if isinstance(answer, dict) else None
        said = data.get("Message") if isinstance(data, dict) else None
        return Submission(Outcome.RETRY, str(said or "UnexpectedAnswer")[:32])
    status = str(recipient.get("status", ""))[:32]
    code = recipient.get("statusCode")
    if code in ACCEPTED_CODES:
        return Submission(
            Outcome.SENT,
            status or "Success",
            gateway_id=str(recipient.get("messageId"))[:128] or None,
            cost=str(recipient.get("cost", ""))[:32] or None,
        )
    if status in REFUSED_FOR_GOOD:
        return Submission(Outcome.FAILED, status)
    return Submission(Outcome.RETRY, status or f"Code{code}", low_balance=code == 405)


class AfricasTalkingGateway:
    """Africa's Talking bulk SMS through the official SDK (``africastalking.SMSService``).

    The SDK has no documented setting for its base URL: it builds every URL from
    the ``_baseUrl`` and ``_contentUrl`` attributes its ``_init_service`` sets
    (``https://api.africastalking.com/version1`` and
    ``https://content.africastalking.com/version1``, or the sandbox's for user
    ``sandbox``). With ``api_url`` both are replaced by ``<api_url>/version1``,
    so messages are POSTed to ``<api_url>/version1/messaging``, form-encoded,
    with the ``apiKey`` header.
    """

    name = "africastalking"

    def __init__(
        self,
        *,
        username: str,
        api_key: str,
        sender: str | None,
        timeout: float,
        api_url: str | None = None,
    ) -> None:
        self._sms = SMSService(username, api_key)
        if api_url is not None:
            # Bulk sends go to _baseUrl, premium replies (send_premium) to _contentUrl.
            self._sms._baseUrl = api_url.rstrip("/") + "/version1"
            self._sms._contentUrl = self._sms._baseUrl
        self.sender = sender
        self.timeout = timeout

    def _send(self, to: str, body: str, link_id: str | None, short_code: str | None) -> object:
        timeout = (min(3.05, self.timeout), self.timeout)
        if link_id is not None:
            return self._sms.send_premium(
                body, short_code or self.sender, [to], link_id=link_id, timeout=timeout
            )
        return self._sms.send(body, [to], sender_id=self.sender, timeout=timeout)

    async def send(
        self, *, to: str, body: str, link_id: str | None = None, short_code: str | None = None
    ) -> Submission:
        """POST one message; HTTP errors, timeouts and refusals become a :class:`Submission`.

        With ``link_id`` it is a premium reply (the SDK's ``send_premium``:
        ``linkId``, ``from`` the shortcode the MO was sent to, or
        ``NSER_SMS_SENDER``, ``bulkSMSMode=0``), POSTed to the content API
        (``https://content.africastalking.com/version1/messaging``, or
        ``<NSER_AFRICASTALKING_API_URL>/version1/messaging``), so the reply is
        linked to the MO and billed as the service's answer to it.
        """
        try:
            answer = await asyncio.to_thread(self._send, to, body, link_id, short_code)
        except ValueError:  # the SDK's own check of the number
            return Submission(Outcome.FAILED, "InvalidPhoneNumber")
        except AfricasTalkingException as exc:  # a non-2xx answer; the SDK keeps only its body
            log.warning("Africa's Talking refused a send: %s", str(exc)[:200])
            return Submission(Outcome.RETRY, "HTTPError")
        except requests.Timeout:
            return Submission(Outcome.RETRY, "Timeout")
        except requests.RequestException as exc:
            return Submission(Outcome.RETRY, type(exc).__name__[:32])
        return judge(answer)


def build(settings: Settings) -> SmsGateway:
    """The gateway ``NSER_SMS_GATEWAY`` names.

    Raises:
        ValueError: ``africastalking`` without ``AFRICASTALKING_USERNAME`` and ``_API_KEY``.
    """
    if settings.sms_gateway == "console":
        return ConsoleGateway()
    if settings.africastalking_username is None or settings.africastalking_api_key is None:
        raise ValueError(
            "NSER_SMS_GATEWAY=africastalking needs AFRICASTALKING_USERNAME and _API_KEY"
        )
    return AfricasTalkingGateway(
        username=settings.africastalking_username,
        api_key=settings.africastalking_api_key.get_secret_value(),
        sender=settings.sms_sender,
        timeout=settings.sms_timeout,
        api_url=settings.africastalking_api_url,
    )
