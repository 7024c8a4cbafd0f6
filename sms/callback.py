"""Parsing Africa's Talking SMS callbacks (form-encoded POSTs), with :mod:`gateway.forms`.

Incoming message (MO): ``from``, ``to``, ``text``, ``date``, ``id``, ``linkId``,
``networkCode``. Delivery report: ``id``, ``status``, ``phoneNumber``,
``networkCode``, ``failureReason``, ``retryCount``. Source: Africa's Talking
SMS API documentation ("Receiving messages", "Delivery reports").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.forms import MalformedCallback, field, matching, required, whole_number

_ID = re.compile(r"[\x21-\x7e]{1,128}")
_NETWORK_CODE = re.compile(r"[0-9]{0,16}")
_STATUS = re.compile(r"[A-Za-z]{1,32}")
#: Ten concatenated segments: far more than any keyword needs, far less than a flood.
MAX_TEXT = 1600

__all__ = ["MAX_TEXT", "DeliveryReport", "InboundSms", "MalformedCallback"]


@dataclass(frozen=True)
class InboundSms:
    """One MO callback: the sender as posted (``sender``), our code (``to``) and the text."""

    gateway_id: str
    sender: str
    to: str
    text: str
    date: str | None
    link_id: str | None
    network_code: str | None

    @classmethod
    def parse(cls, form: Mapping[str, object]) -> InboundSms:
        """Validate an MO callback's fields (``text`` may hold line breaks and be empty).

        Raises:
            MalformedCallback: ``id``, ``from`` or ``to`` missing or malformed, ``text``
                missing or longer than :data:`MAX_TEXT`, or any field of the wrong form.
        """
        gateway_id = required(form, "id", limit=128)
        matching(gateway_id, "id", _ID)
        sender = required(form, "from", limit=32)
        if not sender.strip():
            raise MalformedCallback("malformed field from")
        network = matching(field(form, "networkCode", limit=16), "networkCode", _NETWORK_CODE)
        return cls(
            gateway_id=gateway_id,
            sender=sender,
            to=required(form, "to", limit=32),
            text=required(form, "text", limit=MAX_TEXT, lines=True),
            date=field(form, "date", limit=64),
            link_id=field(form, "linkId", limit=128) or None,
            network_code=network or None,
        )


@dataclass(frozen=True)
class DeliveryReport:
    """One delivery report about a message NSER sent (``gateway_id`` is its ``messageId``)."""

    gateway_id: str
    status: str
    failure_reason: str | None
    network_code: str | None
    retry_count: int | None

    @classmethod
    def parse(cls, form: Mapping[str, object]) -> DeliveryReport:
        """Validate a delivery report's fields (``phoneNumber`` is checked, never kept).

        Raises:
            MalformedCallback: ``id`` or ``status`` missing or malformed, or another
                field of the wrong form.
        """
        gateway_id = required(form, "id", limit=128)
        matching(gateway_id, "id", _ID)
        status = required(form, "status", limit=32)
        matching(status, "status", _STATUS)
        field(form, "phoneNumber", limit=32)
        network = matching(field(form, "networkCode", limit=16), "networkCode", _NETWORK_CODE)
        return cls(
            gateway_id=gateway_id,
            status=status,
            failure_reason=field(form, "failureReason", limit=64) or None,
            network_code=network or None,
            retry_count=whole_number(form, "retryCount"),
        )
