"""C2SP signed notes with Ed25519, and the tlog-checkpoint text they carry.

Formats (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint; the
same as Go's ``golang.org/x/mod/sumdb/note``):

* A note is UTF-8 text ending in a newline, then a blank line, then one line
  per signature: ``— <key name> <base64(key hash ‖ signature)>``. The
  signature covers the text, final newline included.
* The key hash is the first 4 bytes of ``SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)``
  (0x01 is the Ed25519 algorithm byte).
* Verifier key: ``<name>+<key hash, 8 hex>+<base64(0x01 ‖ public key)>``;
  signer key: ``PRIVATE+KEY+<name>+<key hash>+<base64(0x01 ‖ 32-byte seed)>``.
* A checkpoint's text: the origin line (the log's name, here the key's name),
  the tree size in decimal, the base64 root hash, each on its own line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core.errors import NSERError

ED25519 = b"\x01"
_NAME = re.compile(r"[^\s+]+")
_SIGNATURE_LINE = re.compile(r"— (\S+) ([A-Za-z0-9+/=]+)")


class NoteError(NSERError):
    """A malformed key, note or checkpoint, or a signature that does not verify."""


def key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte key hash that names ``public_key`` (raw, 32 bytes) in signature lines."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what} is not valid base64") from exc


def _key_parts(name: str, hash_hex: str, encoded: str, what: str) -> bytes:
    """The raw key after checking the name, the algorithm byte and (later) the hash."""
    if not _NAME.fullmatch(name):
        raise NoteError(f"{what}: the key name must be non-empty, without spaces or '+'")
    raw = _b64(encoded, what)
    if len(raw) != 33 or raw[:1] != ED25519 or not re.fullmatch(r"[0-9a-f]{8}", hash_hex):
        raise NoteError(f"{what} is not an Ed25519 note key")
    return raw[1:]


@dataclass(frozen=True)
class NoteVerifier:
    """Checks one key's signature on notes (a verifier key, e.g. from ``nser audit public-key``)."""

    name: str
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """Read ``<name>+<hash>+<base64 key>``.

        Raises:
            NoteError: malformed, or the hash does not match the name and key.
        """
        name, _, rest = vkey.strip().partition("+")
        hash_hex, _, encoded = rest.partition("+")
        public_key = _key_parts(name, hash_hex, encoded, "verifier key")
        if key_hash(name, public_key).hex() != hash_hex:
            raise NoteError("verifier key: the key hash does not match the name and key")
        return cls(name, public_key)

    @property
    def key_id(self) -> bytes:
        """The 4-byte key hash."""
        return key_hash(self.name, self.public_key)

    def encode(self) -> str:
        """The verifier key string (C2SP ``vkey``)."""
        encoded = base64.b64encode(ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def open(self, note: str) -> str:
        """The text of ``note`` if one of its signatures is this key's and verifies.

        Raises:
            NoteError: malformed note, or no valid signature by this key.
        """
        text, separator, block = note.rpartition("\n\n")
        if not separator or not block.endswith("\n"):
            raise NoteError("not a signed note (no blank line before the signatures)")
        text += "\n"
        public = Ed25519PublicKey.from_public_bytes(self.public_key)
        for line in block[:-1].split("\n"):
            match = _SIGNATURE_LINE.fullmatch(line)
            if match is None:
                raise NoteError("not a signed note (malformed signature line)")
            blob = _b64(match[2], "signature")
            if match[1] != self.name or blob[:4] != self.key_id:
                continue
            try:
                public.verify(blob[4:], text.encode())
            except InvalidSignature as exc:
                raise NoteError(f"the signature by {self.name} does not verify") from exc
            return text
        raise NoteError(f"the note has no signature by {self.name}")


@dataclass(frozen=True)
class NoteSigner:
    """Signs notes with one Ed25519 key under ``name`` (``NSER_AUDIT_SIGNING_KEY``)."""

    name: str
    seed: bytes

    @classmethod
    def parse(cls, skey: str) -> NoteSigner:
        """Read ``PRIVATE+KEY+<name>+<hash>+<base64 seed>``.

        Raises:
            NoteError: malformed, or the hash does not match the name and key.
        """
        prefix, _, rest = skey.strip().partition("+KEY+")
        name, _, rest = rest.partition("+")
        hash_hex, _, encoded = rest.partition("+")
        if prefix != "PRIVATE":
            raise NoteError("signing key must start with PRIVATE+KEY+")
        signer = cls(name, _key_parts(name, hash_hex, encoded, "signing key"))
        if signer.verifier.key_id.hex() != hash_hex:
            raise NoteError("signing key: the key hash does not match the name and key")
        return signer

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A new random key named ``name`` (a schema-less URL, e.g. ``nser.example/audit``)."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        signer = cls(name, seed)
        _key_parts(name, "0" * 8, base64.b64encode(ED25519 + seed).decode(), "key name")
        return signer

    @property
    def verifier(self) -> NoteVerifier:
        """The matching verifier."""
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return NoteVerifier(self.name, public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def encode(self) -> str:
        """The signer key string (keep it secret)."""
        encoded = base64.b64encode(ED25519 + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    def sign(self, text: str) -> str:
        """``text`` (which must end in a newline) as a note signed by this key.

        Raises:
            NoteError: ``text`` is empty, does not end in a newline, or has a blank line.
        """
        if not text.endswith("\n") or "\n\n" in "\n" + text:
            raise NoteError("note text must be non-empty lines, each ending in a newline")
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(text.encode())
        blob = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n— {self.name} {blob}\n"


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint: the log ``origin``, its ``size`` (leaves) and ``root`` (32 bytes)."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The checkpoint's note text (three lines)."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint's text (extension lines after the third are ignored).

        Raises:
            NoteError: fewer than three lines, a bad size or a root that is not 32 bytes.
        """
        lines = text.split("\n")
        if len(lines) < 4 or not lines[0] or not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
            raise NoteError("not a checkpoint (origin, size and root hash lines expected)")
        root = _b64(lines[2], "checkpoint root hash")
        if len(root) != 32:
            raise NoteError("checkpoint root hash is not 32 bytes")
        return cls(lines[0], int(lines[1]), root)


def open_checkpoint(note: str, verifier: NoteVerifier) -> Checkpoint:
    """The checkpoint in a signed ``note``, if signed by ``verifier`` for its own origin.

    Raises:
        NoteError: bad signature, malformed checkpoint, or another log's origin.
    """
    checkpoint = Checkpoint.parse(verifier.open(note))
    if checkpoint.origin != verifier.name:
        raise NoteError(f"checkpoint of {checkpoint.origin!r}, not of {verifier.name!r}")
    return checkpoint
