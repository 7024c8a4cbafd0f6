"""Normalising the identifiers of a subject: MSISDN (``phonenumbers``) and ID documents.

The normalised form is what gets encrypted and blind-indexed, so two spellings of
one number (``0712 345 678``, ``+254712345678``, ``254712345678``) are one subject.

ID documents (rules in ``docs/identity.md``), after removing spaces, dashes,
dots and slashes:

* **National ID** (Kenyan ``kitambulisho``): digits only; leading zeros are
  dropped (an ID is a number, and ``01234567`` and ``1234567`` are one ID);
  then 6 to 8 digits.
* **Maisha Namba**: digits only, leading zeros dropped, then 6 to 10 digits.
  It shares the national ID's blind index (one namespace, "Kenyan ID numbers",
  :mod:`core.subjects`): adults who hold a national ID keep its number as their
  Maisha Namba, and an operator's ``national_id`` then matches either.
* **Passport**: upper-cased; one or two letters then 6 to 8 digits (Kenyan
  passports: ``A1234567``, ``AK0123456``); digits are kept as typed.
* **Alien / refugee ID**: digits only, leading zeros dropped, 6 to 9 digits.

Anything else (letters in a number, digits in the prefix, too short or long)
raises :class:`~core.errors.InvalidNationalId` with a plain reason.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType

from core.errors import InvalidMsisdn, InvalidNationalId

DEFAULT_REGION = "KE"
_KE_CODE = 254
_KE_PREFIX = "+254"
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_NATIONAL_ID = re.compile(r"\d{6,8}")
_MAISHA_NAMBA = re.compile(r"\d{6,10}")
_ALIEN_ID = re.compile(r"\d{6,9}")
_PASSPORT = re.compile(r"[A-Z]{1,2}\d{6,8}")
_SEPARATORS = re.compile(r"[\s\-./]")


@functools.lru_cache(maxsize=65_536)
def normalise_msisdn(raw: str) -> str:
    """Return ``raw`` as an E.164 mobile MSISDN, e.g. ``"0712 345678"`` -> ``"+254712345678"``.

    Parsed by ``phonenumbers`` (Google libphonenumber metadata) with default
    region KE, so national (``07…``, ``01…``) and international forms both work.
    Results are cached (a session's every step repeats the same number; parsing
    costs more than the rest of a menu step).

    Two savings on the uncached path, neither changing an answer: a number
    in Kenyan E.164 or national form skips the text parser (:func:`_read`), and
    validity and type come from one ``number_type`` call, which is what
    ``is_valid_number`` itself decides by (``UNKNOWN`` exactly when invalid).

    Raises:
        InvalidMsisdn: unparseable, not a valid number, or not a mobile number.
    """
    text = raw.strip()
    if text.isdigit() and text.startswith("254"):
        text = "+" + text  # gateways sometimes drop the plus
    number = _read(text)
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        raise InvalidMsisdn("not a valid phone number")
    if kind not in _MOBILE_TYPES:
        raise InvalidMsisdn("not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _read(text: str) -> PhoneNumber:
    """``phonenumbers.parse(text, "KE")``, built directly for the two common Kenyan spellings.

    ``+254`` then nine ASCII digits, the first not 0, is what operators and the
    gateway send; ``0`` then the same nine digits is how people and customer
    databases write it (the national prefix, which ``parse`` strips for region
    KE), often grouped with spaces (``0712 345678``), which ``parse`` drops. For
    all of these, ``parse`` would return exactly this object (a test compares every
    verdict across the number space in seven spellings) at several times the
    cost: 5 µs instead of 15 µs for a national spelling, 20 µs with a space
    (``bench.costs``).

    Raises:
        InvalidMsisdn: ``parse`` refused the text.
    """
    compact = text.replace(" ", "")  # "0712 345678", "+254 712 …"
    if len(compact) == 13 and compact.startswith(_KE_PREFIX):
        digits = compact[4:]
    elif len(compact) == 10 and compact[:1] == "0":
        digits = compact[1:]
    else:
        digits = ""
    if digits[:1] not in ("", "0") and digits.isascii() and digits.isdigit():
        return PhoneNumber(country_code=_KE_CODE, national_number=int(digits))
    try:
        return phonenumbers.parse(text, DEFAULT_REGION)
    except NumberParseException as exc:
        raise InvalidMsisdn("not a phone number") from exc


def _digits(raw: str, pattern: re.Pattern[str], reason: str) -> str:
    text = _SEPARATORS.sub("", raw)
    if not (text.isascii() and text.isdigit()):
        raise InvalidNationalId(reason)
    text = text.lstrip("0")
    if not pattern.fullmatch(text):
        raise InvalidNationalId(reason)
    return text


def normalise_national_id(raw: str) -> str:
    """Return a Kenyan national ID number: 6 to 8 digits, separators and leading zeros removed.

    ``" 1234 5678 "`` -> ``"12345678"``; ``"0123-456"`` -> ``"123456"``.

    Raises:
        InvalidNationalId: anything else remains.
    """
    return _digits(raw, _NATIONAL_ID, "a national ID number is 6 to 8 digits")


def normalise_maisha_namba(raw: str) -> str:
    """Return a Maisha Namba: 6 to 10 digits, separators and leading zeros removed.

    Raises:
        InvalidNationalId: anything else remains.
    """
    return _digits(raw, _MAISHA_NAMBA, "a Maisha Namba is 6 to 10 digits")


def normalise_alien_id(raw: str) -> str:
    """Return an alien or refugee ID number: 6 to 9 digits, separators and leading zeros removed.

    Raises:
        InvalidNationalId: anything else remains.
    """
    return _digits(raw, _ALIEN_ID, "an alien or refugee ID is 6 to 9 digits")


def normalise_passport(raw: str) -> str:
    """Return a passport number upper-cased: 1 or 2 letters then 6 to 8 digits (``AK0123456``).

    Raises:
        InvalidNationalId: anything else remains (e.g. ``"1234567A"``, ``"A12B4567"``).
    """
    text = _SEPARATORS.sub("", raw).upper()
    if not (text.isascii() and _PASSPORT.fullmatch(text)):
        raise InvalidNationalId("a passport number is 1 or 2 letters then 6 to 8 digits")
    return text


def mask_msisdn(e164: str) -> str:
    """A number as logs may show it: country code and first digit, then the last three.

    ``+254712345678`` -> ``+2547*****678`` (never enough to call or look up anyone).
    """
    if len(e164) <= 8:
        return "*" * len(e164)
    return e164[:5] + "*" * (len(e164) - 8) + e164[-3:]
