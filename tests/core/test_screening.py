"""Storing screening results against a real PostgreSQL: sealed answers, idempotency, audit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from core import screening
from core.errors import InvalidAnswers, RequestKeyConflict
from core.instruments import DSM5, LIE_BET, PGSI, Instrument
from core.models import Channel
from core.screening import Recorded
from core.services import Services
from tests.support.audit import sequence, verify_log
from tests.support.clock import START, Clock
from tests.support.databases import RowFetcher

MSISDN = "+254712345678"
MODERATE = [1, 1, 1, 0, 0, 0, 0, 0, 0]  # PGSI total 3


async def take(
    services: Services,
    instrument: Instrument = PGSI,
    answers: Sequence[int] = MODERATE,
    *,
    key: str = "ussd:S1",
    seq: int = 14,
    **extra: Any,
) -> Recorded:
    async with services.db() as db:
        recorded = await screening.record(
            db,
            keyring=services.keyring,
            msisdn=extra.get("msisdn", MSISDN),
            instrument=instrument,
            answers=answers,
            channel=Channel.USSD,
            request_key=key,
            seq=seq,
            language=extra.get("language", "sw"),
            actor="citizen:test",
            now=services.clock(),
        )
        await db.commit()
    return recorded


async def latest(services: Services, msisdn: str = MSISDN) -> screening.Result | None:
    async with services.db() as db:
        return await screening.latest(db, keyring=services.keyring, msisdn=msisdn)


async def test_a_result_keeps_statistics_in_the_clear_and_the_answers_sealed(
    services: Services, rows: RowFetcher
) -> None:
    recorded = await take(services)
    assert not recorded.replayed
    [row] = await rows("screening_result")
    assert {key: row[key] for key in ("instrument", "version", "score", "band", "channel")} == {
        "instrument": "pgsi",
        "version": "2001.1",
        "score": 3,
        "band": "moderate_risk",
        "channel": "ussd",
    }
    assert row["taken_at"] == START
    assert (row["request_key"], row["seq"]) == ("ussd:S1", 14)
    assert b"[1, 1, 1" not in row["answers_sealed"]
    assert screening.open_answers(services.keyring, row["answers_sealed"]) == tuple(MODERATE)
    [subject] = await rows("subject")
    assert row["subject_id"] == subject["id"]


async def test_the_audit_names_instrument_and_channel_never_answers_score_or_band(
    services: Services, rows: RowFetcher
) -> None:
    recorded = await take(services)
    entries = await rows("audit_entry")
    assert [entry["action"] for entry in entries] == ["subject.created", "screening.recorded"]
    stored = entries[1]
    assert stored["entity"] == f"screening_result:{recorded.result.id}"
    assert stored["subject"] == recorded.subject.bst
    assert stored["after"] == {"instrument": "pgsi", "version": "2001.1", "channel": "ussd"}
    await sequence(services)
    assert (await verify_log(services)).ok


async def test_a_repeated_request_stores_one_result(services: Services, rows: RowFetcher) -> None:
    first = await take(services)
    again = await take(services)
    assert again.replayed
    assert again.result == first.result
    assert len(await rows("screening_result")) == 1
    assert len(await rows("audit_entry")) == 2


async def test_concurrent_twins_store_one_result(services: Services, rows: RowFetcher) -> None:
    outcomes = await asyncio.gather(*(take(services) for _ in range(5)))
    assert sum(not outcome.replayed for outcome in outcomes) == 1
    assert len({outcome.result.id for outcome in outcomes}) == 1
    assert len(await rows("screening_result")) == 1


async def test_another_step_of_the_same_request_is_another_result(
    services: Services, rows: RowFetcher
) -> None:
    await take(services, LIE_BET, [0, 1], seq=5)
    await take(services, PGSI, MODERATE, seq=15)
    assert [row["instrument"] for row in await rows("screening_result")] == ["liebet", "pgsi"]


async def test_a_request_key_used_by_another_person_is_refused_and_discloses_nothing(
    services: Services, rows: RowFetcher
) -> None:
    first = await take(services)
    for seq in (14, 20):  # neither the first caller's step nor a step of its own
        with pytest.raises(RequestKeyConflict) as refused:
            await take(services, seq=seq, msisdn="+254722000202")
        assert first.result.band not in str(refused.value)
    assert len(await rows("screening_result")) == 1
    assert len(await rows("subject")) == 1


async def test_incomplete_or_impossible_answers_store_nothing(
    services: Services, rows: RowFetcher
) -> None:
    for answers in ([1, 1, 1], [0] * 8 + [7]):
        with pytest.raises(InvalidAnswers):
            await take(services, answers=answers)
    assert await rows("screening_result") == []
    assert await rows("subject") == []


async def test_latest_is_the_newest_self_screening_and_never_a_staff_assessment(
    services: Services, clock: Clock
) -> None:
    assert await latest(services) is None
    await take(services, LIE_BET, [0, 1], seq=5)
    await take(services, PGSI, MODERATE, seq=15)
    clock.advance(days=1)
    async with services.db() as db:
        await screening.record(
            db,
            keyring=services.keyring,
            msisdn=MSISDN,
            instrument=DSM5,
            answers=[0] * 9,
            channel=Channel.BACKOFFICE,
            request_key="backoffice:1",
            seq=1,
            language="sw",
            actor="staff:1",
            now=clock.now,
        )
        await db.commit()
    newest = await latest(services)
    assert newest is not None
    assert (newest.instrument, newest.band, newest.meaning.label) == (
        "pgsi",
        "moderate_risk",
        "moderate risk",
    )
    assert await latest(services, "+254722000303") is None


async def test_screening_in_another_language_updates_the_subject(
    services: Services, rows: RowFetcher
) -> None:
    await take(services, language="sw")
    await take(services, language="en", seq=30)
    [subject] = await rows("subject")
    assert subject["language"] == "en"
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions == [
        "subject.created",
        "screening.recorded",
        "subject.language_changed",
        "screening.recorded",
    ]
