"""MSISDN and national ID normalisation."""

from __future__ import annotations

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
