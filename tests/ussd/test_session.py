"""A citizen self-excludes by USSD, end to end through ``POST /ussd``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx
import pytest

from core.services import Services
from tests.support.audit import sequence, verify_log
from tests.support.clock import Clock
from tests.support.databases import RowFetcher
from tests.support.phone import Phone

REF = r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}"

ENGLISH = [
    ("", "CON Karibu NSER / Welcome to NSER\n1. Kiswahili\n2. English"),
    (
        "2",
        "CON National Self-Exclusion Register\n1. Stop betting (self-exclude)\n"
        "2. My status\n3. Help\n4. Check your gambling\n5. My other line\n0. Language",
    ),
    (
        "2*1",
        "CON Stop betting for how long?\n1. 6 months\n2. 1 year\n3. 5 years\n"
        "4. Permanently\n0. Back 00. Main menu",
    ),
    (
        "2*1*2",
        "CON You will be blocked from all licensed betting until 21/11/2027. "
        "You cannot cancel this later.\n1. Confirm\n2. Add my ID first\n0. Back",
    ),
]
ENGLISH_END = (
    r"END Done\. You are excluded from betting until 21/11/2027\.\n"
    rf"Reference: ({REF})\nHelpline: TEST Helpline 0800000000\nAn SMS confirmation follows\."
)

SWAHILI = [
    ("", "CON Karibu NSER / Welcome to NSER\n1. Kiswahili\n2. English"),
    (
        "1",
        "CON Rejista ya Kitaifa ya Kujizuia Kucheza Kamari\n1. Jizuie kubeti\n2. Hali yangu\n"
        "3. Msaada\n4. Pima tabia yako ya kubeti\n5. Laini nyingine\n0. Lugha",
    ),
    (
        "1*1",
        "CON Jizuie kubeti kwa muda gani?\n1. Miezi 6\n2. Mwaka 1\n3. Miaka 5\n4. Kwa kudumu\n"
        "0. Rudi 00. Menyu kuu",
    ),
    (
        "1*1*2",
        "CON Utazuiwa kubeti kwenye kampuni zote zenye leseni hadi 21/11/2027. "
        "Hutaweza kughairi baadaye.\n1. Thibitisha\n2. Ongeza kitambulisho\n0. Rudi",
    ),
]
SWAHILI_END = (
    r"END Imekamilika\. Umejizuia kubeti hadi 21/11/2027\.\n"
    rf"Nambari ya kumbukumbu: ({REF})\nSimu ya msaada: TEST Helpline 0800000000\nSMS itafuata\."
)


@pytest.mark.parametrize(
    ("steps", "final_text", "final", "lang"),
    [(ENGLISH, "2*1*2*1", ENGLISH_END, "en"), (SWAHILI, "1*1*2*1", SWAHILI_END, "sw")],
    ids=["english", "swahili"],
)
async def test_full_session_stores_one_encrypted_audited_exclusion(
    phone: Callable[..., Phone],
    rows: RowFetcher,
    services: Services,
    steps: list[tuple[str, str]],
    final_text: str,
    final: str,
    lang: str,
) -> None:
    handset = phone()
    for text, expected in steps:
        assert await handset.screen(text) == expected
    answer = await handset.screen(final_text)
    match = re.fullmatch(final, answer)
    assert match, answer

    [exclusion] = await rows("exclusion")
    assert exclusion["reference"] == match.group(1)
    assert exclusion["period"] == "1y"
    assert exclusion["status"] == "active"
    assert exclusion["channel"] == "ussd"
    assert exclusion["idempotency_key"] == f"ussd:{handset.session_id}"
    [subject] = await rows("subject")
    assert subject["language"] == lang
    assert b"712345678" not in subject["msisdn_sealed"]
    assert [entry["action"] for entry in await rows("audit_entry")] == [
        "subject.created",
        "exclusion.created",
    ]
    assert (await sequence(services)).added == 2
    report = await verify_log(services)
    assert (report.ok, report.leaves, report.checkpoints) == (True, 2, 1)


async def test_repeated_final_post_answers_the_same_and_excludes_once(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    handset = phone()
    first = await handset.screen("2*1*3*1")
    again = await handset.screen("2*1*3*1")
    assert first == again
    assert first.startswith("END Done. You are excluded from betting until 21/11/2031.")
    assert len(await rows("exclusion")) == 1
    assert len(await rows("exclusion_event")) == 1


async def test_out_of_order_and_repeated_steps_are_harmless(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    handset = phone()
    assert (await handset.screen("2*1*2")).startswith("CON You will be blocked")
    assert (await handset.screen("2")).startswith("CON National Self-Exclusion Register")
    assert (await handset.screen("2*1*2")).startswith("CON You will be blocked")
    assert await rows("exclusion") == []


async def test_permanent_exclusion_says_permanently(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    handset = phone()
    assert await handset.screen("2*1*4") == (
        "CON You will be blocked from all licensed betting permanently. "
        "You cannot cancel this later.\n1. Confirm\n2. Add my ID first\n0. Back"
    )
    assert (await handset.screen("2*1*4*1")).startswith(
        "END Done. You are excluded from betting permanently.\nReference: "
    )
    [exclusion] = await rows("exclusion")
    assert exclusion["ends_at"] is None


async def test_invalid_choice_shows_the_same_menu_with_an_error(
    phone: Callable[..., Phone],
) -> None:
    handset = phone()
    assert await handset.screen("7") == (
        "CON Chaguo si sahihi / Invalid choice\n"
        "Karibu NSER / Welcome to NSER\n1. Kiswahili\n2. English"
    )
    assert await handset.screen("1*9") == (
        "CON Chaguo si sahihi.\nRejista ya Kitaifa ya Kujizuia Kucheza Kamari\n1. Jizuie kubeti\n"
        "2. Hali yangu\n3. Msaada\n4. Pima tabia yako ya kubeti\n5. Laini nyingine\n0. Lugha"
    )
    assert (await handset.screen("2*1*abc")).startswith(
        "CON Invalid choice.\nStop betting for how long?"
    )
    # After an error the next valid input is taken from the same screen.
    assert (await handset.screen("2*1*abc*2")).startswith("CON You will be blocked")


async def test_back_and_home_navigate(phone: Callable[..., Phone]) -> None:
    handset = phone()
    assert (await handset.screen("2*1*2*0")).startswith("CON Stop betting for how long?")
    assert (await handset.screen("2*1*2*00")).startswith("CON National Self-Exclusion Register")
    assert (await handset.screen("2*0")).startswith("CON Karibu NSER")
    assert (await handset.screen("2*0*1")).startswith("CON Rejista ya Kitaifa")


async def test_status_before_and_after_excluding(phone: Callable[..., Phone]) -> None:
    assert await phone().screen("2*2") == (
        "CON You are not self-excluded. To stop betting, choose 1 on the main menu.\n"
        "1. My last check result\n2. Stop check reminders\n0. Back"
    )
    assert await phone().screen("1*2") == (
        "CON Hujajizuia kubeti. Ili kujizuia, chagua 1 kwenye menyu kuu.\n"
        "1. Matokeo ya kipimo changu cha mwisho\n2. Sitisha vikumbusho\n0. Rudi"
    )
    done = await phone().screen("2*1*1*1")
    reference = re.search(REF, done)
    assert reference
    assert await phone().screen("2*2") == (
        f"CON You are excluded from betting until 21/05/2027.\nReference: {reference.group(0)}\n"
        "1. My last check result\n2. Stop check reminders\n3. Not my number?"
    )
    assert await phone().screen("1*2") == (
        f"CON Umejizuia kubeti hadi 21/05/2027.\nNambari ya kumbukumbu: {reference.group(0)}\n"
        "1. Matokeo ya kipimo changu cha mwisho\n2. Sitisha vikumbusho\n3. Si yangu?"
    )
    # Another number is not affected.
    assert (await phone("+254722000111").screen("2*2")).startswith("CON You are not")


async def test_help_gives_helpline_and_regulator(phone: Callable[..., Phone]) -> None:
    assert await phone().screen("2*3") == (
        "END NSER helps you block yourself from all licensed betting in Kenya.\n"
        "Helpline: TEST Helpline 0800000000\nRegulator: GRAK TEST 0700000000"
    )
    assert await phone().screen("1*3") == (
        "END NSER inakusaidia kujizuia kubeti kwa kampuni zote zenye leseni.\n"
        "Simu ya msaada: TEST Helpline 0800000000\nMdhibiti: GRAK TEST 0700000000"
    )


async def test_a_longer_period_extends_the_exclusion(
    phone: Callable[..., Phone], rows: RowFetcher, clock: Clock
) -> None:
    first = await phone().screen("2*1*1*1")
    reference = re.search(REF, first)
    assert reference
    clock.advance(days=30)
    extender = phone()
    assert await extender.screen("2*1*2") == (
        "CON You are excluded until 21/05/2027. Stay excluded until 21/12/2027? "
        "You cannot cancel this later.\n1. Confirm\n2. Add my ID first\n0. Back"
    )
    assert await extender.screen("2*1*2*1") == (
        "END Done. Your exclusion now lasts until 21/12/2027.\n"
        f"Reference: {reference.group(0)}\nHelpline: TEST Helpline 0800000000\n"
        "An SMS confirmation follows."
    )
    [exclusion] = await rows("exclusion")
    assert exclusion["period"] == "1y"
    events = await rows("exclusion_event")
    assert [event["type"] for event in events] == ["exclusion.created", "exclusion.extended"]
    actions = [entry["action"] for entry in await rows("audit_entry")]
    assert actions == ["subject.created", "exclusion.created", "exclusion.extended"]


async def test_a_shorter_period_cannot_replace_the_exclusion(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    done = await phone().screen("1*1*3*1")
    reference = re.search(REF, done)
    assert reference
    # Choosing 6 months while excluded for 5 years ends the session without a change.
    assert await phone().screen("1*1*1") == (
        "END Tayari umejizuia kubeti hadi 21/11/2031.\n"
        f"Nambari ya kumbukumbu: {reference.group(0)}\n"
        "Muda wa kujizuia unaweza kuongezwa tu, si kupunguzwa."
    )
    [exclusion] = await rows("exclusion")
    assert exclusion["period"] == "5y"
    assert len(await rows("exclusion_event")) == 1


async def test_redial_after_a_drop_offers_to_continue(phone: Callable[..., Phone]) -> None:
    dropped = phone()
    await dropped.screen("2*1*3")  # on the confirm screen, then the network drops
    again = dropped.redial()
    assert await again.screen("") == "CON Continue where you left off?\n1. Continue\n2. Start again"
    assert (await again.screen("1")).startswith(
        "CON You will be blocked from all licensed betting until 21/11/2031."
    )
    assert (await again.screen("1*1")).startswith("END Done. You are excluded from betting until")
    # Nothing is left to resume once the flow is finished.
    assert (await again.redial().screen("")).startswith("CON Karibu NSER")


async def test_redial_can_start_again_and_the_offer_expires(
    phone: Callable[..., Phone], clock: Clock, services: Services
) -> None:
    dropped = phone()
    await dropped.screen("1*1")
    again = dropped.redial()
    assert await again.screen("") == "CON Uendelee pale ulipoishia?\n1. Endelea\n2. Anza upya"
    assert (await again.screen("2")).startswith("CON Karibu NSER")
    assert (await again.screen("2*2")).startswith("CON National Self-Exclusion")
    # The declined offer is gone; the main menu is not worth resuming.
    assert (await again.redial().screen("")).startswith("CON Karibu NSER")
    await again.screen("2*2*1")  # mid-flow again
    keys = [key async for key in services.redis.scan_iter("nser:ussd:resume:*")]
    assert len(keys) == 1
    ttl = await services.redis.ttl(keys[0])
    assert 0 < ttl <= services.settings.ussd_resume_seconds


async def test_invalid_phone_number_ends_with_an_explanation(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    assert await phone("+254202222222").screen("") == (
        "END Samahani, huduma hii inahitaji nambari sahihi ya simu.\n"
        "Sorry, this service needs a valid mobile number."
    )
    assert await phone("12345").screen("2*1*2*1") == (
        "END Samahani, huduma hii inahitaji nambari sahihi ya simu.\n"
        "Sorry, this service needs a valid mobile number."
    )
    assert await rows("subject") == []


async def test_an_absurdly_long_session_ends_politely(phone: Callable[..., Phone]) -> None:
    assert await phone().screen("2" + "*0*2" * 40) == (
        "END Sorry, this session has ended. Please dial again."
    )


async def test_confirming_after_another_session_excluded_for_longer_says_already_excluded(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    # Regression: the loser of the race read a rolled-back ORM row and got the apology.
    slow = phone()
    assert (await slow.screen("2*1*2")).startswith("CON You will be blocked")  # 1 year
    winner = await phone().screen("2*1*3*1")  # another session of the same number: 5 years
    reference = re.search(REF, winner)
    assert reference
    assert await slow.screen("2*1*2*1") == (
        "END You are already excluded until 21/11/2031.\n"
        f"Reference: {reference.group(0)}\n"
        "An exclusion can only be made longer, never shorter."
    )
    [exclusion] = await rows("exclusion")
    assert exclusion["period"] == "5y"


async def test_racing_sessions_of_one_person_all_get_a_real_answer(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    handsets = [phone() for _ in range(12)]
    for handset in handsets:
        await handset.screen("2*1*2")
    answers = await asyncio.gather(*(handset.screen("2*1*2*1") for handset in handsets))
    assert sum(answer.startswith("END Done.") for answer in answers) == 1
    already = [answer for answer in answers if answer.startswith("END You are already excluded")]
    assert len(already) == len(handsets) - 1
    assert len(await rows("exclusion")) == 1


async def test_a_session_id_reused_by_another_phone_neither_sees_nor_triggers_the_first(
    client: httpx.AsyncClient, phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    first = phone("+254722000201")
    done = await first.screen("2*1*2*1")
    reference = re.search(REF, done)
    assert reference
    stranger = Phone(client, "+254722000202", session_id=first.session_id)
    answer = await stranger.screen("2*1*4*1")
    assert answer == "END Sorry, this session has ended. Please dial again."
    assert reference.group(0) not in answer
    [exclusion] = await rows("exclusion")
    assert exclusion["period"] == "1y"
    assert len(await rows("subject")) == 1
    # The stranger is not excluded, and says so on a session of their own.
    assert (await phone("+254722000202").screen("2*2")).startswith("CON You are not")


async def test_a_resume_offer_is_never_shown_to_another_phone_on_the_same_session_id(
    client: httpx.AsyncClient, phone: Callable[..., Phone]
) -> None:
    dropped = phone("+254722000201")
    await dropped.screen("2*1*3")
    again = dropped.redial()
    assert (await again.screen("")).startswith("CON Continue where you left off?")
    stranger = Phone(client, "+254722000202", session_id=again.session_id)
    assert (await stranger.screen("")).startswith("CON Karibu NSER")
    assert (await stranger.screen("1")).startswith("CON Rejista ya Kitaifa")


async def test_flushing_redis_mid_session_loses_nothing(
    phone: Callable[..., Phone], services: Services, rows: RowFetcher
) -> None:
    handset = phone()
    await handset.screen("2*1*2")
    await services.redis.flushdb()
    assert (await handset.screen("2*1*2*1")).startswith("END Done. You are excluded")
    assert len(await rows("exclusion")) == 1
