"""Staff password hashing with Argon2id (``argon2-cffi``).

Argon2id won the Password Hashing Competition and is RFC 9106's first choice:
it is memory-hard, so each guess costs an attacker holding a stolen hash 64 MiB
of memory as well as time, which defeats GPU and ASIC farms in a way PBKDF2 or
bcrypt do not; the ``id`` variant also resists side channels. ``argon2-cffi``
wraps the reference C implementation and is the library the Python community
maintains for it. Parameters are RFC 9106's second recommended option
("low memory": t=3, m=64 MiB, p=4); they are stored inside each hash (PHC
string format), so raising them later only needs :func:`needs_rehash` at the next
sign-in.

Hashing takes tens of milliseconds of CPU, so the async wrappers run it in a
thread and never stall the event loop.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from core.errors import WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 128
_HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
#: Verified against when the username is unknown, so a miss costs what a hit costs.
_DECOY = _HASHER.hash("decoy password, never matches a real one")


def check_rules(password: str, *, username: str) -> None:
    """Refuse a password that breaks the rules (NIST SP 800-63B: length, not composition).

    Raises:
        WeakPassword: shorter than 12 or longer than 128 characters, or containing
            the username.
    """
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword(f"a password is {MIN_LENGTH} to {MAX_LENGTH} characters")
    if username.lower() in password.lower():
        raise WeakPassword("a password must not contain the username")


async def hash_password(password: str) -> str:
    """The Argon2id PHC string of ``password`` (about 100 ASCII characters)."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; ``None`` checks a decoy (always False)."""

    def check() -> bool:
        try:
            return _HASHER.verify(stored or _DECOY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made with other parameters than today's."""
    return _HASHER.check_needs_rehash(stored)
