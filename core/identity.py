"""Normalising the identifiers of a subject: MSISDN (``phonenumbers``) and national ID.

The normalised form is what gets encrypted and blind-indexed, so two spellings of
one number (``0712 345 678``, ``+254712345678``, ``254712345678``) are one subject.
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


@functools.lru_cache(maxsize=65_536)
def normalise_msisdn(raw: str) -> str:
    """Return ``raw`` as an E.164 mobile MSISDN, e.g. ``"0712 345678"`` -> ``"+254712345678"``.

    Parsed by ``phonenumbers`` (Google libphonenumber metadata) with default
    region KE, so national (``07…``, ``01…``) and international forms both work.
    Results are cached (a session's every step repeats the same number; parsing
    costs more than the rest of a menu step).

    Two savings on the uncached path, neither changing an answer: a number
    already in Kenyan E.164 form skips the text parser (:func:`_read`), and
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
    """``phonenumbers.parse(text, "KE")``, built directly when ``text`` is Kenyan E.164.

    ``+254`` then nine ASCII digits, the first not 0, is what operators and the
    gateway send; ``parse`` would return exactly this object (a test compares
    both across the number space) at several times the cost.

    Raises:
        InvalidMsisdn: ``parse`` refused the text.
    """
    digits = text[4:]
    kenyan = len(text) == 13 and text.startswith(_KE_PREFIX) and digits[:1] != "0"
    if kenyan and digits.isascii() and digits.isdigit():
        return PhoneNumber(country_code=_KE_CODE, national_number=int(digits))
    try:
        return phonenumbers.parse(text, DEFAULT_REGION)
    except NumberParseException as exc:
        raise InvalidMsisdn("not a phone number") from exc


def normalise_national_id(raw: str) -> str:
    """Return a Kenyan national ID number as 6 to 8 digits, spaces and dashes removed.

    Raises:
        InvalidNationalId: anything else remains.
    """
    text = re.sub(r"[\s-]", "", raw)
    if not _NATIONAL_ID.fullmatch(text):
        raise InvalidNationalId("a national ID number is 6 to 8 digits")
    return text


def mask_msisdn(e164: str) -> str:
    """A number as logs may show it: country code and first digit, then the last three.

    ``+254712345678`` -> ``+2547*****678`` (never enough to call or look up anyone).
    """
    if len(e164) <= 8:
        return "*" * len(e164)
    return e164[:5] + "*" * (len(e164) - 8) + e164[-3:]
