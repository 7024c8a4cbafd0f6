"""SMS: an ID keyword adds an ID to an exclusion; LINK / UNGANISHA joins another line."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest

from core.models import IdentifierKind
from sms.keywords import Intent, parse
from tests.support.databases import RowFetcher
from tests.support.texter import Texter

REF = re.compile(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}")
Work = Callable[[], Awaitable[None]]
LINE_A = "+254712000001"
LINE_B = "+254712000002"


@pytest.mark.parametrize(
    ("text", "intent", "lang", "kind", "argument"),
    [
        ("ID 1234 5678", Intent.ADD_ID, "en", IdentifierKind.NATIONAL_ID, "12345678"),
        ("national id 1234-5678", Intent.ADD_ID, "en", IdentifierKind.NATIONAL_ID, "12345678"),
        ("Kitambulisho 0123456", Intent.ADD_ID, "sw", IdentifierKind.NATIONAL_ID, "0123456"),
        ("maisha namba 123456789", Intent.ADD_ID, "sw", IdentifierKind.MAISHA_NAMBA, "123456789"),
        ("passport ak-012 3456", Intent.ADD_ID, "en", IdentifierKind.PASSPORT, "AK0123456"),
        ("MKIMBIZI 987654", Intent.ADD_ID, "sw", IdentifierKind.ALIEN_ID, "987654"),
        ("ID", Intent.ADD_ID, "en", IdentifierKind.NATIONAL_ID, ""),
        ("link k7m3 q9pa", Intent.LINK, "en", None, "K7M3Q9PA"),
        ("UNGANISHA K7M3-Q9PA", Intent.LINK, "sw", None, "K7M3Q9PA"),
    ],
)
def test_id_and_link_keywords(
    text: str, intent: Intent, lang: str, kind: IdentifierKind | None, argument: str
) -> None:
    command = parse(text)
    assert (command.intent, command.lang, command.kind, command.argument) == (
        intent,
        lang,
        kind,
        argument,
    )


async def _excluded(texter: Callable[..., Texter], work: Work, number: str) -> str:
    phone = texter(number)
    await phone.send("JIZUIE MWAKA 1")
    await work()
    await phone.send("NDIYO")
    await work()
    found = REF.search((await phone.inbox())[-1] or "")
    if found is None:  # the confirmation is rendered when sent: read it from the row
        raise AssertionError(await phone.inbox())
    return found.group(0)


async def test_a_second_line_joins_by_unganisha_and_the_first_is_told(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher
) -> None:
    reference = await _excluded(texter, work, LINE_A)
    second = texter(LINE_B)
    await second.send("UNGANISHA 2222-2222")
    await work()
    assert (await second.inbox())[-1].startswith("Hakuna kizuizi kinachoendelea")
    await second.send(f"unganisha {reference.lower()}")
    await work()
    assert (await second.inbox())[-1] == (
        "Imekamilika. Nambari hii nayo imejizuia kubeti hadi 21/11/2027.\n"
        f"Nambari ya kumbukumbu: {reference}\n"
        "SMS itatumwa kwa nambari yako nyingine."
    )
    assert (await texter(LINE_A).inbox())[-1].startswith(
        "NSER: simu nyingine au kitambulisho kimeongezwa"
    )
    assert len(await rows("subject")) == 1
    assert [r["outcome"] for r in await rows("sms_inbound")][-2:] == ["refused", "confirmed"]
    assert len(await rows("link_failure")) == 1


async def test_an_id_by_sms_joins_the_exclusion_and_a_bad_one_is_refused(
    texter: Callable[..., Texter], work: Work, rows: RowFetcher
) -> None:
    stranger = texter(LINE_B)
    await stranger.send("ID 12345678")
    await work()
    assert (await stranger.inbox())[-1] == (
        "To add your ID, first stop betting: send EXCLUDE 1Y. Then send ID and your number."
    )
    reference = await _excluded(texter, work, LINE_A)
    phone = texter(LINE_A)
    await phone.send("PASSPORT 1234567A")
    await work()
    assert (await phone.inbox())[-1] == (
        "That is not a valid passport number. Check it and send it again."
    )
    await phone.send("ID 1234 5678")
    await work()
    inbox = await phone.inbox()
    assert (
        "Your ID is now part of your exclusion: lines that use it are blocked too.\n"
        f"Reference: {reference}"
    ) in inbox
    kinds = sorted(r["kind"] for r in await rows("subject_identifier"))
    assert kinds == ["msisdn", "national_id"]
    assert all(b"12345678" not in m["text_sealed"] for m in await rows("sms_inbound"))
