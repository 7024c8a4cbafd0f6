"""Translations (gettext catalogues managed with Babel) and GSM-7 length checks.

Catalogues live in ``locales/<lang>/LC_MESSAGES/messages.po`` and are compiled
in memory at start-up (Babel's ``read_po``/``write_mo``), so no ``.mo`` file is
committed or can go stale. Swahili (``sw``) is the default language.

Every USSD screen and SMS template must be GSM 03.38 (GSM-7) text of at most 160
septets; :func:`septets` measures that with the ``gsm0338`` codec (characters of
the extension table, such as ``[`` or ``€``, count two).
"""

from __future__ import annotations

import enum
import gettext
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


class Language(enum.StrEnum):
    """The languages NSER speaks (ISO 639-1); the value is what is stored."""

    SWAHILI = "sw"
    ENGLISH = "en"


LANGUAGES: tuple[str, ...] = tuple(Language)
DEFAULT_LANGUAGE = Language.SWAHILI
DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SEGMENT_SEPTETS = 160

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined as data; translate it later with ``_``.

    Returns ``message`` unchanged: wording kept in data (a screening item, a
    band's label, a key binding's description) is extracted into the catalogues
    from here and looked up in the reader's language only when it is shown.
    """
    return message


class Catalogues:
    """Compiled translations for every supported language.

    Raises:
        FileNotFoundError: a language's ``messages.po`` is missing.
    """

    def __init__(self, locales_dir: Path = LOCALES_DIR) -> None:
        self._translations: dict[str, gettext.GNUTranslations] = {}
        for lang in LANGUAGES:
            po_path = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            self._translations[lang] = gettext.GNUTranslations(buffer)

    def gettext(self, lang: str) -> Gettext:
        """The ``gettext`` function of ``lang`` (unknown languages fall back to Swahili)."""
        return self._translations.get(lang, self._translations[DEFAULT_LANGUAGE]).gettext


def short_date(day: date, lang: str) -> str:
    """A date as citizens read it on a small screen: ``21/11/2027`` (CLDR pattern dd/MM/yyyy)."""
    return format_date(day, "dd/MM/yyyy", locale=lang)


def septets(text: str) -> int:
    """Length of ``text`` in GSM-7 septets.

    Raises:
        UnicodeEncodeError: ``text`` holds a character outside GSM 03.38.
    """
    return len(text.encode("gsm03.38"))


def fits_one_segment(text: str) -> bool:
    """True when ``text`` is GSM-7 and at most 160 septets (one SMS segment / USSD screen)."""
    try:
        return septets(text) <= SEGMENT_SEPTETS
    except UnicodeEncodeError:
        return False
