"""The keyword grammar, as a table: what citizens type, what NSER understands."""

from __future__ import annotations

import pytest

from core.periods import Period
from sms.keywords import Command, Intent, parse

SIX, YEAR, FIVE, EVER = Period.SIX_MONTHS, Period.ONE_YEAR, Period.FIVE_YEARS, Period.PERMANENT
EXCLUDE, CONFIRM, DECLINE = Intent.EXCLUDE, Intent.CONFIRM, Intent.DECLINE

CASES = [
    ("EXCLUDE 1Y", Command(EXCLUDE, "en", YEAR)),
    ("exclude 6 months", Command(EXCLUDE, "en", SIX)),
    ("Exclude 6months.", Command(EXCLUDE, "en", SIX)),
    ("EXCLUDE 12 MONTHS", Command(EXCLUDE, "en", YEAR)),
    ("exclude five years", Command(EXCLUDE, "en", FIVE)),
    ("EXCLUDE PERMANENTLY", Command(EXCLUDE, "en", EVER)),
    ("exclude forever", Command(EXCLUDE, "en", EVER)),
    ("self-exclude 1 year", Command(EXCLUDE, "en", YEAR)),
    ("STOP BETTING 5Y", Command(EXCLUDE, "en", FIVE)),
    ("JIZUIE MWAKA 1", Command(EXCLUDE, "sw", YEAR)),
    ("jizuie mwaka mmoja", Command(EXCLUDE, "sw", YEAR)),
    ("Jizuie, miezi-6!", Command(EXCLUDE, "sw", SIX)),
    ("JIZUIE MIAKA MITANO", Command(EXCLUDE, "sw", FIVE)),
    ("JIZUIE KUDUMU", Command(EXCLUDE, "sw", EVER)),
    ("jizuie kwa kudumu", Command(EXCLUDE, "sw", EVER)),
    ("JIZUIA 1", Command(EXCLUDE, "sw", YEAR)),
    ("Jízuie 6", Command(EXCLUDE, "sw", SIX)),
    ("ACHA KUBETI MIEZI 6", Command(EXCLUDE, "sw", SIX)),
    ("JIZUIE", Command(EXCLUDE, "sw")),
    ("EXCLUDE 7Y", Command(EXCLUDE, "en", bad_period=True)),
    ("EXCLUDE 2", Command(EXCLUDE, "en", bad_period=True)),
    ("exclude 1y 6m", Command(EXCLUDE, "en", bad_period=True)),
    ("JIZUIE MWAKA", Command(EXCLUDE, "sw", bad_period=True)),
    ("yes", Command(CONFIRM, "en")),
    ("NDIYO", Command(CONFIRM, "sw")),
    ("ndio.", Command(CONFIRM, "sw")),
    ("No", Command(DECLINE, "en")),
    ("HAPANA", Command(DECLINE, "sw")),
    ("status", Command(Intent.STATUS, "en")),
    ("my status?", Command(Intent.STATUS, "en")),
    ("HALI YANGU", Command(Intent.STATUS, "sw")),
    ("help", Command(Intent.HELP, "en")),
    ("Msaada", Command(Intent.HELP, "sw")),
    ("LUGHA", Command(Intent.LANGUAGE, "sw", target="sw")),
    ("LANGUAGE", Command(Intent.LANGUAGE, "en", target="en")),
    ("lugha english", Command(Intent.LANGUAGE, "sw", target="en")),
    ("LANGUAGE KISWAHILI", Command(Intent.LANGUAGE, "en", target="sw")),
    ("English", Command(Intent.LANGUAGE, "en", target="en")),
    ("STOP", Command(Intent.STOP, "en")),
    ("stop reminders", Command(Intent.STOP, "en")),
    ("SITISHA", Command(Intent.STOP, "sw")),
    ("JIONDOE", Command(Intent.UNKNOWN)),
    ("", Command(Intent.UNKNOWN)),
    (" \n\t ", Command(Intent.UNKNOWN)),
    ("!!!", Command(Intent.UNKNOWN)),
    ("🙂", Command(Intent.UNKNOWN)),
    ("YES" + " x" * 10_000, Command(CONFIRM, "en")),
]


@pytest.mark.parametrize(("text", "command"), CASES, ids=[c[0][:20] for c in CASES])
def test_grammar(text: str, command: Command) -> None:
    assert parse(text) == command
