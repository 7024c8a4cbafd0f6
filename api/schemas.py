"""The operator API's request and answer bodies (pydantic), also the OpenAPI schemas.

Identifiers are strings as operators hold them: any common spelling of a Kenyan
mobile number (``0712 345678``, ``+254712345678``, ``254712345678``) and a
national ID of 6 to 8 digits (spaces and dashes ignored).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.subscriptions import BULK_LIMIT

BATCH_LIMIT = 1_000
_Identifier = Field(default=None, min_length=1, max_length=32)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Person(_Strict):
    """One person, by MSISDN and/or national ID (at least one)."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["msisdn"]}, {"required": ["national_id"]}]}
    )

    msisdn: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[+0-9 ().-]+$")
    national_id: str | None = _Identifier


class BatchItem(Person):
    """One person in a batch, with the operator's own correlation id."""

    id: str = Field(min_length=1, max_length=64)


class BatchLookup(_Strict):
    """``POST /v1/lookups/batch``: up to 1,000 people."""

    items: list[BatchItem] = Field(max_length=BATCH_LIMIT)


class BulkItem(Person):
    """One customer in a bulk subscription."""

    customer_ref: str = Field(min_length=1, max_length=128)


class BulkSubscribe(_Strict):
    """``POST /v1/subscriptions/bulk``: up to 10,000 customers."""

    items: list[BulkItem] = Field(max_length=BULK_LIMIT)


class Standing(BaseModel):
    """The register's answer about one person.

    ``bst`` and ``until`` are present only when ``excluded``; ``until`` is the
    UTC end (ISO 8601) or ``null`` for a permanent exclusion. A person who is not
    excluded gets exactly ``{"excluded": false}``, whether or not the register
    has ever seen them.
    """

    excluded: bool
    bst: str | None = None
    until: datetime | None = None


class ItemError(BaseModel):
    """Why one item of a batch could not be answered."""

    errors: list[dict[str, str]]


class BatchAnswer(BaseModel):
    """Per-item answers, in the order asked: each has ``id`` and a standing or an ``error``."""

    items: list[dict[str, Any]]


class SubscriptionAnswer(Standing):
    """``PUT /v1/subscriptions/{customer_ref}``: the customer's current standing."""

    customer_ref: str


class BulkAnswer(BaseModel):
    """Per-item outcomes (``subscribed`` with a standing, or ``error``) and counts."""

    subscribed: int
    excluded: int
    failed: int
    items: list[dict[str, Any]]


class HeldSubscription(BaseModel):
    """One subscription as we hold it: the ref and which identifiers we have (never them)."""

    customer_ref: str
    has_msisdn: bool
    has_national_id: bool
    updated_at: datetime


class SubscriptionsPage(BaseModel):
    """A page of subscriptions; pass ``next`` as ``after`` for the next page (``null`` = end)."""

    items: list[HeldSubscription]
    next: int | None


class EventData(BaseModel):
    """The event, as the operator may know it: its customer and the BST, never an identifier."""

    event_id: int
    occurred_at: datetime
    customer_ref: str
    bst: str
    until: datetime | None


class Event(BaseModel):
    """One event (the same JSON as the webhook body, Standard Webhooks shape)."""

    type: Literal[
        "exclusion.created",
        "exclusion.extended",
        "exclusion.lifted",
        "exclusion.expired",
        "exclusion.identifier_added",
        "exclusion.identifier_removed",
    ]
    timestamp: datetime
    data: EventData


class EventsPage(BaseModel):
    """A page of this operator's events; pass ``next`` as ``after`` to go on."""

    events: list[Event]
    next: int


class WebhookTest(_Strict):
    """``POST /v1/webhooks/test``: the customer reference the sample event carries."""

    customer_ref: str = Field(default="TEST-CUSTOMER-1", pattern=r"^[\x21-\x7e]{1,128}$")


class WebhookTestAnswer(BaseModel):
    """What the test webhook got: ``delivered`` only for a 2xx; ``status`` or ``error``."""

    webhook_id: str
    delivered: bool
    status: int | None
    error: str | None
