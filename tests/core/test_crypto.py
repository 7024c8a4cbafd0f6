"""AES-256-GCM sealing with key rotation, and HMAC-SHA256 blind indexes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest

from core.crypto import KeyRing
from core.errors import ConfigurationError, IntegrityFailure
from core.keys import load_keyring, parse_encryption_keys
from core.settings import Settings

OLD = ("k1", b"\x01" * 32)
NEW = ("k2", b"\x02" * 32)
INDEX = b"\x03" * 32


def test_seal_round_trips_and_never_repeats() -> None:
    ring = KeyRing(encryption_keys=(OLD,), index_key=INDEX)
    first = ring.seal("+254712345678", field="subject.msisdn")
    second = ring.seal("+254712345678", field="subject.msisdn")
    assert first != second  # fresh nonce each time
    assert b"712345678" not in first
    assert ring.open(first, field="subject.msisdn") == "+254712345678"


def test_ciphertext_is_bound_to_its_column() -> None:
    ring = KeyRing(encryption_keys=(OLD,), index_key=INDEX)
    sealed = ring.seal("12345678", field="subject.national_id")
    with pytest.raises(IntegrityFailure, match="does not verify"):
        ring.open(sealed, field="subject.msisdn")


def test_rotation_reads_old_values_and_writes_with_the_new_key() -> None:
    before = KeyRing(encryption_keys=(OLD,), index_key=INDEX)
    after = KeyRing(encryption_keys=(NEW, OLD), index_key=INDEX)
    old_value = before.seal("+254712345678", field="f")
    assert after.open(old_value, field="f") == "+254712345678"
    new_value = after.seal("+254712345678", field="f")
    assert after.active_key_id == "k2"
    with pytest.raises(IntegrityFailure, match="unknown key id 'k2'"):
        before.open(new_value, field="f")


def test_tampered_ciphertext_is_refused() -> None:
    ring = KeyRing(encryption_keys=(OLD,), index_key=INDEX)
    sealed = bytearray(ring.seal("+254712345678", field="f"))
    sealed[-1] ^= 1
    with pytest.raises(IntegrityFailure):
        ring.open(bytes(sealed), field="f")


def test_blind_index_is_deterministic_and_separated_by_field() -> None:
    ring = KeyRing(encryption_keys=(OLD,), index_key=INDEX)
    other = KeyRing(encryption_keys=(OLD,), index_key=b"\x04" * 32)
    value = ring.blind_index("+254712345678", field="subject.msisdn")
    assert value == ring.blind_index("+254712345678", field="subject.msisdn")
    assert len(value) == 64
    assert value != ring.blind_index("+254712345678", field="subject.national_id")
    assert value != other.blind_index("+254712345678", field="subject.msisdn")


def test_blind_index_is_the_documented_hmac_every_time() -> None:
    # HMAC-SHA256 of field || 0x00 || value under the index key, on every call of one ring.
    ring = KeyRing(encryption_keys=(OLD,), index_key=INDEX)
    for field, value in [("subject.msisdn", "+254712345678"), ("subject.national_id", "12345678")]:
        expected = hmac.new(INDEX, field.encode() + b"\x00" + value.encode(), hashlib.sha256)
        assert ring.blind_index(value, field=field) == expected.hexdigest()
        assert ring.blind_index(value, field=field) == expected.hexdigest()


@pytest.mark.parametrize(
    ("keys", "index", "message"),
    [
        ((("k1", b"short"),), INDEX, "is not 32 bytes"),
        ((), INDEX, "has no encryption key"),
        ((("", b"\x01" * 32),), INDEX, "bad encryption key id"),
        ((OLD,), b"short", "index key is not 32 bytes"),
    ],
)
def test_bad_key_material_is_refused(
    keys: tuple[tuple[str, bytes], ...], index: bytes, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        KeyRing(encryption_keys=keys, index_key=index)


def test_development_key_file_is_created_once_with_mode_0600(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(env="development", data_dir=tmp_path / "data")
    first = load_keyring(settings)
    assert "generated development keys" in caplog.text
    mode = stat.S_IMODE(os.stat(settings.key_file).st_mode)
    assert mode == 0o600
    again = load_keyring(settings)
    assert again == first


def test_keys_from_settings() -> None:
    key = base64.b64encode(b"\x05" * 32).decode()
    settings = Settings(encryption_keys=f"new:{key},old:{key}", index_key=key)
    ring = load_keyring(settings)
    assert ring.active_key_id == "new"
    assert [key_id for key_id, _ in ring.encryption_keys] == ["new", "old"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"encryption_keys": "k1:AAAA"}, "set both"),
        ({"encryption_keys": "nocolon", "index_key": "AAAA"}, "id:base64key"),
        ({"encryption_keys": "k1:!!!", "index_key": "AAAA"}, "not valid base64"),
    ],
)
def test_malformed_key_settings_are_refused(changes: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_keyring(Settings(**changes))  # type: ignore[arg-type]
    assert parse_encryption_keys is not None


def test_production_refuses_missing_keys_and_placeholders() -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings(env="production", database_url="postgresql://db/nser", redis_url="redis://r")
    assert "missing NSER_ENCRYPTION_KEYS, NSER_INDEX_KEY" in str(refused.value)
    assert "placeholder NSER_HELPLINE_NAME, NSER_HELPLINE_NUMBER" in str(refused.value)
