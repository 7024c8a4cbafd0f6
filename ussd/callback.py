"""Parsing Africa's Talking USSD callbacks.

Session callback (form-encoded POST): ``sessionId``, ``serviceCode``,
``phoneNumber``, ``networkCode`` and ``text`` (every input so far joined by
``*``; empty on the first request). End-of-session notification: ``sessionId``,
``serviceCode``, ``networkCode``, ``phoneNumber``, ``status``, ``cost``,
``durationInMillis``, ``hopsCount``, ``input``, ``errorMessage``, ``date``.
Source: Africa's Talking USSD API documentation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.forms import MalformedCallback, field, matching, required, whole_number

_SESSION_ID = re.compile(r"[\x21-\x7e]{1,128}")
_SERVICE_CODE = re.compile(r"[*#0-9]{2,32}")
_NETWORK_CODE = re.compile(r"[0-9]{0,16}")
MAX_TEXT = 1024

__all__ = ["MAX_TEXT", "EndOfSession", "MalformedCallback", "SessionCallback"]


@dataclass(frozen=True)
class SessionCallback:
    """One USSD session request."""

    session_id: str
    service_code: str
    phone_number: str
    network_code: str | None
    text: str

    @classmethod
    def parse(cls, form: Mapping[str, object]) -> SessionCallback:
        """Validate a session callback's form fields.

        Raises:
            MalformedCallback: a field is missing, too long, or of the wrong form.
        """
        session_id = required(form, "sessionId", limit=128)
        matching(session_id, "sessionId", _SESSION_ID)
        service_code = required(form, "serviceCode", limit=32)
        matching(service_code, "serviceCode", _SERVICE_CODE)
        phone = required(form, "phoneNumber", limit=32)
        text = required(form, "text", limit=MAX_TEXT)
        network = matching(field(form, "networkCode", limit=16), "networkCode", _NETWORK_CODE)
        if not phone.strip():
            raise MalformedCallback("malformed field phoneNumber")
        return cls(session_id, service_code, phone, network or None, text)


@dataclass(frozen=True)
class EndOfSession:
    """One end-of-session notification.

    The citizen's typed ``input`` is deliberately not kept: it can hold a phone
    or ID number typed into a menu. Only how many inputs there were is.
    """

    session_id: str
    service_code: str | None
    network_code: str | None
    phone_number: str | None
    status: str | None
    cost: str | None
    duration_ms: int | None
    hops_count: int | None
    error_message: str | None
    date: str | None

    @classmethod
    def parse(cls, form: Mapping[str, object]) -> EndOfSession:
        """Validate a notification's form fields (only ``sessionId`` is required).

        Raises:
            MalformedCallback: ``sessionId`` missing/malformed, a number field not a
                whole number from 0 to 2**31-1, or a text field too long or holding
                a control character.
        """
        session_id = required(form, "sessionId", limit=128)
        matching(session_id, "sessionId", _SESSION_ID)
        field(form, "input", limit=MAX_TEXT)  # validated like the rest, never stored
        return cls(
            session_id=session_id,
            service_code=field(form, "serviceCode", limit=32),
            network_code=field(form, "networkCode", limit=16),
            phone_number=field(form, "phoneNumber", limit=32),
            status=field(form, "status", limit=32),
            cost=field(form, "cost", limit=32),
            duration_ms=whole_number(form, "durationInMillis"),
            hops_count=whole_number(form, "hopsCount"),
            error_message=field(form, "errorMessage", limit=512),
            date=field(form, "date", limit=64),
        )
