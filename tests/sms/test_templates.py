"""Every SMS NSER sends fits one GSM-7 segment (160 septets) in both languages, longest values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core import alerts, notices, texts
from core.i18n import LANGUAGES, Catalogues, septets
from core.instruments import LIE_BET, PGSI
from core.models import IdentifierKind
from core.settings import Settings
from sms import replies, screening, screening_replies

LONGEST = Settings(
    helpline_name="X" * 24,
    helpline_number="0" * 14,
    regulator_contact="Y" * 28,
    sms_confirm_minutes=1440,
)
END = "2031-12-31T21:00:00+00:00"
LATER = datetime(2032, 12, 31, 21, 0, tzinfo=UTC)
REF = "WWWW-WWWW"
#: The longest operator name an alert carries (core.alerts cuts longer ones).
OPERATOR = "O" * alerts.OPERATOR_NAME_CHARS
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


#: Answers (option indexes) giving every band: Lie/Bet positive and negative, PGSI 0, 1, 3, 8.
BAND_ANSWERS = (
    (LIE_BET.code, (0, 1)),
    (LIE_BET.code, (1, 1)),
    (PGSI.code, (0,) * 9),
    (PGSI.code, (1,) + (0,) * 8),
    (PGSI.code, (3,) + (0,) * 8),
    (PGSI.code, (3, 3, 2) + (0,) * 6),
)


def every_screening_reply(lang: str) -> dict[str, str]:
    """Each reply of a screening by SMS: every item (and its re-ask), every band's result."""
    _ = Catalogues().gettext(lang)
    shown: dict[str, str] = {}
    for instrument in (LIE_BET, PGSI):
        for answered in range(len(instrument.items)):
            opening = instrument is LIE_BET and answered == 0  # only a screening's first item
            for first in (False, True) if opening else (False,):
                shown[f"question/{instrument.code}/{answered}/{first}"] = (
                    screening_replies.question(
                        _, instrument=instrument.code, answered=answered, first=first
                    )
                )
            shown[f"ask_again/{instrument.code}/{answered}"] = screening_replies.ask_again(
                _, instrument=instrument.code, answered=answered
            )
    for code, answers in BAND_ANSWERS:
        shown[f"result/{code}/{answers}"] = screening_replies.result(
            _,
            instrument=code,
            answers=answers,
            offered=screening.offered(code, answers),
            settings=LONGEST,
        )
    shown["reminders_on"] = screening_replies.reminders_on(_)
    shown["stopped"] = screening_replies.stopped(_)
    shown["gave_up"] = screening_replies.gave_up(_)
    shown["expired"] = screening_replies.expired(_)
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
        "walkin_code": [{"code": "000000", "minutes": 10}],
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
    every = {**every_reply(lang), **every_notice(lang), **every_screening_reply(lang)}
    for name, body in every.items():
        length = septets(body)  # raises on any character outside GSM 03.38
        if length > 160:
            too_long[name] = length
    assert too_long == {}


def test_every_sms_is_translated() -> None:
    english = {**every_reply("en"), **every_notice("en"), **every_screening_reply("en")}
    swahili = {**every_reply("sw"), **every_notice("sw"), **every_screening_reply("sw")}
    same = [name for name in english if english[name] == swahili[name]]
    assert same == ["not_understood"]  # bilingual on purpose: we do not know the language
