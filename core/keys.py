"""Where key material comes from: settings, or a development key file.

In production ``NSER_ENCRYPTION_KEYS``, ``NSER_INDEX_KEY`` and
``NSER_AUDIT_SIGNING_KEY`` must be set (:class:`core.settings.Settings`
refuses to start otherwise). On a developer machine with none set, a key file
is generated once under ``NSER_DATA_DIR`` with mode 0600 and reused on every
later start (a key file from before the audit signing key gets one added); the
data dir is git-ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import secrets
from typing import Any

from core.audit.notes import NoteError, NoteSigner
from core.crypto import KEY_BYTES, KeyRing
from core.errors import ConfigurationError
from core.settings import Settings

log = logging.getLogger(__name__)

#: The name (checkpoint origin) of development audit signing keys.
DEVELOPMENT_ORIGIN = "localhost/nser-audit"


def _decode_key(text: str, *, name: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"{name} is not valid base64") from exc


def parse_encryption_keys(text: str) -> tuple[tuple[str, bytes], ...]:
    """Parse ``'k2:BASE64,k1:BASE64'`` into ``(("k2", key), ("k1", key))``; first is active.

    Raises:
        ConfigurationError: an entry has no ``id:`` prefix or its key is not base64.
    """
    ring = []
    for entry in text.split(","):
        key_id, sep, encoded = entry.strip().partition(":")
        if not sep:
            raise ConfigurationError("NSER_ENCRYPTION_KEYS entries must look like 'id:base64key'")
        ring.append((key_id, _decode_key(encoded, name=f"encryption key {key_id!r}")))
    return tuple(ring)


def load_keyring(settings: Settings) -> KeyRing:
    """Build the key ring from settings, or from (a new) development key file.

    Raises:
        ConfigurationError: only one of the two key settings is set, a key is
            malformed, or keys are missing in production.
    """
    enc, idx = settings.encryption_keys, settings.index_key
    if enc is not None and idx is not None:
        return KeyRing(
            encryption_keys=parse_encryption_keys(enc.get_secret_value()),
            index_key=_decode_key(idx.get_secret_value(), name="NSER_INDEX_KEY"),
        )
    if enc is not None or idx is not None:
        raise ConfigurationError("set both NSER_ENCRYPTION_KEYS and NSER_INDEX_KEY, or neither")
    if settings.env == "production":
        raise ConfigurationError(
            "NSER_ENCRYPTION_KEYS and NSER_INDEX_KEY are required in production"
        )
    return _development_keyring(settings)


def load_audit_signer(settings: Settings) -> NoteSigner:
    """The audit checkpoints' signer: ``NSER_AUDIT_SIGNING_KEY``, or the development key file's.

    Raises:
        ConfigurationError: the key is malformed, or missing in production.
    """
    configured = settings.audit_signing_key
    if configured is None and settings.env == "production":
        raise ConfigurationError("NSER_AUDIT_SIGNING_KEY is required in production")
    text = (
        configured.get_secret_value()
        if configured is not None
        else _development_material(settings)["audit_signing_key"]
    )
    try:
        return NoteSigner.parse(text)
    except NoteError as exc:
        raise ConfigurationError(f"NSER_AUDIT_SIGNING_KEY: {exc}") from exc


def _new_material() -> dict[str, Any]:
    return {
        "encryption_keys": {"dev1": base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()},
        "index_key": base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
        "audit_signing_key": NoteSigner.generate(DEVELOPMENT_ORIGIN).encode(),
    }


def _write_new(path: os.PathLike[str], material: dict[str, Any], *, replace: bool) -> None:
    """Write the key file with mode 0600 (atomically replacing an older one when ``replace``)."""
    target = os.fspath(path)
    temporary = target + ".new" if replace else target
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(material, handle, indent=2)
    if replace:
        os.replace(temporary, target)


def _development_material(settings: Settings) -> dict[str, Any]:
    path = settings.key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_new(path, _new_material(), replace=False)
        log.warning(
            "no NSER_ENCRYPTION_KEYS/NSER_INDEX_KEY/NSER_AUDIT_SIGNING_KEY set: generated "
            "development keys in %s (mode 0600, git-ignored); never use them in production",
            path,
        )
    data: dict[str, Any] = json.loads(path.read_text())
    if "audit_signing_key" not in data:
        data["audit_signing_key"] = _new_material()["audit_signing_key"]
        _write_new(path, data, replace=True)
        log.warning("added a development audit signing key to %s", path)
    return data


def _development_keyring(settings: Settings) -> KeyRing:
    data = _development_material(settings)
    return KeyRing(
        encryption_keys=tuple(
            (key_id, _decode_key(encoded, name=f"key file entry {key_id!r}"))
            for key_id, encoded in data["encryption_keys"].items()
        ),
        index_key=_decode_key(data["index_key"], name="key file index_key"),
    )
