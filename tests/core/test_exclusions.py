"""The exclusion service against a real PostgreSQL: rules, idempotency, audit, privacy."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core import exclusions
from core.errors import AlreadyExcluded, ExclusionConflict, InvalidMsisdn, RequestKeyConflict
from core.exclusions import Outcome, Verdict
from core.models import Channel, ExclusionStatus
from core.periods import Period
from core.services import Services
from tests.support.clock import Clock
from tests.support.databases import RowFetcher

MSISDN = "+254712345678"


async def exclude(
    services: Services, period: Period = Period.ONE_YEAR, key: str = "test:1", **extra: Any
) -> Outcome:
    async with services.db() as db:
        outcome = await exclusions.self_exclude(
            db,
            keyring=services.keyring,
            msisdn=extra.get("msisdn", MSISDN),
            period=period,
            channel=Channel.USSD,
            request_key=key,
            language=extra.get("language", "sw"),
            actor="citizen:test",
            now=services.clock(),
        )
        await db.commit()
    return outcome


async def standing(services: Services, msisdn: str = MSISDN) -> exclusions.Status:
    async with services.db() as db:
        return await exclusions.status(
            db, keyring=services.keyring, msisdn=msisdn, now=services.clock()
        )


async def test_create_then_replay_changes_nothing(services: Services, rows: RowFetcher) -> None:
    first = await exclude(services)
    again = await exclude(services)
    assert not first.replayed
    assert again.replayed
    assert again.exclusion.reference == first.exclusion.reference
    assert len(await rows("exclusion")) == 1
    assert len(await rows("audit_entry")) == 2


async def test_a_request_key_used_by_another_person_is_refused_and_discloses_nothing(
    services: Services, rows: RowFetcher
) -> None:
    first = await exclude(services, Period.ONE_YEAR, key="ussd:shared")
    with pytest.raises(RequestKeyConflict) as refused:
        await exclude(services, Period.PERMANENT, key="ussd:shared", msisdn="+254722000202")
    assert first.exclusion.reference not in str(refused.value)
    assert len(await rows("subject")) == 1
    assert len(await rows("exclusion")) == 1


async def test_concurrent_twins_make_one_exclusion(services: Services, rows: RowFetcher) -> None:
    outcomes = await asyncio.gather(*(exclude(services, key="ussd:twin") for _ in range(5)))
    assert len({outcome.exclusion.id for outcome in outcomes}) == 1
    assert sum(not outcome.replayed for outcome in outcomes) == 1
    assert len(await rows("exclusion")) == 1
    assert len(await rows("subject")) == 1


async def test_concurrent_requests_for_one_person_keep_one_active_exclusion(
    services: Services, rows: RowFetcher
) -> None:
    periods = [Period.SIX_MONTHS, Period.FIVE_YEARS, Period.ONE_YEAR, Period.PERMANENT]
    results = await asyncio.gather(
        *(exclude(services, period, key=f"k{i}") for i, period in enumerate(periods)),
        return_exceptions=True,
    )
    assert all(isinstance(result, (Outcome, AlreadyExcluded)) for result in results)
    [exclusion] = await rows("exclusion")
    # Whatever the order, the longest period asked for wins; nothing was shortened.
    assert exclusion["ends_at"] is None
    assert exclusion["period"] == "permanent"


async def test_extend_only_to_a_later_end(services: Services, clock: Clock) -> None:
    created = await exclude(services, Period.SIX_MONTHS, key="a")
    clock.advance(days=10)
    extended = await exclude(services, Period.ONE_YEAR, key="b")
    assert extended.extended
    assert extended.exclusion.id == created.exclusion.id
    assert extended.ends_at is not None
    assert created.ends_at is not None
    assert extended.ends_at > created.ends_at
    with pytest.raises(AlreadyExcluded) as refused:
        await exclude(services, Period.SIX_MONTHS, key="c")
    assert refused.value.reference == created.exclusion.reference
    assert refused.value.ends_at == extended.ends_at
    permanent = await exclude(services, Period.PERMANENT, key="d")
    assert permanent.ends_at is None
    with pytest.raises(AlreadyExcluded):
        await exclude(services, Period.FIVE_YEARS, key="e")


async def test_extend_refuses_shortening_directly(services: Services) -> None:
    created = await exclude(services, Period.FIVE_YEARS)
    async with services.db() as db:
        with pytest.raises(ExclusionConflict, match="only be lengthened"):
            await exclusions.extend(
                db,
                exclusion=created.exclusion,
                bst=created.subject.bst,
                period=Period.ONE_YEAR,
                request_key="shorter",
                actor="citizen:test",
                now=services.clock(),
            )


async def test_replay_answers_with_the_first_outcome_after_later_changes(
    services: Services, clock: Clock
) -> None:
    first = await exclude(services, Period.SIX_MONTHS, key="first")
    clock.advance(days=1)
    await exclude(services, Period.FIVE_YEARS, key="second")
    replayed = await exclude(services, Period.SIX_MONTHS, key="first")
    assert replayed.replayed
    assert replayed.ends_at == first.ends_at
    assert not replayed.extended


async def test_status_ends_at_ends_at_and_expiry_is_audited(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    created = await exclude(services, Period.SIX_MONTHS)
    assert (await standing(services)).excluded
    assert created.ends_at is not None
    clock.now = created.ends_at - timedelta(microseconds=1)
    assert (await standing(services)).excluded
    clock.now = created.ends_at
    assert not (await standing(services)).excluded
    async with services.db() as db:
        assert await exclusions.expire_due(db, now=clock.now) == 1
        await db.commit()
    [exclusion] = await rows("exclusion")
    assert exclusion["status"] == ExclusionStatus.EXPIRED
    assert (await rows("audit_entry"))[-1]["action"] == "exclusion.expired"
    # Registering again is always possible.
    again = await exclude(services, Period.ONE_YEAR, key="again")
    assert again.exclusion.id != created.exclusion.id


async def test_a_new_exclusion_after_the_end_expires_the_old_one_first(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    created = await exclude(services, Period.SIX_MONTHS)
    assert created.ends_at is not None
    clock.now = created.ends_at + timedelta(days=1)  # the expiry job has not run yet
    await exclude(services, Period.ONE_YEAR, key="later")
    statuses = [row["status"] for row in await rows("exclusion")]
    assert statuses == ["expired", "active"]


async def test_language_preference_changes_are_audited(
    services: Services, rows: RowFetcher, clock: Clock
) -> None:
    await exclude(services, Period.SIX_MONTHS, key="a", language="sw")
    clock.advance(days=1)
    await exclude(services, Period.ONE_YEAR, key="b", language="en")
    [subject] = await rows("subject")
    assert subject["language"] == "en"
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions == [
        "subject.created",
        "exclusion.created",
        "subject.language_changed",
        "exclusion.extended",
    ]


async def test_bad_msisdn_and_channel_are_refused(services: Services, rows: RowFetcher) -> None:
    with pytest.raises(InvalidMsisdn):
        await exclude(services, msisdn="0202222222")
    async with services.db() as db:
        with pytest.raises(ValueError, match="not a valid Channel"):
            await exclusions.self_exclude(
                db,
                keyring=services.keyring,
                msisdn=MSISDN,
                period=Period.ONE_YEAR,
                channel="fax",  # type: ignore[arg-type]
                request_key="x",
                language="sw",
                actor="citizen:test",
                now=services.clock(),
            )
    assert await rows("subject") == []


async def test_no_plaintext_msisdn_anywhere_in_the_database(services: Services) -> None:
    await exclude(services, Period.ONE_YEAR, key="a")
    forms = ("+254712345678", "254712345678", "0712345678", "712345678")
    async with services.engine.connect() as conn:
        dump = await conn.execute(
            text(
                "SELECT string_agg(t::text, ' ') FROM ("
                " SELECT row_to_json(s)::text AS t FROM subject s UNION ALL"
                " SELECT row_to_json(e)::text FROM exclusion e UNION ALL"
                " SELECT row_to_json(v)::text FROM exclusion_event v UNION ALL"
                " SELECT row_to_json(a)::text FROM audit_entry a) rows"
            )
        )
        everything = dump.scalar_one()
    assert "exclusion.created" in everything
    for form in forms:
        assert form not in everything


@pytest.mark.parametrize(
    ("held", "asked", "verdict"),
    [
        (None, Period.ONE_YEAR, Verdict.CREATE),
        (Period.SIX_MONTHS, Period.ONE_YEAR, Verdict.EXTEND),
        (Period.ONE_YEAR, Period.ONE_YEAR, Verdict.ALREADY),
        (Period.FIVE_YEARS, Period.SIX_MONTHS, Verdict.ALREADY),
        (Period.FIVE_YEARS, Period.PERMANENT, Verdict.EXTEND),
        (Period.PERMANENT, Period.PERMANENT, Verdict.ALREADY),
    ],
)
async def test_preview_says_what_confirming_would_do(
    services: Services, held: Period | None, asked: Period, verdict: Verdict
) -> None:
    if held is not None:
        created = await exclude(services, held, key="held")
    async with services.db() as db:
        ahead = await exclusions.preview(
            db, keyring=services.keyring, msisdn=MSISDN, period=asked, now=services.clock()
        )
    assert ahead.verdict is verdict
    if held is None:
        assert (ahead.current_end, ahead.reference) == (None, None)
    else:
        assert ahead.reference == created.exclusion.reference
        assert ahead.current_end == created.ends_at
    if verdict is Verdict.ALREADY:
        with pytest.raises(AlreadyExcluded):
            await exclude(services, asked, key="asked")
    else:
        assert (await exclude(services, asked, key="asked")).ends_at == ahead.new_end
