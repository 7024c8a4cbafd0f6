"""Time-based one-time passwords (RFC 6238) for the staff's second factor (``pyotp``).

Codes are what every authenticator app makes by default: HMAC-SHA1, 6 digits,
30-second steps (RFC 6238 §4, §5.2). A code is accepted in its own step and one
step either side, to allow for clock drift; :func:`matching_step` returns which
step matched so the caller can refuse a code that was already used (§5.2: a
verifier must not accept the same code twice).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyotp
from pyotp.utils import strings_equal

STEP_SECONDS = 30
DIGITS = 6
ISSUER = "NSER"
#: 160-bit secrets (32 base32 characters), as RFC 4226 §4 recommends.
SECRET_CHARACTERS = 32

Digest = Callable[..., Any]


def new_secret() -> str:
    """A fresh random base32 secret of 160 bits."""
    return pyotp.random_base32(SECRET_CHARACTERS)


def provisioning_uri(secret: str, *, username: str) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app reads from a QR code."""
    return _totp(secret, DIGITS, hashlib.sha1).provisioning_uri(name=username, issuer_name=ISSUER)


def _totp(secret: str, digits: int, digest: Digest) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=digits, digest=digest, interval=STEP_SECONDS)


def step_of(at: datetime) -> int:
    """The RFC 6238 time step (``T``) that ``at`` falls in."""
    return int(at.timestamp()) // STEP_SECONDS


def code_at(
    secret: str, at: datetime, *, digits: int = DIGITS, digest: Digest = hashlib.sha1
) -> str:
    """The code for base32 ``secret`` at instant ``at``."""
    return _totp(secret, digits, digest).generate_otp(step_of(at))


def matching_step(secret: str, code: str, at: datetime, *, window: int = 1) -> int | None:
    """The time step within ``window`` steps of ``at`` whose code is ``code``, or ``None``.

    Compared in constant time; anything that is not exactly 6 digits never matches.
    """
    text = code.strip().replace(" ", "")
    if len(text) != DIGITS or not text.isdigit():
        return None
    totp = _totp(secret, DIGITS, hashlib.sha1)
    now = step_of(at)
    for step in range(now - window, now + window + 1):
        if strings_equal(totp.generate_otp(step), text):
            return step
    return None


def grouped(secret: str) -> str:
    """The secret in groups of four for typing by hand (``ABCD EFGH …``)."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
