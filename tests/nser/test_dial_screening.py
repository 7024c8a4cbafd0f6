"""``nser dial`` over real HTTP completes a screening in each band, in Swahili and English.

The issue's "done" check, as a citizen at a terminal would do it: the dialler
posts Africa's Talking callbacks to a served app and prints each screen; the
moderate-or-higher path goes on into self-exclusion, and the helpline SMS the
result promised is in the message log.
"""

from __future__ import annotations

import asyncio

import pytest

from core.services import Services
from core.settings import Settings
from nser.dial import dial
from nser.receiver import listening_socket, serving
from nser.web import create_app
from tests.support.databases import RowFetcher
from tests.support.ussd_screening import BANDS, EN, RESULTS, SW, to_pgsi_result

LANGS = {"en": EN, "sw": SW}
ONE_YEAR, CONFIRM, STOP_BETTING = "2", "1", "1"


async def dial_through(url: str, phone: str, inputs: list[str]) -> list[str]:
    """Every screen ``nser dial`` prints for ``inputs``, then hanging up if still open."""
    typed = iter(inputs)
    shown: list[str] = []

    def read(_prompt: str) -> str:
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    code = await asyncio.to_thread(
        dial, url=url, phone=phone, code="*384*7#", network="63902", read=read, write=shown.append
    )
    assert code == 0
    return shown


@pytest.mark.parametrize("lang", ["sw", "en"])
async def test_a_screening_ends_in_each_band_and_moderate_and_above_lead_to_exclusion(
    settings: Settings, services: Services, rows: RowFetcher, lang: str
) -> None:
    app = create_app(settings, services=services)
    async with serving(app, listening_socket()) as url:
        for n, total in enumerate((0, 1, 3, 8)):
            phone = f"+25471200{n:04d}"
            band = BANDS[total]
            inputs = to_pgsi_result(LANGS[lang], total).split("*")
            risky = band in {"moderate_risk", "problem"}
            follow = [STOP_BETTING, ONE_YEAR, CONFIRM] if risky else []
            shown = await dial_through(url, phone, inputs + follow)
            result = shown[len(inputs)]
            assert f"CON {result}" == RESULTS[lang][band], (total, result)
            if risky:
                assert shown[-1].startswith(("Done. ", "Imekamilika. ")), shown[-1]
            else:
                assert shown[-1] == "[hung up]"
    stored = [(r["instrument"], r["score"], r["band"]) for r in await rows("screening_result")]
    assert [s for s in stored if s[0] == "pgsi"] == [("pgsi", t, BANDS[t]) for t in (0, 1, 3, 8)]
    assert len(await rows("exclusion")) == 2
    helplines = [m for m in await rows("sms_message") if m["template"] == "screening_helpline"]
    assert [m["language"] for m in helplines] == [lang, lang]
