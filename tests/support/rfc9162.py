"""An RFC 9162 verifier written from the RFC's text, independent of ``core.audit.merkle``.

Tests check the proofs the log serves with these functions, so a mistake in
the code that makes proofs cannot hide behind the same mistake in the code
that checks them. ``mth`` is the RFC's recursive definition (§2.1.1), slow and
obvious; the verifiers follow §2.1.3.2 and §2.1.4.2 step by step.
"""

from __future__ import annotations

import hashlib


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of the leaf *inputs* (not hashes), by the RFC's recursion."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _h(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, path: list[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: is ``leaf_hash`` leaf ``index`` of the tree of ``size`` with ``root``?"""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _h(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _h(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (``second``, ``second_root``) an extension of the first?"""
    if first == second:
        return first_root == second_root and not path
    if first == 0:
        return not path  # every tree extends the empty one
    if first > second or not path:
        return False
    if first & (first - 1) == 0:  # an exact power of two: the first root starts the path
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _h(b"\x01" + c + fr)
            sr = _h(b"\x01" + c + sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _h(b"\x01" + sr + c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
