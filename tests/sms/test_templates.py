"""Every SMS NSER sends fits one GSM-7 segment (160 septets) in both languages, longest values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core import notices, texts
from core.i18n import LANGUAGES, Catalogues, septets
from core.models import IdentifierKind
from core.settings import Settings
from sms import replies

LONGEST = Settings(
    helpline_name="X" * 24,
    helpline_number="0" * 14,
    regulator_contact="Y" * 28,
    sms_confirm_minutes=1440,
)
END = "2031-12-31T21:00:00+00:00"
LATER = datetime(2032, 12, 31, 21, 0, tzinfo=UTC)
REF = "WWWW-WWWW"
#: The longest operator name an alert carries (the operator model caps display names at 40).
OPERATOR = "O" * 40
MINUTES = LONGEST.sms_confirm_minutes


def every_reply(lang: str) -> dict[str, str]:
    """Each reply to a keyword, every variant, with the longest values."""
    _ = Catalogues().gettext(lang)
    shown: dict[str, str] = {}
    for new in (LATER, None):
        for extending in (False, True):
            shown[f"ask/{new}/{extending}"] = replies.ask_confirm(
                _,
                lang=lang,
                new_end=new,
                current_end=LATER if extending else None,
                extending=extending,
                minutes=MINUTES,
            )
    for ends in (LATER, None):
        shown[f"already/{ends}"] = replies.already_excluded(
            _, lang=lang, ends_at=ends, reference=REF
        )
        shown[f"status/{ends}"] = replies.status(_, lang=lang, ends_at=ends, reference=REF)
    shown["status/none"] = replies.status(_, lang=lang, ends_at=None, reference=None)
    shown["ask_period"] = replies.ask_period(_)
    shown["nothing"] = replies.nothing_to_confirm(_, minutes=MINUTES)
    shown["declined"] = replies.declined(_)
    shown["help"] = replies.help_(_, settings=LONGEST)
    shown["language"] = replies.language_set(_)
    shown["stopped"] = replies.reminders_stopped(_)
    shown["not_understood"] = replies.not_understood(_)
    shown["apology"] = replies.apology(_)
    shown["ask_id"] = replies.ask_id(_)
    for kind in IdentifierKind:
        shown[f"bad_id/{kind}"] = replies.bad_id(_, document=texts.document_name(kind, _))
    shown["id_needs_exclusion"] = replies.id_needs_exclusion(_)
    shown["id_added"] = replies.id_added(_, reference=REF)
    shown["ask_reference"] = replies.ask_reference(_)
    shown["unknown_reference"] = replies.unknown_reference(_)
    shown["link_limited"] = replies.link_limited(_, settings=LONGEST)
    for ends in (LATER, None):
        shown[f"linked/{ends}"] = replies.linked(_, lang=lang, ends_at=ends, reference=REF)
    return shown


def every_notice(lang: str) -> dict[str, str]:
    """Each template of :data:`core.notices.TEMPLATES`, every variant, with the longest values."""
    _ = Catalogues().gettext(lang)
    params: dict[str, list[dict[str, object]]] = {
        "confirmation": [
            {"reference": REF, "ends_at": ends, "extended": extended}
            for ends in (END, None)
            for extended in (False, True)
        ],
        "reminder": [{"ends_at": END, "new_end": END, "reference": REF}],
        "expiry": [{"reference": REF}],
        "identifier_added": [{"reference": REF}],
        "screening_helpline": [{}],
        "rescreen_reminder": [{}],
        "ops_low_balance": [{}],
        "ops_sending_failing": [{"minutes": 99999, "reason": "X" * 24}],
        "operator_webhook_disabled": [{"operator": OPERATOR}],
        "operator_deliveries_failing": [{"operator": OPERATOR}],
    }
    assert set(params) == set(notices.TEMPLATES), "a template is not measured here"
    return {
        f"{name}/{n}": notices.render(name, values, _=_, lang=lang, settings=LONGEST)
        for name, variants in params.items()
        for n, values in enumerate(variants)
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_sms_is_gsm7_and_at_most_160_septets(lang: str) -> None:
    too_long = {}
    for name, body in {**every_reply(lang), **every_notice(lang)}.items():
        length = septets(body)  # raises on any character outside GSM 03.38
        if length > 160:
            too_long[name] = length
    assert too_long == {}


def test_every_sms_is_translated() -> None:
    english = {**every_reply("en"), **every_notice("en")}
    swahili = {**every_reply("sw"), **every_notice("sw")}
    same = [name for name in english if english[name] == swahili[name]]
    assert same == ["not_understood"]  # bilingual on purpose: we do not know the language
