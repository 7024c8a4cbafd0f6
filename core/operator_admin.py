"""Operator management for staff: :mod:`core.operators`' changes behind the admin role check.

Each function here checks the staff member first (:func:`core.permissions.requires`,
admin; a refusal is audited and nothing runs), then calls the same
:mod:`core.operators` function the ``nser operator`` CLI uses, with
``staff:<username>`` as the audit actor, so every change is audited there, once.
The caller commits. :func:`listing` adds each operator's delivery health.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core import deliveries, operators
from core.crypto import KeyRing
from core.models import Delivery, DeliveryStatus, KeyMode, OperatorStatus, Role
from core.operators import NewKey, NewOperator, OperatorSummary
from core.permissions import Principal, requires


@dataclass(frozen=True)
class OperatorLine:
    """One operator as the back-office lists it: :class:`OperatorSummary` and delivery health.

    ``pending`` and ``failed`` count its webhook deliveries in those states;
    ``last_status`` is the newest delivery's state (``delivered``, ``pending``,
    ``failed``, ``skipped``, or ``None`` before the first), ``last_http`` its
    last HTTP status and ``last_at`` (UTC) when it was last tried.
    """

    summary: OperatorSummary
    pending: int
    failed: int
    last_status: str | None
    last_http: int | None
    last_at: datetime | None


@requires(Role.ADMIN, "operator.list")
async def listing(db: AsyncSession, /, *, principal: Principal) -> list[OperatorLine]:
    """Every operator with its unrevoked keys and delivery health (three queries, read-only).

    Raises:
        PermissionDenied: not an admin (audited).
    """
    found = await operators.summaries(db)
    counts = dict(
        (
            (operator_id, (pending, failed))
            for operator_id, pending, failed in (
                await db.exec(
                    select(
                        col(Delivery.operator_id),
                        func.count().filter(col(Delivery.status) == DeliveryStatus.PENDING.value),
                        func.count().filter(col(Delivery.status) == DeliveryStatus.FAILED.value),
                    ).group_by(col(Delivery.operator_id))
                )
            ).all()
        )
    )
    newest = (
        await db.exec(
            select(
                col(Delivery.operator_id),
                col(Delivery.status),
                col(Delivery.last_status),
                col(Delivery.last_attempt_at),
            )
            .ext(distinct_on(col(Delivery.operator_id)))
            .order_by(col(Delivery.operator_id), col(Delivery.id).desc())
        )
    ).all()
    last = {row[0]: row[1:] for row in newest}
    lines = []
    for summary in found:
        pending, failed = counts.get(summary.id, (0, 0))
        status, http, at = last.get(summary.id, (None, None, None))
        lines.append(OperatorLine(summary, pending, failed, status, http, at))
    return lines


@requires(Role.ADMIN, "operator.register")
async def register(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    keyring: KeyRing,
    name: str,
    licence: str,
    webhook_url: str | None,
    now: datetime,
) -> NewOperator:
    """:func:`core.operators.register` by an admin: the first key and secret are shown once.

    Raises:
        PermissionDenied: not an admin (audited).
        InvalidInput, OperatorConflict: as :func:`core.operators.register`.
    """
    return await operators.register(
        db,
        keyring=keyring,
        name=name,
        licence=licence,
        webhook_url=webhook_url or None,
        actor=principal.actor,
        now=now,
    )


@requires(Role.ADMIN, "operator.key_create")
async def create_key(
    db: AsyncSession, /, *, principal: Principal, operator_id: int, mode: KeyMode, now: datetime
) -> NewKey:
    """:func:`core.operators.create_key` by an admin (the key is shown once).

    Raises:
        PermissionDenied: not an admin (audited).
        NotFound: no such operator.
    """
    return await operators.create_key(
        db, operator_id=operator_id, mode=mode, actor=principal.actor, now=now
    )


@requires(Role.ADMIN, "operator.key_revoke")
async def revoke_key(
    db: AsyncSession, /, *, principal: Principal, operator_id: int, key_id: int, now: datetime
) -> None:
    """:func:`core.operators.revoke_key` by an admin.

    Raises:
        PermissionDenied: not an admin (audited).
        NotFound: the operator has no such unrevoked key.
    """
    await operators.revoke_key(
        db, operator_id=operator_id, key_id=key_id, actor=principal.actor, now=now
    )


@requires(Role.ADMIN, "operator.secret_rotate")
async def rotate_secret(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    keyring: KeyRing,
    operator_id: int,
    now: datetime,
    overlap: timedelta = operators.ROTATION_OVERLAP,
) -> str:
    """:func:`core.operators.rotate_secret` by an admin; returns the new secret (shown once).

    Raises:
        PermissionDenied: not an admin (audited).
        NotFound: no such operator.
    """
    return await operators.rotate_secret(
        db,
        keyring=keyring,
        operator_id=operator_id,
        actor=principal.actor,
        now=now,
        overlap=overlap,
    )


@requires(Role.ADMIN, "operator.set_status")
async def set_status(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    operator_id: int,
    status: OperatorStatus,
    now: datetime,
) -> None:
    """:func:`core.operators.set_status` (suspend or reactivate) by an admin.

    Raises:
        PermissionDenied: not an admin (audited).
        NotFound: no such operator.
    """
    await operators.set_status(
        db, operator_id=operator_id, status=status, actor=principal.actor, now=now
    )


@requires(Role.ADMIN, "operator.redeliver")
async def redeliver_failed(
    db: AsyncSession, /, *, principal: Principal, operator_id: int, now: datetime
) -> int:
    """:func:`core.deliveries.redeliver_failed` by an admin: how many go out again.

    Raises:
        PermissionDenied: not an admin (audited).
        NotFound: no such operator.
    """
    await operators.get(db, operator_id)
    return await deliveries.redeliver_failed(
        db, operator_id=operator_id, actor=principal.actor, now=now
    )


@requires(Role.ADMIN, "operator.configure")
async def configure(
    db: AsyncSession,
    /,
    *,
    principal: Principal,
    keyring: KeyRing,
    operator_id: int,
    webhook_url: str | None,
    allow: list[str] | None,
    contact_name: str | None,
    contact_phone: str | None,
    now: datetime,
) -> None:
    """:func:`core.operators.configure` by an admin (``None`` leaves a setting as it is).

    Raises:
        PermissionDenied: not an admin (audited).
        NotFound: no such operator.
        InvalidInput: bad URL, CIDR or contact phone; nothing is changed.
    """
    await operators.configure(
        db,
        operator_id=operator_id,
        actor=principal.actor,
        now=now,
        webhook_url=webhook_url,
        allow=allow,
        contact_name=contact_name,
        contact_phone=contact_phone,
        keyring=keyring,
    )
