"""RFC 9162 Merkle tree hashing over a store of *stored hashes* (the Go ``tlog`` layout).

Hashing (RFC 9162 §2.1.1): a leaf is ``SHA-256(0x00 ‖ data)``, an interior
node ``SHA-256(0x01 ‖ left ‖ right)``, the empty tree ``SHA-256()``; a tree of
``n > 1`` leaves splits at ``k``, the largest power of two below ``n``.

Storage: every leaf hash and every hash of a *complete* subtree (2^level
leaves starting at ``index * 2^level``) is kept once, at position
:func:`stored_index` ``(level, index)``, the numbering Go's
``golang.org/x/mod/sumdb/tlog`` uses. Appending leaf ``n`` writes its hash and
then the hashes of the subtrees it completes, at consecutive positions, so
the store only ever grows at its end. Any root, inclusion proof or
consistency proof needs O(log n) stored hashes (:func:`perfect_parts` of a
few ranges), never the whole log.

Pure functions only: no I/O. The database side is :mod:`core.audit.sequencer`
(appending) and :mod:`core.audit.proofs` (reading).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

HASH_SIZE = 32
#: Root hash of the empty tree (RFC 9162 §2.1.1: the hash of an empty string).
EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]
"""A half-open range of leaf indexes ``[start, end)``."""
Node = tuple[int, int]
"""A complete subtree: ``(level, index)`` covers leaves ``[index·2^level, (index+1)·2^level)``."""


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 ‖ data)``: the hash of one leaf (32 bytes)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)``: the hash of an interior node (32 bytes)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def stored_index(level: int, index: int) -> int:
    """Position of complete subtree ``(level, index)`` in the stored-hash sequence.

    Leaf ``n`` is at ``n + n//2 + n//4 + …``; level ``L``'s ``n``-th hash comes
    right after level ``L-1``'s ``(2n+1)``-th (as Go's ``tlog.StoredHashIndex``).
    """
    n = index
    for _ in range(level):
        n = 2 * n + 1
    position = 0
    while n:
        position += n
        n >>= 1
    return position + level


def stored_count(size: int) -> int:
    """How many hashes a tree of ``size`` leaves stores: ``2·size − popcount(size)``."""
    return 2 * size - size.bit_count()


def _split(width: int) -> int:
    """The largest power of two strictly below ``width`` (``width ≥ 2``)."""
    return 1 << ((width - 1).bit_length() - 1)


def perfect_parts(start: int, end: int) -> list[Node]:
    """The complete subtrees whose right fold is the hash of leaves ``[start, end)``.

    Valid for the ranges RFC 9162's recursion produces (``start`` a multiple of
    the power of two at or above ``end − start``), which is every range a
    proof or root needs. Largest first.
    """
    parts = []
    for level in range((end - start).bit_length() - 1, -1, -1):
        if (end - start) >> level & 1:
            parts.append((level, start >> level))
            start += 1 << level
    return parts


def fold(hashes: list[bytes]) -> bytes:
    """Right fold of complete-subtree hashes, largest first: the hash of their union."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes form PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf to root.

    Raises:
        ValueError: ``index`` is not below ``size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ranges = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose hashes form PROOF(first, D[0:second]) (RFC 9162 §2.1.4.1).

    Empty when ``first`` is 0 or equals ``second`` (nothing to prove).

    Raises:
        ValueError: not ``0 ≤ first ≤ second``.
    """
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    if first in (0, second):
        return []
    ranges = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            m -= k
            start += k
            whole = False
    if not whole:
        ranges.append((start, end))
    return ranges[::-1]


def needed(ranges: Iterable[Range]) -> set[int]:
    """The stored-hash positions the hashes of ``ranges`` are folded from."""
    return {stored_index(*node) for lo, hi in ranges for node in perfect_parts(lo, hi)}


def range_hashes(ranges: Iterable[Range], stored: Mapping[int, bytes]) -> list[bytes]:
    """The hash of each range, from ``stored`` (position → hash; see :func:`needed`).

    Raises:
        KeyError: a needed stored hash is missing.
    """
    return [
        fold([stored[stored_index(*node)] for node in perfect_parts(lo, hi)]) for lo, hi in ranges
    ]


class Frontier:
    """The right edge of a tree: its complete subtrees, largest first; appends and roots.

    ``Frontier.of(size, hashes)`` rebuilds it from the stored hashes of
    :meth:`nodes` ``(size)``; :meth:`append` returns what to store.
    """

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        self.size = size
        self.hashes = hashes or []

    @staticmethod
    def nodes(size: int) -> list[Node]:
        """The complete subtrees a tree of ``size`` leaves is made of, largest first."""
        return perfect_parts(0, size)

    def append(self, leaf: bytes) -> list[bytes]:
        """Add a leaf hash; returns the hashes to store next, in stored order.

        The first is ``leaf`` itself, at :func:`stored_index` ``(0, size)``; the
        others are the subtrees it completes, at the following positions.
        """
        new = [leaf]
        current = leaf
        index = self.size
        while index & 1:
            current = node_hash(self.hashes.pop(), current)
            new.append(current)
            index >>= 1
        self.hashes.append(current)
        self.size += 1
        return new

    def root(self) -> bytes:
        """The root hash of the tree so far (:data:`EMPTY_ROOT` when empty)."""
        return fold(self.hashes)
