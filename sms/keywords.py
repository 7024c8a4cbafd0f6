"""The SMS keyword grammar, English and Kiswahili: text in, :class:`Command` out (pure).

Matching ignores case, accents, punctuation, extra spaces and line breaks, and
reads ``6MONTHS`` as ``6 MONTHS``. The first word (or two) is the keyword; the
language of the keyword is the language of the reply (``docs/sms.md`` lists the
whole grammar):

============  =====================================  ===================================
action        Kiswahili                              English
============  =====================================  ===================================
exclude       JIZUIE (JIZUIA), ACHA KUBETI           EXCLUDE, SELF EXCLUDE, STOP BETTING
confirm       NDIYO, NDIO                            YES
decline       HAPANA                                 NO
status        HALI (HALI YANGU)                      STATUS (MY STATUS)
help          MSAADA                                 HELP, INFO
language      LUGHA, KISWAHILI                       LANGUAGE, ENGLISH
no reminders  SITISHA                                STOP
screening     PIMA                                   CHECK
add an ID     KITAMBULISHO <n>, MAISHA <n>,          ID <n>, NATIONAL ID <n>, MAISHA <n>,
              PASIPOTI <n>, MGENI <n>, MKIMBIZI <n>  PASSPORT <n>, ALIEN <n>, REFUGEE <n>
other line    UNGANISHA <reference>                  LINK <reference>
============  =====================================  ===================================

``CHECK STATUS`` is a status; ``TEST`` is deliberately not a screening
keyword (people text it to see whether a shortcode works). During a screening
the answers are numbers, which :func:`parse` leaves :attr:`Intent.UNKNOWN`
(:func:`number` reads them), and ``STOP``/``SITISHA`` ends the screening.

After an ID or link keyword, the rest of the message (its words joined, so
spaces and dashes go) is the ID number or the exclusion reference.

Periods after the exclusion keyword: a number with a unit (``6M``, ``6 MONTHS``,
``MIEZI 6``, ``1Y``, ``1 YEAR``, ``MWAKA 1``, ``MWAKA MMOJA``, ``5Y``, ``MIAKA 5``,
``12 MONTHS``), a number alone where only one period fits (``6``, ``1``, ``12``,
``5``, ``60``), or ``PERMANENT``/``FOREVER``/``KUDUMU``/``KWA KUDUMU``/``MILELE``.
Anything else is a period that does not exist.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

from core.models import IdentifierKind
from core.periods import Period

#: Only the start of a message is read: a keyword and a period fit in far less.
MAX_READ = 160


class Intent(enum.StrEnum):
    """What a message asks for."""

    EXCLUDE = "exclude"
    CONFIRM = "confirm"
    DECLINE = "decline"
    STATUS = "status"
    HELP = "help"
    LANGUAGE = "language"
    STOP = "stop"
    ADD_ID = "add_id"
    LINK = "link"
    CHECK = "check"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Command:
    """A parsed message.

    ``lang`` is the keyword's language (``None`` when not understood);
    ``period`` the period asked for (exclude); ``bad_period`` when words after
    the keyword name no offered period; ``target`` the language asked for (language);
    ``kind`` the ID document (add_id) and ``argument`` the words after the keyword,
    joined (the ID number or the reference; ``""`` when none).
    """

    intent: Intent
    lang: str | None = None
    period: Period | None = None
    bad_period: bool = False
    target: str | None = None
    kind: IdentifierKind | None = None
    argument: str = ""


# Two-word keywords first: STOP BETTING is an exclusion, STOP alone is about reminders.
_PHRASES: dict[tuple[str, ...], tuple[Intent, str]] = {
    ("STOP", "BETTING"): (Intent.EXCLUDE, "en"),
    ("SELF", "EXCLUDE"): (Intent.EXCLUDE, "en"),
    ("ACHA", "KUBETI"): (Intent.EXCLUDE, "sw"),
    ("MY", "STATUS"): (Intent.STATUS, "en"),
    ("HALI", "YANGU"): (Intent.STATUS, "sw"),
    ("CHECK", "STATUS"): (Intent.STATUS, "en"),
    ("NATIONAL", "ID"): (Intent.ADD_ID, "en"),
    ("MAISHA", "NAMBA"): (Intent.ADD_ID, "sw"),
}
#: The ID document each ID keyword names.
_DOCUMENTS: dict[str, IdentifierKind] = {
    "ID": IdentifierKind.NATIONAL_ID,
    "NATIONAL": IdentifierKind.NATIONAL_ID,
    "KITAMBULISHO": IdentifierKind.NATIONAL_ID,
    "MAISHA": IdentifierKind.MAISHA_NAMBA,
    "PASSPORT": IdentifierKind.PASSPORT,
    "PASIPOTI": IdentifierKind.PASSPORT,
    "ALIEN": IdentifierKind.ALIEN_ID,
    "REFUGEE": IdentifierKind.ALIEN_ID,
    "MGENI": IdentifierKind.ALIEN_ID,
    "MKIMBIZI": IdentifierKind.ALIEN_ID,
}
_WORDS: dict[str, tuple[Intent, str]] = {
    "EXCLUDE": (Intent.EXCLUDE, "en"),
    "SELFEXCLUDE": (Intent.EXCLUDE, "en"),
    "JIZUIE": (Intent.EXCLUDE, "sw"),
    "JIZUIA": (Intent.EXCLUDE, "sw"),
    "YES": (Intent.CONFIRM, "en"),
    "NDIYO": (Intent.CONFIRM, "sw"),
    "NDIO": (Intent.CONFIRM, "sw"),
    "NO": (Intent.DECLINE, "en"),
    "HAPANA": (Intent.DECLINE, "sw"),
    "STATUS": (Intent.STATUS, "en"),
    "HALI": (Intent.STATUS, "sw"),
    "HELP": (Intent.HELP, "en"),
    "INFO": (Intent.HELP, "en"),
    "MSAADA": (Intent.HELP, "sw"),
    "LANGUAGE": (Intent.LANGUAGE, "en"),
    "LANG": (Intent.LANGUAGE, "en"),
    "ENGLISH": (Intent.LANGUAGE, "en"),
    "LUGHA": (Intent.LANGUAGE, "sw"),
    "KISWAHILI": (Intent.LANGUAGE, "sw"),
    "SWAHILI": (Intent.LANGUAGE, "sw"),
    "STOP": (Intent.STOP, "en"),
    "SITISHA": (Intent.STOP, "sw"),
    "ID": (Intent.ADD_ID, "en"),
    "KITAMBULISHO": (Intent.ADD_ID, "sw"),
    "MAISHA": (Intent.ADD_ID, "sw"),
    "PASSPORT": (Intent.ADD_ID, "en"),
    "PASIPOTI": (Intent.ADD_ID, "sw"),
    "ALIEN": (Intent.ADD_ID, "en"),
    "REFUGEE": (Intent.ADD_ID, "en"),
    "MGENI": (Intent.ADD_ID, "sw"),
    "MKIMBIZI": (Intent.ADD_ID, "sw"),
    "LINK": (Intent.LINK, "en"),
    "UNGANISHA": (Intent.LINK, "sw"),
    "CHECK": (Intent.CHECK, "en"),
    "PIMA": (Intent.CHECK, "sw"),
}
_LANGUAGE_NAMES = {
    "ENGLISH": "en",
    "KIINGEREZA": "en",
    "EN": "en",
    "KISWAHILI": "sw",
    "SWAHILI": "sw",
    "SW": "sw",
}
_NUMBERS = {
    "ONE": 1,
    "MOJA": 1,
    "MMOJA": 1,
    "FIVE": 5,
    "TANO": 5,
    "MITANO": 5,
    "SIX": 6,
    "SITA": 6,
    "TWELVE": 12,
}
_MONTHS = {"M", "MO", "MOS", "MON", "MONTH", "MONTHS", "MTH", "MTHS", "MIEZI", "MWEZI"}
_YEARS = {"Y", "YR", "YRS", "YEAR", "YEARS", "MWAKA", "MIAKA"}
_PERMANENT = {"PERMANENT", "PERMANENTLY", "PERM", "FOREVER", "KUDUMU", "MILELE", "DAIMA"}
_FILLER = {"FOR", "KWA", "A", "AN", "OF", "YA", "PLEASE", "TAFADHALI"}
#: A number alone names a period only where one period fits it.
_BARE = {1: Period.ONE_YEAR, 5: Period.FIVE_YEARS, 6: Period.SIX_MONTHS, 12: Period.ONE_YEAR}
_BY_MONTHS = {6: Period.SIX_MONTHS, 12: Period.ONE_YEAR, 60: Period.FIVE_YEARS}


def words(text: str) -> list[str]:
    """``text`` as upper-case ASCII words: accents, punctuation and spacing gone, digits split.

    ``"Jizuie, mwaka-1!"`` -> ``["JIZUIE", "MWAKA", "1"]``; ``"6months"`` -> ``["6", "MONTHS"]``.
    """
    ascii_text = (
        unicodedata.normalize("NFKD", text[:MAX_READ]).encode("ascii", "ignore").decode().upper()
    )
    spaced = re.sub(r"(?<=\d)(?=[A-Z])|(?<=[A-Z])(?=\d)", " ", ascii_text)
    return re.findall(r"[A-Z0-9]+", spaced)


def period_of(rest: list[str]) -> tuple[Period | None, bool]:
    """The period named by the words after an exclusion keyword: ``(period, bad)``.

    ``(None, False)`` when nothing follows the keyword; ``(None, True)`` when
    the words name no period NSER offers.
    """
    rest = [word for word in rest if word not in _FILLER]
    if not rest:
        return None, False
    if all(word in _PERMANENT for word in rest):
        return Period.PERMANENT, False
    numbers = [_NUMBERS.get(word) or (int(word) if word.isdigit() else None) for word in rest]
    counts = [n for n in numbers if n is not None]
    units = {("m" if word in _MONTHS else "y") for word in rest if word in _MONTHS | _YEARS}
    known = all(
        n is not None or word in _MONTHS | _YEARS for word, n in zip(rest, numbers, strict=True)
    )
    if len(counts) != 1 or len(units) > 1 or not known:
        return None, True
    count = counts[0]
    if not units:
        bare = _BARE.get(count) or _BY_MONTHS.get(count)
        return bare, bare is None
    months = count * 12 if units == {"y"} else count
    found = _BY_MONTHS.get(months)
    return found, found is None


def _language_target(rest: list[str], keyword: str, lang: str) -> str:
    for word in rest:
        if word in _LANGUAGE_NAMES:
            return _LANGUAGE_NAMES[word]
    return _LANGUAGE_NAMES.get(keyword, lang)


def number(text: str) -> str | None:
    """The number a message is, if it is only that (``" 2. "`` -> ``"2"``), else ``None``."""
    found = words(text)
    return found[0] if len(found) == 1 and found[0].isdigit() else None


def parse(text: str) -> Command:
    """The command in an SMS ``text`` (any text at all; never raises)."""
    found = words(text)
    if not found:
        return Command(Intent.UNKNOWN)
    phrase = tuple(found[:2])
    if phrase in _PHRASES:
        (intent, lang), rest = _PHRASES[phrase], found[2:]
    elif found[0] in _WORDS:
        (intent, lang), rest = _WORDS[found[0]], found[1:]
    else:
        return Command(Intent.UNKNOWN)
    if intent is Intent.EXCLUDE:
        period, bad = period_of(rest)
        return Command(intent, lang, period=period, bad_period=bad)
    if intent is Intent.LANGUAGE:
        return Command(intent, lang, target=_language_target(rest, found[0], lang))
    if intent is Intent.ADD_ID:
        return Command(intent, lang, kind=_DOCUMENTS[found[0]], argument="".join(rest))
    if intent is Intent.LINK:
        return Command(intent, lang, argument="".join(rest))
    return Command(intent, lang)
