"""What the pieces of one lookup cost in CPU, measured in process (µs per call).

Each piece of the lookup's path is timed alone over :data:`COUNT` distinct
numbers of :mod:`bench.population`, best of :data:`REPEAT` passes (the machine
is shared, so the minimum is the least disturbed):

- :func:`core.identity.normalise_msisdn` uncached, for E.164 and for national
  spellings, beside the library's full path (``parse``, ``is_valid_number``,
  ``number_type``, ``format_number``: what it cost before it skipped the parser
  for E.164 and the second validity check) and each of those steps alone;
- the same call answered from its cache;
- the HMAC-SHA256 blind index (:meth:`core.crypto.KeyRing.blind_index`);
- the request body read into :class:`api.schemas.Person` (pydantic) and the
  answer written with :func:`json.dumps`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence

import phonenumbers

from api.schemas import Person
from bench import population as pop
from core.crypto import KeyRing
from core.identity import DEFAULT_REGION, normalise_msisdn
from core.subjects import MSISDN_FIELD

COUNT = 20_000
REPEAT = 3


def _per_call(fn: Callable[[str], object], values: Sequence[str]) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        began = time.perf_counter()
        for v in values:
            fn(v)
        best = min(best, time.perf_counter() - began)
    return best / len(values) * 1e6


def _full(text: str) -> str:
    number = phonenumbers.parse(text, DEFAULT_REGION)
    phonenumbers.is_valid_number(number)
    phonenumbers.number_type(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def measure() -> list[tuple[str, float]]:
    """(piece, µs per call) for each piece of the module docstring."""
    numbers = [pop.msisdn(pop.STRANGERS + 20_000_000 + k) for k in range(COUNT)]
    parsed = {n: phonenumbers.parse(n, DEFAULT_REGION) for n in numbers}
    ring = KeyRing(encryption_keys=(("k", os.urandom(32)),), index_key=os.urandom(32))
    uncached = normalise_msisdn.__wrapped__
    bodies = {n: json.dumps({"msisdn": n}).encode() for n in numbers}
    national = [pop.national_form(n) for n in numbers]
    for n in numbers:
        normalise_msisdn(n)  # fill the cache for the "cached" row
    return [
        ("normalise_msisdn, uncached, E.164", _per_call(uncached, numbers)),
        ("normalise_msisdn, uncached, national (0712 345678)", _per_call(uncached, national)),
        ("phonenumbers: parse + is_valid + number_type + format", _per_call(_full, numbers)),
        ("  phonenumbers.parse", _per_call(lambda n: phonenumbers.parse(n, "KE"), numbers)),
        (
            "  phonenumbers.is_valid_number",
            _per_call(lambda n: phonenumbers.is_valid_number(parsed[n]), numbers),
        ),
        (
            "  phonenumbers.number_type",
            _per_call(lambda n: phonenumbers.number_type(parsed[n]), numbers),
        ),
        (
            "  phonenumbers.format_number (E.164)",
            _per_call(lambda n: phonenumbers.format_number(parsed[n], 0), numbers),
        ),
        ("normalise_msisdn, cached", _per_call(normalise_msisdn, numbers)),
        (
            "blind index (HMAC-SHA256)",
            _per_call(lambda n: ring.blind_index(n, field=MSISDN_FIELD), numbers),
        ),
        (
            "Person.model_validate_json",
            _per_call(lambda n: Person.model_validate_json(bodies[n]), numbers),
        ),
        ("json.dumps of the answer", _per_call(lambda n: json.dumps({"excluded": False}), numbers)),
    ]


def print_costs(rows: list[tuple[str, float]]) -> None:
    """The table."""
    print(f"\n== CPU per lookup piece, in process ({COUNT:,} distinct numbers, best of {REPEAT})")
    for name, micros in rows:
        print(f"{micros:8.2f} µs  {name}")
