"""MSISDN and national ID normalisation."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from core.errors import InvalidMsisdn, InvalidNationalId
from core.identity import normalise_msisdn, normalise_national_id


@pytest.mark.parametrize(
    "raw",
    ["+254712345678", "254712345678", "0712345678", "0712 345 678", " +254 712-345-678 "],
)
def test_kenyan_mobile_spellings_normalise_to_e164(raw: str) -> None:
    assert normalise_msisdn(raw) == "+254712345678"


def test_new_01_prefix_mobiles_are_accepted() -> None:
    assert normalise_msisdn("0110123456") == "+254110123456"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("hello", "not a phone number"),
        ("12345", "not a valid phone number"),
        ("+254202222222", "not a mobile number"),  # Nairobi landline
        ("", "not a phone number"),
    ],
)
def test_invalid_or_non_mobile_numbers_are_refused(raw: str, message: str) -> None:
    with pytest.raises(InvalidMsisdn, match=message):
        normalise_msisdn(raw)


def test_national_id_is_digits_only() -> None:
    assert normalise_national_id(" 1234 5678 ") == "12345678"
    assert normalise_national_id("123-456") == "123456"
    for bad in ("12345", "123456789", "A1234567"):
        with pytest.raises(InvalidNationalId):
            normalise_national_id(bad)


def _library_verdict(raw: str) -> str:
    """What ``phonenumbers`` alone says of ``raw``, step by step (the reference)."""
    text = raw.strip()
    if text.isdigit() and text.startswith("254"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, "KE")
    except phonenumbers.NumberParseException:
        return "not a phone number"
    if not phonenumbers.is_valid_number(number):
        return "not a valid phone number"
    if phonenumbers.number_type(number) not in {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }:
        return "not a mobile number"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _our_verdict(raw: str) -> str:
    try:
        return normalise_msisdn(raw)
    except InvalidMsisdn as exc:
        return str(exc)


def test_every_spelling_gets_the_verdict_phonenumbers_gives() -> None:
    rng = random.Random(2026)
    spellings = []
    for prefix in range(1000):  # every first three digits after +254, valid or not
        for _ in range(3):
            digits = f"{prefix:03d}{rng.randrange(10**6):06d}"
            spellings += [f"+254{digits}", f"254{digits}", f"0{digits}", f"+2540{digits}"]
    spellings += [f"+254{rng.randrange(10**8):08d}" for _ in range(200)]  # too short
    spellings += ["+254７12345678", "+254 712 345678", "+447911123456", "+12025550123", "+254"]
    wrong = [s for s in spellings if _our_verdict(s) != _library_verdict(s)]
    assert wrong == []
