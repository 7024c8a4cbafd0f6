"""TOTP against RFC 6238 Appendix B, and the acceptance window."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import totp

SEEDS: dict[str, tuple[bytes, Callable[..., Any]]] = {
    "SHA1": (b"12345678901234567890", hashlib.sha1),
    "SHA256": (b"12345678901234567890123456789012", hashlib.sha256),
    "SHA512": (b"1234567890123456789012345678901234567890123456789012345678901234", hashlib.sha512),
}
# RFC 6238 Appendix B: (Unix time, mode, 8-digit TOTP).
VECTORS = [
    (59, "SHA1", "94287082"),
    (59, "SHA256", "46119246"),
    (59, "SHA512", "90693936"),
    (1111111109, "SHA1", "07081804"),
    (1111111109, "SHA256", "68084774"),
    (1111111109, "SHA512", "25091201"),
    (1111111111, "SHA1", "14050471"),
    (1111111111, "SHA256", "67062674"),
    (1111111111, "SHA512", "99943326"),
    (1234567890, "SHA1", "89005924"),
    (1234567890, "SHA256", "91819424"),
    (1234567890, "SHA512", "93441116"),
    (2000000000, "SHA1", "69279037"),
    (2000000000, "SHA256", "90698825"),
    (2000000000, "SHA512", "38618901"),
    (20000000000, "SHA1", "65353130"),
    (20000000000, "SHA256", "77737706"),
    (20000000000, "SHA512", "47863826"),
]


@pytest.mark.parametrize(("unix", "mode", "expected"), VECTORS)
def test_rfc_6238_appendix_b(unix: int, mode: str, expected: str) -> None:
    seed, digest = SEEDS[mode]
    secret = base64.b32encode(seed).decode()
    at = datetime.fromtimestamp(unix, tz=UTC)
    assert totp.code_at(secret, at, digits=8, digest=digest) == expected


def test_a_code_matches_its_step_and_one_either_side_only() -> None:
    secret = totp.new_secret()
    at = datetime(2026, 11, 21, 9, 0, 15, tzinfo=UTC)
    code = totp.code_at(secret, at)
    step = totp.step_of(at)
    assert totp.matching_step(secret, code, at) == step
    assert totp.matching_step(secret, code, at + timedelta(seconds=30)) == step
    assert totp.matching_step(secret, code, at - timedelta(seconds=30)) == step
    assert totp.matching_step(secret, code, at + timedelta(seconds=60)) is None
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]} ", at) == step  # typed with spaces
    for wrong in ("", "12345", "1234567", "abcdef"):
        assert totp.matching_step(secret, wrong, at) is None


def test_secrets_are_160_bits_and_the_uri_names_issuer_and_user() -> None:
    secret = totp.new_secret()
    assert len(base64.b32decode(secret)) == 20
    uri = totp.provisioning_uri(secret, username="olive")
    assert uri == f"otpauth://totp/NSER:olive?secret={secret}&issuer=NSER"
    assert totp.grouped("ABCDEFGHIJKL") == "ABCD EFGH IJKL"
