"""A synthetic register: who subject ``i`` is, whether and how they are excluded.

Everything is a pure function of the subject's number ``i`` (0, 1, 2, …), so the
loader (:mod:`bench.loader`), the request bodies and the answer checks agree
without sharing a list of a million numbers:

- **MSISDN** (:func:`msisdn`): a bijection of ``i`` onto the Kenyan mobile
  number space ``+254`` + a prefix of :data:`PREFIXES` + 6 digits (109 million
  numbers, every one a valid mobile for ``phonenumbers``); subjects are
  ``0 <= i < N`` and any ``i >= N`` is a stranger the register has never seen
  (:data:`STRANGERS`, :data:`FRESH` and :data:`CUSTOMERS` are disjoint ranges of them).
- **Standing** (:func:`standing_of`): 4 % have an exclusion in force (periods
  6 months 30 %, 1 year 40 %, 5 years 20 %, permanent 10 %, begun at various
  past dates), 3 % a lapsed 6-month exclusion (status ``expired``), the rest
  none: people the register knows but who are not excluded, who must look
  exactly like strangers.
- **BST** and exclusion **reference**: distinct by construction (a bijection of
  ``i`` onto the code bodies of :mod:`core.codes`, with their check character).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.codes import ALPHABET, check_character
from core.periods import Period, ends_at

#: Kenyan mobile prefixes after +254 (Safaricom, Airtel, Telkom): every 7xx and 100–102, 110–115.
PREFIXES = tuple([*range(700, 800), *range(100, 103), *range(110, 116)])
SPACE = len(PREFIXES) * 1_000_000
_SPREAD = 48_271_337  # coprime with SPACE (2^6 * 5^6 * 109): i -> i * _SPREAD is a bijection
_OFFSET = 7_654_321
_CODE_SPACE = len(ALPHABET) ** 7
_BST_SPREAD, _REF_SPREAD = 1_234_567_891, 987_654_331  # coprime with 30

#: Never-loaded numbers: lookups of strangers, fresh exclusions, the bulk operator's customers.
STRANGERS = 50_000_000
FRESH = 60_000_000
CUSTOMERS = 70_000_000


class Kind(enum.StrEnum):
    """What the register holds for a subject."""

    NONE = "none"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Standing:
    """A subject's exclusion, if any: period, start and end (UTC; ``None`` end = permanent)."""

    kind: Kind
    period: Period | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


_ACTIVE_PERIODS = (
    (3, Period.SIX_MONTHS, 170),
    (7, Period.ONE_YEAR, 350),
    (9, Period.FIVE_YEARS, 1_000),
    (10, Period.PERMANENT, 1_500),
)


def msisdn(i: int) -> str:
    """The E.164 number of subject (or stranger) ``i`` (``0 <= i < SPACE``)."""
    p = (i * _SPREAD + _OFFSET) % SPACE
    return f"+254{PREFIXES[p // 1_000_000]}{p % 1_000_000:06d}"


def national_form(number: str) -> str:
    """``+254712345678`` as a Kenyan would type it: ``0712 345678``."""
    return f"0{number[4:7]} {number[7:]}"


def _code(n: int) -> str:
    digits = []
    for _ in range(7):
        n, r = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[r])
    body = "".join(digits)
    return body + check_character(body)


def bst(i: int) -> str:
    """Subject ``i``'s BST (``BST-`` + 8 characters), distinct for every ``i``."""
    return "BST-" + _code((i * _BST_SPREAD + 123_456_789) % _CODE_SPACE)


def reference(i: int) -> str:
    """The reference (``XXXX-XXXX``) of subject ``i``'s exclusion, distinct for every ``i``."""
    code = _code((i * _REF_SPREAD + 17) % _CODE_SPACE)
    return f"{code[:4]}-{code[4:]}"


def kind_of(i: int) -> Kind:
    """4 % :attr:`Kind.ACTIVE`, 3 % :attr:`Kind.EXPIRED`, the rest :attr:`Kind.NONE`."""
    bucket = (i * 7_919) % 100
    if bucket < 4:
        return Kind.ACTIVE
    if bucket < 7:
        return Kind.EXPIRED
    return Kind.NONE


def standing_of(i: int, now: datetime) -> Standing:
    """Subject ``i``'s exclusion as of the load time ``now`` (aware): in force, lapsed or none."""
    kind = kind_of(i)
    if kind is Kind.NONE:
        return Standing(kind)
    if kind is Kind.EXPIRED:
        start = now - timedelta(days=200 + i % 600, seconds=i % 86_400)
        return Standing(kind, Period.SIX_MONTHS, start, ends_at(Period.SIX_MONTHS, starts_at=start))
    tenth = (i // 100) % 10
    period, max_age = next((p, age) for limit, p, age in _ACTIVE_PERIODS if tenth < limit)
    start = now - timedelta(days=(i * 31) % max_age, seconds=i % 86_400)
    return Standing(kind, period, start, ends_at(period, starts_at=start))


def excluded(i: int, subjects: int) -> bool:
    """True when ``i`` is a loaded subject (``i < subjects``) with an exclusion in force."""
    return i < subjects and kind_of(i) is Kind.ACTIVE
