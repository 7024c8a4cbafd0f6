"""Permissions hold in core, without any UI: each role, disabled and half-set-up accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import (
    assessments,
    audit_log,
    figures,
    lifts,
    operator_admin,
    reports,
    staff,
    subject_view,
    walkin,
)
from core.errors import PermissionDenied
from core.models import Role
from core.permissions import Principal, require
from core.services import Services
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.staff import add_staff, excluded, member

OPERATIONS = [
    (figures.figures, Role.VIEWER, "dashboard.view"),
    (subject_view.view, Role.VIEWER, "subject.view"),
    (audit_log.browse, Role.VIEWER, "audit.browse"),
    (audit_log.verify, Role.VIEWER, "audit.verify"),
    (lifts.listing, Role.VIEWER, "lift.list"),
    (lifts.request, Role.OFFICER, "lift.request"),
    (lifts.approve, Role.SUPERVISOR, "lift.approve"),
    (lifts.reject, Role.SUPERVISOR, "lift.reject"),
    (figures.health, Role.VIEWER, "dashboard.view"),
    (reports.monthly, Role.VIEWER, "report.view"),
    (reports.export, Role.OFFICER, "report.export"),
    (assessments.record_dsm5, Role.OFFICER, "screening.assess"),
    (walkin.start, Role.OFFICER, "walkin.start"),
    (walkin.register, Role.OFFICER, "walkin.register"),
    (operator_admin.listing, Role.ADMIN, "operator.list"),
    (operator_admin.register, Role.ADMIN, "operator.register"),
    (operator_admin.create_key, Role.ADMIN, "operator.key_create"),
    (operator_admin.revoke_key, Role.ADMIN, "operator.key_revoke"),
    (operator_admin.rotate_secret, Role.ADMIN, "operator.secret_rotate"),
    (operator_admin.set_status, Role.ADMIN, "operator.set_status"),
    (operator_admin.configure, Role.ADMIN, "operator.configure"),
    (operator_admin.redeliver_failed, Role.ADMIN, "operator.redeliver"),
]


def test_every_privileged_operation_declares_its_role() -> None:
    declared = [(op.needed_role, op.action) for op, _, _ in OPERATIONS]  # type: ignore[attr-defined]
    assert declared == [(role, action) for _, role, action in OPERATIONS]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("needed", list(Role))
async def test_a_role_covers_exactly_the_roles_up_to_its_own(
    services: Services, role: Role, needed: Role
) -> None:
    principal = (await member(services, "olive", role)).principal
    async with services.db() as db:
        if role.rank >= needed.rank:
            assert (await require(db, principal, needed, action="test")).role is role
        else:
            with pytest.raises(PermissionDenied) as refused:
                await require(db, principal, needed, action="test")
            assert str(refused.value) == f"needs the {needed} role"


async def test_a_refusal_is_audited_and_rolls_back_what_was_started(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    viewer = (await member(services, "vera", Role.VIEWER)).principal
    exclusion = await excluded(services)
    before = len(await rows("audit_entry"))
    async with services.db() as db:
        with pytest.raises(PermissionDenied):
            await lifts.request(
                db,
                principal=viewer,
                reference=exclusion.reference,
                reason="the citizen asked at the counter",
                now=clock.now,
            )
    assert await rows("lift_request") == []
    [refusal] = (await rows("audit_entry"))[before:]
    assert (refusal["actor"], refusal["action"], refusal["entity"]) == (
        "staff:vera",
        "staff.refused",
        f"staff:{viewer.staff_id}",
    )
    assert refusal["after"] == {
        "action": "lift.request",
        "needed": "officer",
        "reason": "needs the officer role",
    }


async def test_disabling_takes_effect_at_the_next_action(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    olive = (await member(services, "olive", Role.OFFICER)).principal
    async with services.db() as db:
        await figures.figures(db, principal=olive, now=clock.now)
        await staff.disable(db, username="olive", actor="cli:test", now=clock.now)
        await db.commit()
    async with services.db() as db:
        with pytest.raises(PermissionDenied, match="the account is disabled"):
            await figures.figures(db, principal=olive, now=clock.now)
    assert (await rows("audit_entry"))[-1]["after"]["reason"] == "the account is disabled"


async def test_an_account_not_set_up_cannot_act_and_a_forged_principal_gets_nowhere(
    services: Services, clock: Clock
) -> None:
    temporary = await add_staff(services, "olive", Role.ADMIN)
    async with services.db() as db:
        signed = await staff.sign_in(
            db,
            keyring=services.keyring,
            username="olive",
            password=temporary,
            code="",
            now=clock.now,
        )
    forged = Principal(staff_id=999, username="mallory", role=Role.ADMIN, language="en")
    for principal in (signed.principal, forged):
        async with services.db() as db:
            with pytest.raises(PermissionDenied):
                await figures.figures(db, principal=principal, now=clock.now + timedelta(1))


async def test_an_operation_without_a_principal_is_a_programming_error(
    services: Services, clock: Clock
) -> None:
    async with services.db() as db:
        with pytest.raises(TypeError, match="needs principal"):
            await figures.figures(db, principal=None, now=clock.now)  # type: ignore[arg-type]


async def test_a_supervisor_cannot_register_an_operator_and_nothing_is_left(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    sam = (await member(services, "sam", Role.SUPERVISOR)).principal
    async with services.db() as db:
        with pytest.raises(PermissionDenied):
            await operator_admin.register(
                db,
                principal=sam,
                keyring=services.keyring,
                name="Bahati",
                licence="BCLB-1",
                webhook_url=None,
                now=clock.now,
            )
    assert await rows("operator") == []
    assert await rows("operator_api_key") == []
    refusal = (await rows("audit_entry"))[-1]
    assert (refusal["action"], refusal["after"]["action"]) == ("staff.refused", "operator.register")
