"""MSISDN and national ID normalisation."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from core.crypto import KeyRing
from core.errors import InvalidMsisdn, InvalidNationalId
from core.identity import normalise_msisdn, normalise_national_id
from core.models import IdentifierKind
from core.subjects import identifier, normalise


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


@pytest.mark.parametrize(
    ("kind", "raw", "normal"),
    [
        (IdentifierKind.NATIONAL_ID, "0123-4567", "1234567"),  # leading zeros dropped
        (IdentifierKind.NATIONAL_ID, "12.345.678", "12345678"),
        (IdentifierKind.MAISHA_NAMBA, "12 3456 7890", "1234567890"),
        (IdentifierKind.PASSPORT, "ak 012 3456", "AK0123456"),
        (IdentifierKind.PASSPORT, "A1234567", "A1234567"),
        (IdentifierKind.ALIEN_ID, "000123456", "123456"),
        (IdentifierKind.ALIEN_ID, "123/456/789", "123456789"),
    ],
)
def test_id_documents_are_normalised_by_their_rules(
    kind: IdentifierKind, raw: str, normal: str
) -> None:
    assert normalise(kind, raw) == normal


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (IdentifierKind.NATIONAL_ID, "1234567A"),  # a letter in a number
        (IdentifierKind.NATIONAL_ID, "00012345"),  # five digits once the zeros go
        (IdentifierKind.NATIONAL_ID, "１２３４５６７"),  # full-width digits
        (IdentifierKind.NATIONAL_ID, ""),
        (IdentifierKind.MAISHA_NAMBA, "12345678901"),
        (IdentifierKind.PASSPORT, "1234567A"),  # letters at the end
        (IdentifierKind.PASSPORT, "A12B4567"),  # a letter among the digits
        (IdentifierKind.PASSPORT, "ABC123456"),  # three letters
        (IdentifierKind.PASSPORT, "A12345"),
        (IdentifierKind.ALIEN_ID, "12345"),
        (IdentifierKind.ALIEN_ID, "12345678901"),
    ],
)
def test_a_mistyped_id_is_refused_with_a_reason(kind: IdentifierKind, raw: str) -> None:
    with pytest.raises(InvalidNationalId, match=r"\d to \d+ digits"):
        normalise(kind, raw)


def test_id_families_never_collide_and_maisha_namba_shares_the_national_id_index() -> None:
    keyring = KeyRing(encryption_keys=(("k1", b"k" * 32),), index_key=b"i" * 32)
    national = identifier(keyring, IdentifierKind.NATIONAL_ID, "12345678")
    maisha = identifier(keyring, IdentifierKind.MAISHA_NAMBA, "12345678")
    alien = identifier(keyring, IdentifierKind.ALIEN_ID, "12345678")
    assert national.bidx == maisha.bidx
    assert alien.bidx != national.bidx


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
            spellings += [f"0{digits[:3]} {digits[3:]}", f"+254 {digits[:3]} {digits[3:]}"]
            spellings += [f"0{digits[:3]} {digits[3:6]} {digits[6:]}"]
    spellings += [f"+254{rng.randrange(10**8):08d}" for _ in range(200)]  # too short
    spellings += ["+254７12345678", "+254 712 345678", "+447911123456", "+12025550123", "+254"]
    spellings += ["0７12345678", "0712 345678", "07123456789", "071234567", "0" * 10, "00712345678"]
    spellings += [
        "+ 254712345678",
        "0 712345678",
        "07 12 34 56 78",
        "0712  345678",
        "254 712 345678",
    ]
    spellings += [
        "0712 34567",
        "0712 3456789",
        "+254 0712 345678",
        "0712\u00a0345678",
        "0 7 1 2 3 4 5 6 7 8",
    ]
    wrong = [s for s in spellings if _our_verdict(s) != _library_verdict(s)]
    assert wrong == []
