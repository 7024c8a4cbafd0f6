"""Human-friendly codes: exclusion references and BSTs (screening tokens).

Both use a 30-character alphabet with no look-alikes (no ``0 O 1 I L``) and no
``U`` (as in Crockford's base32), and end in a Luhn mod N check character
(Luhn's algorithm generalised to N=30; the doubling step is a permutation only
for an even N). It catches every single-character mistake and every swap of two
adjacent characters when a citizen reads a reference to the helpline.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
_N = len(ALPHABET)
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(body: str) -> str:
    """Luhn mod N check character for ``body`` (characters of :data:`ALPHABET`).

    Raises:
        KeyError: ``body`` holds a character outside the alphabet.
    """
    factor = 2
    total = 0
    for ch in reversed(body):
        addend = factor * _INDEX[ch]
        factor = 1 if factor == 2 else 2
        total += addend // _N + addend % _N
    return ALPHABET[(_N - total % _N) % _N]


def is_valid(code: str) -> bool:
    """True when ``code`` (dashes and case ignored) ends in its correct check character."""
    text = code.replace("-", "").upper()
    if len(text) < 2 or any(ch not in _INDEX for ch in text):
        return False
    return check_character(text[:-1]) == text[-1]


def _random_body(length: int) -> str:
    """``length`` uniformly random characters of :data:`ALPHABET`.

    One draw of ``secrets.randbelow(30**length)`` written in base 30: the same
    distribution as ``length`` calls of ``secrets.choice``, with one read of the
    system's random source instead of one per character (a code is made on every
    self-exclusion).
    """
    number = secrets.randbelow(_N**length)
    chars = []
    for _ in range(length):
        number, digit = divmod(number, _N)
        chars.append(ALPHABET[digit])
    return "".join(chars)


def new_reference() -> str:
    """A new exclusion reference: 7 random characters + check, shown as ``XXXX-XXXX``.

    30**7 (about 2.2e10) bodies; uniqueness is still enforced by the database.
    """
    body = _random_body(7)
    code = body + check_character(body)
    return f"{code[:4]}-{code[4:]}"


def new_bst() -> str:
    """A new BST (pseudonymous screening token): ``BST-`` + 7 random characters + check."""
    body = _random_body(7)
    return f"BST-{body}{check_character(body)}"
