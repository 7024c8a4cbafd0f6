"""Records of the USSD gateway's end-of-session notifications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from core.models.columns import timestamp, utcnow


class UssdDialogueEnd(SQLModel, table=True):
    """One end-of-session notification from Africa's Talking.

    Fields mirror the documented notification (``sessionId``, ``serviceCode``,
    ``networkCode``, ``status``, ``cost``, ``durationInMillis``, ``hopsCount``,
    ``errorMessage``, ``date``); the phone number is kept only as its blind
    index, and the citizen's typed ``input`` is not kept at all (it can hold a
    phone or ID number typed into a menu).
    """

    __tablename__ = "ussd_session_event"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    session_id: str = Field(max_length=128, index=True)
    service_code: str | None = Field(default=None, max_length=32)
    network_code: str | None = Field(default=None, max_length=16)
    msisdn_bidx: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, max_length=32)
    cost: str | None = Field(default=None, max_length=32)
    duration_ms: int | None = Field(default=None)
    hops_count: int | None = Field(default=None)
    error_message: str | None = Field(default=None, max_length=512)
    gateway_date: str | None = Field(default=None, max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_column=timestamp())
