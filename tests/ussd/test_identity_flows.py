"""USSD: an ID before confirming, a second line joining by reference, and "not my number"."""

from __future__ import annotations

import re
from collections.abc import Callable

from core import identifiers, subjects
from core.models import IdentifierKind
from core.services import Services
from tests.support.databases import RowFetcher
from tests.support.phone import Phone

REF = re.compile(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}")
LINE_A = "+254712000001"
LINE_B = "+254712000002"


async def test_an_id_added_before_confirming_is_stored_sealed_and_claimed(
    phone: Callable[..., Phone], rows: RowFetcher, services: Services
) -> None:
    handset = phone(LINE_A)
    confirm = await handset.screen("2*1*1")
    assert confirm.endswith("1. Confirm\n2. Add my ID first\n0. Back")
    assert await handset.screen("2*1*1*2") == (
        "CON Add your ID so all your lines are blocked (recommended).\n1. National ID\n"
        "2. Maisha Namba\n3. Passport\n4. Alien/refugee ID\n0. Back"
    )
    assert await handset.screen("2*1*1*2*1") == "CON Type your national ID number:\n0. Back"
    # A letter in the wrong place: the same screen again, saying why.
    assert await handset.screen("2*1*1*2*1*1234567A") == (
        "CON That is not a valid national ID number. Check it and type it again:\n0. Back"
    )
    after = await handset.screen("2*1*1*2*1*1234567A*0 1234-567")
    assert after.startswith("CON You will be blocked")
    assert after.endswith("ID added.\n1. Confirm\n0. Back")
    done = await handset.screen("2*1*1*2*1*1234567A*0 1234-567*1")
    assert done.startswith("END Done. You are excluded from betting until")
    [link] = [r for r in await rows("subject_identifier") if r["kind"] == "national_id"]
    assert link["status"] == "claimed"
    assert link["channel"] == "ussd"
    assert (
        link["bidx"]
        == subjects.identifier(services.keyring, IdentifierKind.NATIONAL_ID, "1234567").bidx
    )
    assert b"1234567" not in link["sealed"]
    assert len(await rows("subject")) == 1


async def test_the_id_step_is_skipped_by_confirming_and_back_leaves_it(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    handset = phone(LINE_A)
    assert (await handset.screen("2*1*1*2*0")).endswith("2. Add my ID first\n0. Back")
    assert (await handset.screen("2*1*1*2*0*1")).startswith("END Done.")
    assert [r["kind"] for r in await rows("subject_identifier")] == ["msisdn"]


async def test_a_second_line_joins_by_reference_in_swahili_and_english(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    done = await phone(LINE_A).screen("1*1*2*1")
    reference = REF.search(done)
    assert reference
    second = phone(LINE_B)
    assert await second.screen("1*5") == (
        "CON Umeshajizuia kwa nambari nyingine? Andika nambari ya kumbukumbu ya kizuizi "
        "hicho (kama K7M3-Q9PA):\n0. Rudi"
    )
    wrong = await second.screen("1*5*2222-2222")
    assert wrong.startswith("CON Hakuna kizuizi kinachoendelea")
    typed = reference.group(0).lower().replace("-", "")
    joined = await second.screen(f"1*5*2222-2222*{typed}")
    assert joined == (
        "END Imekamilika. Nambari hii nayo imejizuia kubeti hadi 21/11/2027.\n"
        f"Nambari ya kumbukumbu: {reference.group(0)}\n"
        "SMS itatumwa kwa nambari yako nyingine."
    )
    # The status of B now shows the same exclusion, in English too.
    status = await phone(LINE_B).screen("2*2")
    assert f"Reference: {reference.group(0)}" in status
    assert status.endswith("2. Stop check reminders\n3. Not my number?")
    assert len(await rows("subject")) == 1
    sms = [m["template"] for m in await rows("sms_message")]
    assert sms.count("identifier_added") == 1


async def test_not_my_number_tells_how_to_ask_the_regulator(
    phone: Callable[..., Phone], services: Services
) -> None:
    await phone(LINE_A).screen("2*1*1*1")
    answer = await phone(LINE_A).screen("2*2*3")
    contact = services.settings.regulator_contact
    assert answer == (
        "END If this number was not yours when the exclusion was made, ask the regulator "
        f"to remove it, giving the reference number: {contact}"
    )


async def test_too_many_wrong_references_end_the_session_politely(
    phone: Callable[..., Phone],
) -> None:
    await phone(LINE_A).screen("2*1*1*1")
    guesses = ["2222-222" + c for c in "23456789ABCDEFGHJKMNPQRSTVWXYZ"]
    valid = [g for g in guesses if identifiers.normalise_reference(g)]
    handset = phone(LINE_B)
    for count in range(identifiers.WRONG_REFERENCE_LIMIT):
        answer = await handset.redial().screen(f"2*5*{valid[0]}")
        assert answer.startswith("CON No exclusion in force"), count
    assert (await handset.redial().screen(f"2*5*{valid[0]}")).startswith(
        "END Too many wrong reference numbers from this phone."
    )


async def test_a_repeated_post_of_a_wrong_reference_counts_once(
    phone: Callable[..., Phone], rows: RowFetcher
) -> None:
    await phone(LINE_A).screen("2*1*1*1")
    guesses = ["2222-222" + c for c in "23456789ABCDEFGHJKMNPQRSTVWXYZ"]
    wrong = next(g for g in guesses if identifiers.normalise_reference(g))
    handset = phone(LINE_B)
    # The gateway repeats one request many times: one wrong reference, not a lockout.
    for _ in range(identifiers.WRONG_REFERENCE_LIMIT + 2):
        assert (await handset.screen(f"2*5*{wrong}")).startswith("CON No exclusion in force")
    assert len(await rows("link_failure")) == 1
    # A second wrong try in the same session is a new attempt, and counts.
    again = await handset.screen(f"2*5*{wrong}*{wrong}")
    assert again.startswith("CON No exclusion in force")
    assert len(await rows("link_failure")) == 2
