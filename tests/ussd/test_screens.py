"""Every USSD screen fits one GSM-7 screen of 160 septets, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.i18n import LANGUAGES, Catalogues, Gettext, septets
from core.instruments import INSTRUMENTS, SELF_SCREENING, BandCode, Instrument
from core.models import IdentifierKind
from core.screening import Result
from core.settings import Settings
from ussd import screening_menu, screening_screens, screens
from ussd.state import Quiz

LONGEST = Settings(helpline_name="X" * 24, helpline_number="0" * 14, regulator_contact="Y" * 28)
END = datetime(2031, 12, 31, 21, 0, tzinfo=UTC)
LATER = datetime(2032, 12, 31, 21, 0, tzinfo=UTC)
REF = "WWWW-WWWW"


def every_screen(lang: str) -> dict[str, str]:
    """Each screen with the longest values settings and data allow, with and without errors."""
    _ = Catalogues().gettext(lang)
    shown: dict[str, str] = {}
    for error in (False, True):
        shown[f"language/{error}"] = screens.language(_, error=error)
        shown[f"resume/{error}"] = screens.resume(_, error=error)
        shown[f"main/{error}"] = screens.main(_, error=error)
        shown[f"period/{error}"] = screens.period(_, error=error)
        for new in (END, None):
            for current in (END, None):
                for extending in (False, True):
                    for with_id in (False, True):
                        key = f"confirm/{error}/{new}/{current}/{extending}/{with_id}"
                        shown[key] = screens.confirm(
                            _,
                            lang=lang,
                            new_end=new if new is None else LATER,
                            current_end=current,
                            extending=extending,
                            error=error,
                            with_id=with_id,
                        )

    for ends in (END, None):
        for extended in (False, True):
            shown[f"excluded/{ends}/{extended}"] = screens.excluded(
                _, lang=lang, ends_at=ends, reference=REF, extended=extended, settings=LONGEST
            )
        shown[f"already/{ends}"] = screens.already_excluded(
            _, lang=lang, ends_at=ends, reference=REF
        )
        for error in (False, True):
            shown[f"status/{ends}/{error}"] = screens.status(
                _, lang=lang, ends_at=ends, reference=REF, error=error
            )
            shown[f"status/none/{error}"] = screens.status(
                _, lang=lang, ends_at=None, reference=None, error=error
            )
    shown["help"] = screens.help_(_, settings=LONGEST)

    shown["invalid_phone"] = screens.invalid_phone(_)
    shown["session_ended"] = screens.session_ended(_)
    shown["apology"] = screens.apology(_)
    return shown | every_screening_screen(lang, _) | every_identity_screen(lang, _)


def every_identity_screen(lang: str, _: Gettext) -> dict[str, str]:
    """The ID and second-line screens, with and without errors."""
    shown: dict[str, str] = {}
    for error in (False, True):
        shown[f"id_kind/{error}"] = screens.id_kind(_, error=error)
        for kind in IdentifierKind:
            shown[f"id_entry/{kind}/{error}"] = screens.id_entry(_, kind=kind, error=error)
        shown[f"link/{error}"] = screens.link(_, error=error)
    shown["not_mine"] = screens.not_mine(_, settings=LONGEST)
    shown["link_limited"] = screens.link_limited(_, settings=LONGEST)
    for ends in (END, None):
        shown[f"linked/{ends}"] = screens.linked(_, lang=lang, ends_at=ends, reference=REF)
    return shown


def scoring(instrument: Instrument, total: int) -> tuple[int, ...]:
    """Answers (option indexes) adding up to ``total``, the highest options first."""
    by_points = {option.points: index for index, option in enumerate(instrument.options)}
    answers = []
    for _item in instrument.items:
        points = min(max(by_points), total)
        answers.append(by_points[points])
        total -= points
    return tuple(answers)


def every_screening_screen(lang: str, _: Gettext) -> dict[str, str]:
    """Every item with and without an error, every result screen, and what follows them."""
    shown: dict[str, str] = {}
    for code in SELF_SCREENING:
        instrument = INSTRUMENTS[code]
        top = len(instrument.options) - 1
        for number in range(len(instrument.items)):
            for error in (False, True):
                quiz = Quiz(code, (top,) * number)
                shown[f"{code}/{number + 1}/{error}"] = screening_screens.question(
                    _, quiz=quiz, error=error
                )
        for band in instrument.bands:
            quiz = Quiz(code, scoring(instrument, band.highest))
            assert screening_menu.band_of(quiz) == band
            for error in (False, True):
                shown[f"{code}/{band.code}/{error}"] = screening_screens.result(
                    _, quiz=quiz, settings=LONGEST, error=error
                )
            latest = Result(1, code, "x", band.highest, band.code, "ussd", END)
            shown[f"last/{band.code}"] = screening_screens.last_result(
                _, lang=lang, latest=latest, settings=LONGEST
            )
    shown["last/none"] = screening_screens.last_result(_, lang=lang, latest=None, settings=LONGEST)
    shown["reminders_on"] = screening_screens.reminders_on(_)
    return shown


def test_every_screening_screen_is_listed() -> None:
    names = set(every_screen("en"))
    assert {f"pgsi/{n}/{e}" for n in range(1, 10) for e in (False, True)} <= names
    assert {f"liebet/{n}/{e}" for n in (1, 2) for e in (False, True)} <= names
    bands = {BandCode.NEGATIVE, BandCode.POSITIVE} | {
        band.code for band in INSTRUMENTS["pgsi"].bands
    }
    assert {f"last/{band}" for band in bands} <= names


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_screen_is_gsm7_and_at_most_160_septets(lang: str) -> None:
    too_long = {}
    for name, body in every_screen(lang).items():
        length = septets(body)  # raises on any character outside GSM 03.38
        if length > 160:
            too_long[name] = length
    assert too_long == {}


def test_swahili_screens_are_translated() -> None:
    english, swahili = every_screen("en"), every_screen("sw")
    same = [name for name in english if english[name] == swahili[name]]
    # Only the bilingual screens (shown before a language is chosen) read the same in both.
    assert same == ["language/False", "language/True", "invalid_phone"]


def test_septets_count_extension_characters_twice() -> None:
    assert septets("ng'ombe") == 7
    assert septets("[1]") == 5
    with pytest.raises(UnicodeEncodeError):
        septets("ng’ombe")
