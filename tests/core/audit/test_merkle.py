"""RFC 9162 hashing and proofs: the RFC 6962/9162 test vectors, and an independent verifier.

Vectors: the leaves, roots and proofs of transparency-dev/merkle's
``proof/verify_test.go`` (the reference Go implementation CT logs use).
"""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given, settings

from core.audit import merkle, witness
from tests.support import rfc9162

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]


def _hx(*hashes: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in hashes]


# (leaf index, tree size, path); the Go file numbers leaves from 1.
INCLUSION = [
    (
        0,
        8,
        _hx(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _hx(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, _hx("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _hx(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (0, 1, []),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        _hx(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _hx(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _hx(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _hx(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]


def store(leaves: list[bytes]) -> tuple[merkle.Frontier, dict[int, bytes], list[bytes]]:
    """Append ``leaves`` as the sequencer does: the frontier, the stored hashes, each root."""
    tree = merkle.Frontier()
    stored: dict[int, bytes] = {}
    roots = []
    for data in leaves:
        position = merkle.stored_index(0, tree.size)
        for offset, value in enumerate(tree.append(merkle.leaf_hash(data))):
            stored[position + offset] = value
        roots.append(tree.root())
    return tree, stored, roots


def test_roots_match_the_vectors_for_every_size() -> None:
    _, stored, roots = store(LEAVES)
    assert roots == ROOTS
    assert sorted(stored) == list(range(merkle.stored_count(8)))
    assert merkle.Frontier().root() == bytes.fromhex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_stored_positions_follow_go_tlog() -> None:
    # tlog.StoredHashIndex: leaf 0, leaf 1, node(1,0), leaf 2, leaf 3, node(1,1), node(2,0), ...
    order = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4)]
    assert [merkle.stored_index(*node) for node in order] == list(range(8))
    assert [merkle.stored_count(n) for n in range(9)] == [0, 1, 3, 4, 7, 8, 10, 11, 15]


def test_inclusion_proofs_match_the_vectors() -> None:
    _, stored, _ = store(LEAVES)
    for index, size, path in INCLUSION:
        proof = merkle.range_hashes(merkle.inclusion_ranges(index, size), stored)
        assert proof == path, (index, size)
        leaf = merkle.leaf_hash(LEAVES[index])
        assert rfc9162.verify_inclusion(index, size, leaf, proof, ROOTS[size - 1])


def test_consistency_proofs_match_the_vectors() -> None:
    _, stored, _ = store(LEAVES)
    for first, second, path in CONSISTENCY:
        proof = merkle.range_hashes(merkle.consistency_ranges(first, second), stored)
        assert proof == path, (first, second)
        roots = (ROOTS[first - 1], ROOTS[second - 1])
        assert rfc9162.verify_consistency(first, second, *roots, proof)
        assert witness.verify_consistency(first, second, *roots, proof)  # what operators run


def test_the_independent_verifier_rejects_corrupted_proofs() -> None:
    index, size, path = INCLUSION[1]
    leaf = merkle.leaf_hash(LEAVES[index])
    root = ROOTS[size - 1]
    flipped = [bytes([path[0][0] ^ 8]) + path[0][1:], *path[1:]]
    for args in (
        (index + 1, size, leaf, path, root),
        (index, size * 2, leaf, path, root),
        (index, size, leaf, flipped, root),
        (index, size, leaf, path[:-1], root),
        (index, size, leaf, [*path, root], root),
    ):
        assert not rfc9162.verify_inclusion(*args)
    first, second, proof = CONSISTENCY[2]
    roots = (ROOTS[first - 1], ROOTS[second - 1])
    for verify in (rfc9162.verify_consistency, witness.verify_consistency):
        assert not verify(first, second, roots[1], roots[0], proof)
        assert not verify(first, second, *roots, proof[:-1])
        assert not verify(first - 1, second, *roots, proof)
        assert not verify(first, second, *roots, [*proof, roots[0]])
        assert not verify(second, first, *roots, proof)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=1, max_value=70), data=st.data())
def test_every_proof_of_random_trees_verifies_independently(size: int, data: st.DataObject) -> None:
    leaves = [n.to_bytes(4, "big") for n in range(size)]
    _, stored, roots = store(leaves)
    assert roots[-1] == rfc9162.mth(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = merkle.range_hashes(merkle.inclusion_ranges(index, size), stored)
    assert rfc9162.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), proof, roots[-1])
    first = data.draw(st.integers(min_value=1, max_value=size))
    proof = merkle.range_hashes(merkle.consistency_ranges(first, size), stored)
    assert rfc9162.verify_consistency(first, size, roots[first - 1], roots[-1], proof)
    assert witness.verify_consistency(first, size, roots[first - 1], roots[-1], proof)
    # A frontier rebuilt from storage continues the same tree.
    nodes = merkle.Frontier.nodes(first)
    resumed = merkle.Frontier(first, [stored[merkle.stored_index(*node)] for node in nodes])
    assert resumed.root() == roots[first - 1]
