"""One person, many SIMs: IDs at self-exclusion, a second line by reference, conflicts, detach."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import detach, identifiers, queue, subjects
from core.codes import check_character
from core.errors import (
    AlreadyExcluded,
    DetachConflict,
    LinkRefused,
    MakerCheckerViolation,
    PermissionDenied,
)
from core.exclusion_store import holder_of
from core.models import Channel, IdentifierKind, Role
from core.periods import Period
from core.permissions import Principal
from core.register_cache import RegisterCache
from core.services import Services
from core.subjects import Identifier
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.push import register
from tests.support.staff import member, self_excluded, self_excluding

LINE_A = "+254712000001"
LINE_B = "+254712000002"
LINE_C = "+254712000003"
URL = "http://127.0.0.1:9/webhooks"  # never called here


def national_id(services: Services, raw: str = "12345678") -> Identifier:
    return subjects.identifier(services.keyring, IdentifierKind.NATIONAL_ID, raw)


async def join(services: Services, msisdn: str, reference: str) -> identifiers.Joined:
    """Join ``msisdn`` to the exclusion ``reference`` as a channel does; a refusal still commits."""
    async with services.db() as db:
        try:
            joined = await identifiers.join_by_reference(
                db,
                keyring=services.keyring,
                msisdn=msisdn,
                reference=reference,
                channel=Channel.USSD,
                actor="citizen:test",
                now=services.clock(),
            )
        except LinkRefused:
            await db.commit()
            raise
        await queue.commit(db, services.queue)
    return joined


async def excluded_by(services: Services, *raw: str) -> bool:
    """What an operator lookup (the register cache) answers for these identifiers."""
    cache = RegisterCache(services.engine)
    await cache.reload()
    indexes = []
    for value in raw:
        kind = IdentifierKind.MSISDN if value.startswith("+") else IdentifierKind.NATIONAL_ID
        indexes.append(subjects.identifier(services.keyring, kind, value).bidx)
    return cache.lookup(indexes, now=services.clock()) is not None


async def holders(services: Services, *numbers: str) -> set[int | None]:
    async with services.db() as db:
        conn = await db.connection()
        found = set()
        for number in numbers:
            bidx = subjects.msisdn_index(services.keyring, number)
            found.add((await conn.execute(select(holder_of(bidx)))).scalar())
    return found


async def test_line_b_joins_by_reference_and_every_identifier_answers_excluded(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await register(services, name="On B", url=URL, customers={"cust-b": LINE_B})
    await register(services, name="On A", url=URL, customers={"cust-a": LINE_A})
    first = await self_excluded(services, LINE_A, document=national_id(services, "1234 5678"))
    assert not await excluded_by(services, LINE_B)

    joined = await join(services, LINE_B, first.exclusion.reference.lower().replace("-", " "))

    assert (joined.reference, joined.ends_at, joined.already) == (
        first.exclusion.reference,
        first.exclusion.ends_at,
        False,
    )
    for who in (LINE_A, LINE_B, "12345678", "012-345-678"):
        assert await excluded_by(services, who), who
    assert await holders(services, LINE_A, LINE_B) == {first.subject.id}
    assert len(await rows("subject")) == 1
    # The operator holding B hears of it, with its customer_ref and the BST only.
    added = [r for r in await rows("webhook_delivery") if r["event_type"].endswith("added")]
    assert [r["payload"]["data"]["customer_ref"] for r in added] == ["cust-b"]
    assert added[0]["payload"]["type"] == "exclusion.identifier_added"
    assert set(added[0]["payload"]["data"]) == {
        "event_id",
        "occurred_at",
        "customer_ref",
        "bst",
        "until",
    }
    assert added[0]["payload"]["data"]["bst"] == first.subject.bst
    # The first number is told, by SMS, that a number was added.
    sms = [m for m in await rows("sms_message") if m["template"] == "identifier_added"]
    assert len(sms) == 1
    assert sms[0]["msisdn_bidx"] == subjects.msisdn_index(services.keyring, LINE_A)
    audit = {r["action"] for r in await rows("audit_entry")}
    assert {"identifier.added", "exclusion.identifier_added"} <= audit
    # Joining again is harmless.
    again = await join(services, LINE_B, first.exclusion.reference)
    assert again.already
    assert len([r for r in await rows("exclusion_event")]) == 2


async def test_a_second_person_claiming_the_same_id_keeps_both_excluded_and_flags_one_conflict(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    one = await self_excluded(services, LINE_A, Period.SIX_MONTHS, document=national_id(services))
    two = await self_excluded(services, LINE_B, Period.PERMANENT, document=national_id(services))
    assert one.subject.id != two.subject.id
    assert await excluded_by(services, LINE_A)
    assert await excluded_by(services, LINE_B)
    assert await excluded_by(services, "12345678")
    async with services.db() as db:
        [conflict] = await identifiers.conflicts(db)
    assert (conflict.bst, conflict.other_bst) == (two.subject.bst, one.subject.bst)
    assert conflict.family == "kenyan_id"
    # Neither number is told about the other: no SMS beyond each one's own confirmation.
    assert sorted(m["template"] for m in await rows("sms_message")) == [
        "confirmation",
        "confirmation",
    ]
    # The first person's exclusion ending does not free the ID: the second is still in force.
    clock.advance(days=200)
    assert await excluded_by(services, "12345678")
    olive = (await member(services, "olive", Role.OFFICER)).principal
    sam = (await member(services, "sam", Role.SUPERVISOR)).principal
    async with services.db() as db:
        with pytest.raises(PermissionDenied):  # an officer sees the queue; a supervisor decides
            await identifiers.resolve_conflict(
                db,
                principal=olive,
                conflict_id=conflict.id,
                note="checked at Huduma",
                now=clock.now,
            )
        done = await identifiers.resolve_conflict(
            db, principal=sam, conflict_id=conflict.id, note="checked at Huduma", now=clock.now
        )
        await db.commit()
        assert done.resolved_at == clock.now
        assert await identifiers.conflicts(db) == []


async def test_wrong_references_are_limited_per_number_and_typos_are_not_counted(
    services: Services, rows: RowFetcher
) -> None:
    first = await self_excluded(services, LINE_A)
    with pytest.raises(LinkRefused, match="malformed"):
        await join(services, LINE_B, "K7M3-Q9PB")  # a check-character typo
    guesses = [ref for ref in _valid_references() if ref != first.exclusion.reference]
    for guess in guesses[: identifiers.WRONG_REFERENCE_LIMIT]:
        with pytest.raises(LinkRefused, match="unknown"):
            await join(services, LINE_B, guess)
    with pytest.raises(LinkRefused, match="limited"):
        await join(services, LINE_B, first.exclusion.reference)
    # Another number is not limited by B's guesses.
    assert not (await join(services, LINE_C, first.exclusion.reference)).already
    assert len(await rows("link_failure")) == identifiers.WRONG_REFERENCE_LIMIT


async def test_a_burst_of_wrong_references_at_once_never_passes_the_limit(
    services: Services, rows: RowFetcher
) -> None:
    await self_excluded(services, LINE_A)
    outcomes = await asyncio.gather(
        *(join(services, LINE_B, ref) for ref in _valid_references()[:12]),
        return_exceptions=True,
    )
    reasons = sorted(str(o) for o in outcomes)
    assert reasons.count("unknown") == identifiers.WRONG_REFERENCE_LIMIT
    assert reasons.count("limited") == 12 - identifiers.WRONG_REFERENCE_LIMIT


def _valid_references() -> list[str]:
    """Well-formed references (right check character) that no test exclusion holds."""
    codes = [body + check_character(body) for body in (c * 7 for c in "23456789ABCDEFGH")]
    return [f"{code[:4]}-{code[4:]}" for code in codes]


async def test_the_reference_of_an_exclusion_that_ended_cannot_be_joined(
    services: Services, clock: Clock
) -> None:
    first = await self_excluded(services, LINE_A, Period.SIX_MONTHS)
    clock.advance(days=190)
    with pytest.raises(LinkRefused, match="unknown"):
        await join(services, LINE_B, first.exclusion.reference)


async def test_a_number_with_its_own_longer_exclusion_joins_and_the_longer_end_wins(
    services: Services, rows: RowFetcher
) -> None:
    short = await self_excluded(services, LINE_A, Period.SIX_MONTHS)
    long = await self_excluded(services, LINE_B, Period.FIVE_YEARS, document=national_id(services))
    joined = await join(services, LINE_B, short.exclusion.reference)
    assert joined.ends_at == long.exclusion.ends_at
    assert await holders(services, LINE_A, LINE_B) == {short.subject.id}
    # B's ID moved with it: one person holds everything.
    subjects_of = {r["subject_id"] for r in await rows("subject_identifier")}
    assert subjects_of == {short.subject.id}
    [merged] = [r for r in await rows("subject") if r["id"] == long.subject.id]
    assert merged["msisdn_bidx"] is None
    assert merged["merged_into_id"] == short.subject.id
    assert await excluded_by(services, LINE_A, "12345678")
    # The reference B's owner knows still leads to the one person.
    third = await join(services, LINE_C, long.exclusion.reference)
    assert third.reference == short.exclusion.reference
    assert await holders(services, LINE_A, LINE_B, LINE_C) == {short.subject.id}


async def test_two_lines_linking_to_each_other_at_once_end_as_one_person(
    services: Services, rows: RowFetcher
) -> None:
    a = await self_excluded(services, LINE_A, Period.SIX_MONTHS)
    b = await self_excluded(services, LINE_B, Period.ONE_YEAR)
    outcomes = await asyncio.gather(
        join(services, LINE_A, b.exclusion.reference),
        join(services, LINE_B, a.exclusion.reference),
        return_exceptions=True,
    )
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    owners = await holders(services, LINE_A, LINE_B)
    assert len(owners) == 1
    assert await excluded_by(services, LINE_A)
    assert await excluded_by(services, LINE_B)


async def test_a_lengthening_from_the_other_line_waits_for_the_person_and_sees_what_committed(
    services: Services, rows: RowFetcher
) -> None:
    # Two lines of one person take different numbers' locks and meet on the person's row:
    # the second must wait there, then read the first's committed exclusion, never the
    # one it would have seen before waiting (which would shorten "permanent" to 5 years).
    a = await self_excluded(services, LINE_A, Period.SIX_MONTHS)
    await join(services, LINE_B, a.exclusion.reference)

    async with services.db() as first, services.db() as second:
        # Both in the person's own language ("sw"): no language update takes the row for us.
        await self_excluding(first, services, LINE_A, Period.PERMANENT)  # holds the person's row
        waiting = asyncio.create_task(self_excluding(second, services, LINE_B, Period.FIVE_YEARS))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.commit()
        with pytest.raises(AlreadyExcluded):
            await waiting
    [exclusion] = await rows("exclusion")
    assert exclusion["id"] == a.exclusion.id
    assert exclusion["period"] == "permanent"
    assert exclusion["ends_at"] is None
    assert len(await rows("subject")) == 1


async def detach_asked(
    services: Services, principal: Principal, bst: str, number: str
) -> detach.DetachView:
    """``principal`` asks (committed) that ``number`` be detached from the person ``bst``."""
    async with services.db() as db:
        asked = await detach.request(
            db,
            principal=principal,
            keyring=services.keyring,
            bst=bst,
            kind=IdentifierKind.MSISDN,
            value=number,
            reason="recycled by the network; the new holder came in",
            now=services.clock(),
        )
        await db.commit()
    return asked


async def test_a_detach_by_maker_checker_removes_only_that_identifier(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await register(services, name="On B", url=URL, customers={"cust-b": LINE_B})
    first = await self_excluded(services, LINE_A, document=national_id(services))
    await join(services, LINE_B, first.exclusion.reference)
    olive = (await member(services, "olive", Role.OFFICER)).principal
    sam = (await member(services, "sam", Role.SUPERVISOR)).principal
    sue = (await member(services, "sue", Role.SUPERVISOR)).principal
    asked = await detach_asked(services, sam, first.subject.bst, "0712 000 002")
    async with services.db() as db:
        with pytest.raises(PermissionDenied):  # an officer cannot decide
            await detach.approve(db, principal=olive, request_id=asked.id, now=clock.now)
        with pytest.raises(MakerCheckerViolation):  # nor the one who asked
            await detach.approve(db, principal=sam, request_id=asked.id, now=clock.now)
    async with services.db() as db:
        done = await detach.approve(db, principal=sue, request_id=asked.id, now=clock.now)
        await queue.commit(db, services.queue)
    assert done.status == "detached"
    assert not await excluded_by(services, LINE_B)
    assert await excluded_by(services, LINE_A)
    assert await excluded_by(services, "12345678")
    removed = [r for r in await rows("webhook_delivery") if r["event_type"].endswith("removed")]
    assert [r["payload"]["data"]["customer_ref"] for r in removed] == ["cust-b"]
    actions = [r["action"] for r in await rows("audit_entry")]
    for action in (
        "identifier.detach_requested",
        "staff.refused",
        "identifier.detach_detached",
        "exclusion.identifier_removed",
    ):
        assert action in actions
    async with services.db() as db:
        with pytest.raises(DetachConflict):
            await detach.approve(db, principal=sue, request_id=asked.id, now=clock.now)
    # The recycled number's new holder can now exclude themselves: a new person.
    clock.advance(seconds=1)
    stranger = await self_excluded(services, LINE_B, key="ussd:new-holder")
    assert stranger.subject.id != first.subject.id


async def test_detaching_the_contact_number_hands_notices_to_the_other_line(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    first = await self_excluded(services, LINE_A)
    await join(services, LINE_B, first.exclusion.reference)
    olive = (await member(services, "olive", Role.OFFICER)).principal
    sam = (await member(services, "sam", Role.SUPERVISOR)).principal
    asked = await detach_asked(services, olive, first.subject.bst, LINE_A)
    async with services.db() as db:
        await detach.approve(db, principal=sam, request_id=asked.id, now=clock.now + timedelta(1))
        await db.commit()
    [person] = [r for r in await rows("subject") if r["id"] == first.subject.id]
    assert person["msisdn_bidx"] == subjects.msisdn_index(services.keyring, LINE_B)


async def test_an_officer_verifies_a_claimed_id_and_a_viewer_may_not(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    first = await self_excluded(services, LINE_A, document=national_id(services))
    olive = (await member(services, "olive", Role.OFFICER)).principal
    vera = (await member(services, "vera", Role.VIEWER)).principal
    async with services.db() as db:
        with pytest.raises(PermissionDenied):
            await identifiers.record_verified(
                db,
                principal=vera,
                keyring=services.keyring,
                bst=first.subject.bst,
                kind=IdentifierKind.NATIONAL_ID,
                value="12345678",
                now=clock.now,
            )
    async with services.db() as db:
        new = await identifiers.record_verified(
            db,
            principal=olive,
            keyring=services.keyring,
            bst=first.subject.bst,
            kind=IdentifierKind.NATIONAL_ID,
            value="1234-5678",
            now=clock.now,
        )
        await db.commit()
    async with services.db() as db:
        with pytest.raises(LinkRefused, match="other_person"):
            await identifiers.record_verified(
                db,
                principal=olive,
                keyring=services.keyring,
                bst=(await self_excluded(services, LINE_B, key="k")).subject.bst,
                kind=IdentifierKind.MSISDN,
                value=LINE_A,
                now=clock.now,
            )
    async with services.db() as db:
        await identifiers.record_verified(
            db,
            principal=olive,
            keyring=services.keyring,
            bst=first.subject.bst,
            kind=IdentifierKind.PASSPORT,
            value="ak 012 3456",
            now=clock.now,
        )
        await queue.commit(db, services.queue)
    assert new is False  # it was claimed already: now verified
    statuses = {r["kind"]: r["status"] for r in await rows("subject_identifier")}
    assert statuses["national_id"] == "verified"
    assert statuses["passport"] == "verified"
    assert await excluded_by(services, LINE_A)
