"""Quarterly re-screening reminders: the opt-in, due dates, and the cron job in a real worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import rescreening, screening
from core.instruments import PGSI
from core.models import Channel
from core.services import Services
from core.settings import Settings
from tests.support.audit import sequence, verify_log
from tests.support.clock import START, Clock
from tests.support.databases import RowFetcher
from tests.support.worker import run_job

MSISDN = "+254712345678"


async def opt_in(services: Services, msisdn: str = MSISDN) -> datetime:
    async with services.db() as db:
        due = await rescreening.opt_in(
            db,
            keyring=services.keyring,
            msisdn=msisdn,
            channel=Channel.USSD,
            language="en",
            actor="citizen:test",
            now=services.clock(),
        )
        await db.commit()
    return due


async def opt_out(services: Services, msisdn: str = MSISDN) -> bool:
    async with services.db() as db:
        stopped = await rescreening.opt_out(
            db, keyring=services.keyring, msisdn=msisdn, actor="citizen:test", now=services.clock()
        )
        await db.commit()
    return stopped


async def screen(services: Services, key: str, msisdn: str = MSISDN) -> None:
    async with services.db() as db:
        await screening.record(
            db,
            keyring=services.keyring,
            msisdn=msisdn,
            instrument=PGSI,
            answers=[0] * 9,
            channel=Channel.USSD,
            request_key=key,
            seq=1,
            language="en",
            actor="citizen:test",
            now=services.clock(),
        )
        await db.commit()


@pytest.mark.parametrize(
    ("since", "now", "due"),
    [
        (datetime(2026, 11, 21, 9, tzinfo=UTC), datetime(2026, 11, 21, 9, tzinfo=UTC),
         datetime(2027, 2, 21, 9, tzinfo=UTC)),
        (datetime(2026, 11, 30, 9, tzinfo=UTC), datetime(2026, 11, 30, 9, tzinfo=UTC),
         datetime(2027, 2, 28, 9, tzinfo=UTC)),
        # Long overdue (a worker that was down): the first quarter still to come.
        (datetime(2026, 1, 10, 9, tzinfo=UTC), datetime(2026, 11, 21, 9, tzinfo=UTC),
         datetime(2027, 1, 10, 9, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_next_due_is_the_first_quarter_after_now(
    since: datetime, now: datetime, due: datetime
) -> None:
    assert rescreening.next_due(since, now=now) == due


async def test_opting_in_is_due_a_quarter_after_the_latest_screening_and_audited(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await screen(services, "ussd:S1")
    clock.advance(days=10)
    due = await opt_in(services)
    assert due == datetime(2027, 2, 21, 9, tzinfo=UTC)
    [reminder] = await rows("screening_reminder")
    assert (reminder["active"], reminder["next_due_at"], reminder["channel"]) == (True, due, "ussd")
    # Opting in again changes nothing.
    assert await opt_in(services) == due
    reminder_entries = [
        e for e in await rows("audit_entry") if e["action"].startswith("screening.")
    ]
    turned_on = {"active": True, "next_due_at": due.isoformat(), "channel": "ussd"}
    assert [(e["action"], e["after"]) for e in reminder_entries] == [
        ("screening.recorded", {"instrument": "pgsi", "version": "2001.1", "channel": "ussd"}),
        ("screening.reminders_on", turned_on),
    ]


async def test_screening_again_moves_the_reminder_a_quarter_on(
    services: Services, clock: Clock, rows: RowFetcher
) -> None:
    await opt_in(services)
    clock.advance(days=40)
    await screen(services, "ussd:S2")
    [reminder] = await rows("screening_reminder")
    assert START + timedelta(days=40) == datetime(2026, 12, 31, 9, tzinfo=UTC)
    assert reminder["next_due_at"] == datetime(2027, 3, 31, 9, tzinfo=UTC)
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions[-2:] == ["screening.recorded", "screening.reminder_moved"]


async def test_opting_out_stops_reminders_and_a_stranger_changes_nothing(
    services: Services, rows: RowFetcher
) -> None:
    assert not await opt_out(services)  # never seen
    await opt_in(services)
    assert await opt_out(services)
    assert not await opt_out(services)
    [reminder] = await rows("screening_reminder")
    assert reminder["active"] is False
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions == ["subject.created", "screening.reminders_on", "screening.reminders_off"]


async def test_the_cron_job_reminds_who_is_due_once_per_quarter(
    services: Services, settings: Settings, clock: Clock, rows: RowFetcher
) -> None:
    await opt_in(services, "+254712000001")  # due 21/02/2027
    clock.advance(days=30)
    await opt_in(services, "+254712000002")  # due 21/03/2027
    await opt_in(services, "+254712000003")
    assert await opt_out(services, "+254712000003")  # stopped: never reminded
    clock.now = datetime(2027, 2, 22, 7, tzinfo=UTC)

    assert await run_job(settings, services, "remind_rescreening") == 1
    first, second, stopped = await rows("screening_reminder")
    assert first["next_due_at"] == datetime(2027, 5, 21, 9, tzinfo=UTC)
    assert first["last_reminded_at"] == clock.now
    assert second["next_due_at"] == datetime(2027, 3, 21, 9, tzinfo=UTC)
    assert second["last_reminded_at"] is None
    assert stopped["last_reminded_at"] is None
    [due_entry] = [e for e in await rows("audit_entry") if e["action"] == "screening.reminder_due"]
    assert due_entry["actor"] == "system:rescreening"
    assert due_entry["after"] == {"next_due_at": "2027-05-21T09:00:00+00:00"}

    # The same day again: nobody is due twice.
    assert await run_job(settings, services, "remind_rescreening") == 0
    await sequence(services)
    assert (await verify_log(services)).ok
