"""The in-process register: loaded, refreshed, and never skipping an event that commits late."""

from __future__ import annotations

import pytest

from core import exclusions
from core.models import Channel, IdentifierKind
from core.periods import Period
from core.register_cache import RegisterCache, RegisterUnavailable
from core.services import Services
from core.subjects import identifier, msisdn_index
from tests.support.clock import Clock
from tests.support.staff import self_excluding

EARLY = "+254711000001"
LATE = "+254711000002"


async def test_an_event_that_commits_after_a_later_one_is_not_skipped(services: Services) -> None:
    cache = RegisterCache(services.engine)
    await cache.reload()
    slow = services.db()
    async with slow as slow_db:
        # The slow transaction writes first (smaller event id, smaller txid) ...
        await self_excluding(slow_db, services, EARLY, Period.ONE_YEAR)
        # ... a quick one writes and commits after it ...
        async with services.db() as quick_db:
            await self_excluding(quick_db, services, LATE, Period.ONE_YEAR)
            await quick_db.commit()
        await cache.refresh()
        now = services.clock()
        assert cache.lookup([msisdn_index(services.keyring, LATE)], now=now) is not None
        assert cache.lookup([msisdn_index(services.keyring, EARLY)], now=now) is None
        # ... and the slow one commits last. Polling "id > last seen" would never see it.
        await slow_db.commit()
    await cache.refresh()
    found = cache.lookup([msisdn_index(services.keyring, EARLY)], now=services.clock())
    assert found is not None
    assert found.bst.startswith("BST-")


async def test_an_extension_replaces_the_end(services: Services) -> None:
    cache = RegisterCache(services.engine)
    await cache.start()
    try:
        index = msisdn_index(services.keyring, EARLY)
        async with services.db() as db:
            await self_excluding(db, services, EARLY, Period.SIX_MONTHS)
            await db.commit()
        await cache.refresh()
        first = cache.lookup([index], now=services.clock())
        assert first is not None
        async with services.db() as db:
            await self_excluding(db, services, EARLY, Period.PERMANENT)
            await db.commit()
        await cache.refresh()
        extended = cache.lookup([index], now=services.clock())
        assert extended is not None
        assert extended.until is None
        assert extended.bst == first.bst
        assert cache.size == 1
    finally:
        await cache.close()


async def test_an_exclusion_past_its_end_is_not_reported_and_expiry_removes_it(
    services: Services, clock: Clock
) -> None:
    cache = RegisterCache(services.engine)
    index = msisdn_index(services.keyring, EARLY)
    async with services.db() as db:
        await self_excluding(db, services, EARLY, Period.SIX_MONTHS)
        await db.commit()
    await cache.reload()
    assert cache.lookup([index], now=services.clock()) is not None
    clock.advance(days=200)
    assert cache.lookup([index], now=services.clock()) is None  # before the expiry job runs
    async with services.db() as db:
        assert await exclusions.expire_due(db, now=services.clock()) == 1
        await db.commit()
    await cache.refresh()
    assert cache.size == 0


async def test_a_cache_that_cannot_refresh_refuses_to_answer(services: Services) -> None:
    cache = RegisterCache(services.engine, stale_after=0.0)
    await cache.reload()
    with pytest.raises(RegisterUnavailable):
        cache.lookup(["0" * 64], now=services.clock())


async def test_an_id_two_people_claimed_stays_excluded_when_one_exclusion_ends(
    services: Services, clock: Clock
) -> None:
    """Fail toward protection: one holder's expiry never hides the other holder's exclusion."""
    document = identifier(services.keyring, IdentifierKind.NATIONAL_ID, "12345678")
    cache = RegisterCache(services.engine)
    await cache.reload()
    for msisdn, period in ((EARLY, Period.SIX_MONTHS), (LATE, Period.ONE_YEAR)):
        async with services.db() as db:
            await exclusions.self_exclude(
                db,
                keyring=services.keyring,
                msisdn=msisdn,
                period=period,
                channel=Channel.USSD,
                request_key=f"test:{msisdn}",
                language="en",
                actor="citizen:test",
                now=services.clock(),
                document=document,
            )
            await db.commit()
        await cache.refresh()
    found = cache.lookup([document.bidx], now=services.clock())
    assert found is not None
    clock.advance(days=200)
    async with services.db() as db:
        assert await exclusions.expire_due(db, now=services.clock()) == 1
        await db.commit()
    await cache.refresh()
    still = cache.lookup([document.bidx], now=services.clock())
    assert still is not None
    assert still.subject_id == found.subject_id  # the one-year person, ending last
    assert cache.lookup([msisdn_index(services.keyring, EARLY)], now=services.clock()) is None
