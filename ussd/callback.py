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

from core.errors import InvalidInput

_SESSION_ID = re.compile(r"[\x21-\x7e]{1,128}")
_SERVICE_CODE = re.compile(r"[*#0-9]{2,32}")
_NETWORK_CODE = re.compile(r"[0-9]{0,16}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_TEXT = 1024


class MalformedCallback(InvalidInput):
    """A callback field is missing or not of the documented form (answered with 400)."""


def _field(form: Mapping[str, object], name: str, *, required: bool = True) -> str | None:
    value = form.get(name)
    if value is None:
        if required:
            raise MalformedCallback(f"missing field {name}")
        return None
    if not isinstance(value, str):
        raise MalformedCallback(f"field {name} must be text")
    return value


def _checked(value: str | None, name: str, pattern: re.Pattern[str]) -> str | None:
    if value is not None and not pattern.fullmatch(value):
        raise MalformedCallback(f"malformed field {name}")
    return value


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
        session_id = _checked(_field(form, "sessionId"), "sessionId", _SESSION_ID)
        service_code = _checked(_field(form, "serviceCode"), "serviceCode", _SERVICE_CODE)
        phone = _field(form, "phoneNumber")
        text = _field(form, "text")
        network = _checked(
            _field(form, "networkCode", required=False), "networkCode", _NETWORK_CODE
        )
        assert session_id is not None
        assert service_code is not None
        assert phone is not None
        assert text is not None
        if not phone.strip() or len(phone) > 32:
            raise MalformedCallback("malformed field phoneNumber")
        if len(text) > MAX_TEXT or _CONTROL.search(text):
            raise MalformedCallback("malformed field text")
        return cls(session_id, service_code, phone, network or None, text)


def _int(form: Mapping[str, object], name: str) -> int | None:
    value = _field(form, name, required=False)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise MalformedCallback(f"field {name} must be a whole number") from exc


def _text(form: Mapping[str, object], name: str, limit: int) -> str | None:
    value = _field(form, name, required=False)
    if value is not None and len(value) > limit:
        raise MalformedCallback(f"field {name} is longer than {limit} characters")
    return value


@dataclass(frozen=True)
class EndOfSession:
    """One end-of-session notification."""

    session_id: str
    service_code: str | None
    network_code: str | None
    phone_number: str | None
    status: str | None
    cost: str | None
    duration_ms: int | None
    hops_count: int | None
    input: str | None
    error_message: str | None
    date: str | None

    @classmethod
    def parse(cls, form: Mapping[str, object]) -> EndOfSession:
        """Validate a notification's form fields (only ``sessionId`` is required).

        Raises:
            MalformedCallback: ``sessionId`` missing/malformed, a number field not a
                whole number, or a text field too long.
        """
        session_id = _checked(_field(form, "sessionId"), "sessionId", _SESSION_ID)
        assert session_id is not None
        return cls(
            session_id=session_id,
            service_code=_text(form, "serviceCode", 32),
            network_code=_text(form, "networkCode", 16),
            phone_number=_text(form, "phoneNumber", 32),
            status=_text(form, "status", 32),
            cost=_text(form, "cost", 32),
            duration_ms=_int(form, "durationInMillis"),
            hops_count=_int(form, "hopsCount"),
            input=_text(form, "input", MAX_TEXT),
            error_message=_text(form, "errorMessage", 512),
            date=_text(form, "date", 64),
        )
