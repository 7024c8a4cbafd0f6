"""Operators' customer subscriptions: which operator holds which person, by blind index only.

A subscription is the operator's own ``customer_ref`` (1–128 printable
characters, unique per operator) with the customer's MSISDN and/or national ID,
normalised (:mod:`core.identity`) and kept only as blind indexes. It is what
makes an operator a recipient of that person's exclusion events; nothing else
does. ``PUT`` semantics: subscribing a known ``customer_ref`` again replaces its
identifiers, so every call is idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from core.crypto import KeyRing
from core.errors import InvalidInput, InvalidMsisdn, InvalidNationalId
from core.identity import normalise_maisha_namba, normalise_msisdn, normalise_national_id
from core.models import Subscription
from core.subjects import MSISDN_FIELD, NATIONAL_ID_FIELD

SUBSCRIPTION = Subscription.__table__  # type: ignore[attr-defined]
BULK_LIMIT = 10_000
_REF = re.compile(r"[\x21-\x7e]{1,128}")

_UPSERT = insert(SUBSCRIPTION).values(
    operator_id=bindparam("operator_id"),
    customer_ref=bindparam("customer_ref"),
    msisdn_bidx=bindparam("msisdn_bidx"),
    national_id_bidx=bindparam("national_id_bidx"),
    created_at=bindparam("now"),
    updated_at=bindparam("now"),
)
_UPSERT = _UPSERT.on_conflict_do_update(
    constraint="operator_subscription_ref",
    set_={
        "msisdn_bidx": _UPSERT.excluded.msisdn_bidx,
        "national_id_bidx": _UPSERT.excluded.national_id_bidx,
        "updated_at": _UPSERT.excluded.updated_at,
    },
)
_DELETE = (
    delete(SUBSCRIPTION)
    .where(
        SUBSCRIPTION.c.operator_id == bindparam("operator_id"),
        SUBSCRIPTION.c.customer_ref == bindparam("customer_ref"),
    )
    .returning(SUBSCRIPTION.c.id)
)
_PAGE = (
    select(
        SUBSCRIPTION.c.id,
        SUBSCRIPTION.c.customer_ref,
        SUBSCRIPTION.c.msisdn_bidx.is_not(None).label("has_msisdn"),
        SUBSCRIPTION.c.national_id_bidx.is_not(None).label("has_national_id"),
        SUBSCRIPTION.c.updated_at,
    )
    .where(
        SUBSCRIPTION.c.operator_id == bindparam("operator_id"),
        SUBSCRIPTION.c.id > bindparam("after"),
    )
    .order_by(SUBSCRIPTION.c.id)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True, slots=True)
class Identifiers:
    """A customer's blind indexes (at least one set)."""

    msisdn_bidx: str | None
    national_id_bidx: str | None

    @property
    def indexes(self) -> tuple[str, ...]:
        """The indexes that are set, for a register lookup."""
        return tuple(i for i in (self.msisdn_bidx, self.national_id_bidx) if i)


class FieldErrors(InvalidInput):
    """Input with one or more bad fields; ``errors`` maps each field to a plain reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def kenyan_id(raw: str) -> str:
    """An operator's ``national_id``: a national ID number or a Maisha Namba (one index).

    Raises:
        InvalidNationalId: neither (see :mod:`core.identity`).
    """
    try:
        return normalise_national_id(raw)
    except InvalidNationalId:
        try:
            return normalise_maisha_namba(raw)
        except InvalidNationalId:
            raise InvalidNationalId("a national ID or Maisha Namba is 6 to 10 digits") from None


def identifiers(keyring: KeyRing, *, msisdn: str | None, national_id: str | None) -> Identifiers:
    """Normalise and blind-index a customer's identifiers (shared by lookups and subscriptions).

    Raises:
        FieldErrors: neither given, or one is not valid (``{"msisdn": "…"}``).
    """
    errors: dict[str, str] = {}
    msisdn_bidx = national_id_bidx = None
    if msisdn is not None:
        try:
            msisdn_bidx = keyring.blind_index(normalise_msisdn(msisdn), field=MSISDN_FIELD)
        except InvalidMsisdn as exc:
            errors["msisdn"] = str(exc)
    if national_id is not None:
        try:
            value = kenyan_id(national_id)
            national_id_bidx = keyring.blind_index(value, field=NATIONAL_ID_FIELD)
        except InvalidNationalId as exc:
            errors["national_id"] = str(exc)
    if msisdn is None and national_id is None:
        errors["msisdn"] = "give msisdn and/or national_id"
    if errors:
        raise FieldErrors(errors)
    return Identifiers(msisdn_bidx, national_id_bidx)


def check_ref(customer_ref: str) -> str:
    """``customer_ref`` if it is 1–128 printable ASCII characters without spaces.

    Raises:
        FieldErrors: otherwise.
    """
    if not _REF.fullmatch(customer_ref):
        raise FieldErrors({"customer_ref": "1 to 128 printable ASCII characters, no spaces"})
    return customer_ref


async def subscribe(
    db: AsyncSession,
    *,
    operator_id: int,
    customer_ref: str,
    identifiers: Identifiers,
    now: datetime,
) -> None:
    """Subscribe (or re-subscribe, replacing its identifiers) one customer; one statement."""
    await subscribe_many(
        db, operator_id=operator_id, items=[(check_ref(customer_ref), identifiers)], now=now
    )


async def subscribe_many(
    db: AsyncSession,
    *,
    operator_id: int,
    items: Sequence[tuple[str, Identifiers]],
    now: datetime,
) -> None:
    """Upsert many subscriptions (already validated) in batched statements.

    Raises:
        InvalidInput: more than :data:`BULK_LIMIT` items.
    """
    if len(items) > BULK_LIMIT:
        raise InvalidInput(f"at most {BULK_LIMIT} subscriptions per call")
    if not items:
        return
    conn = await db.connection()
    await conn.execute(
        _UPSERT,
        [
            {
                "operator_id": operator_id,
                "customer_ref": ref,
                "msisdn_bidx": ids.msisdn_bidx,
                "national_id_bidx": ids.national_id_bidx,
                "now": now,
            }
            for ref, ids in items
        ],
    )


async def unsubscribe(db: AsyncSession, *, operator_id: int, customer_ref: str) -> bool:
    """Drop one subscription; ``True`` if it existed (dropping twice is harmless)."""
    conn = await db.connection()
    params = {"operator_id": operator_id, "customer_ref": customer_ref}
    return (await conn.execute(_DELETE, params)).first() is not None


@dataclass(frozen=True, slots=True)
class Held:
    """One subscription as the operator may see it again: its ref and which identifiers we hold."""

    id: int
    customer_ref: str
    has_msisdn: bool
    has_national_id: bool
    updated_at: datetime


async def page(db: AsyncSession, *, operator_id: int, after: int, limit: int) -> list[Held]:
    """Up to ``limit`` of the operator's subscriptions with id > ``after``, in id order."""
    conn = await db.connection()
    params = {"operator_id": operator_id, "after": after, "limit": limit}
    rows = (await conn.execute(_PAGE, params)).all()
    return [Held(r.id, r.customer_ref, r.has_msisdn, r.has_national_id, r.updated_at) for r in rows]
