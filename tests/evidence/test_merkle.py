"""The Merkle tree against the Certificate Transparency reference vectors (RFC 6962's test
data, unchanged in RFC 9162 §2.1), and every proof of every small tree both ways."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.evidence.merkle import (
    ProofError,
    consistency_proof,
    event_leaves,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

ENTRIES = [
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
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def test_tree_heads_match_the_reference_roots() -> None:
    for size in range(len(ENTRIES) + 1):
        assert root_hash(ENTRIES[:size]).hex() == ROOTS[size], size


def test_leaf_and_node_hashes_carry_their_prefixes() -> None:
    assert leaf_hash(b"").hex() == ROOTS[1]
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert root_hash([b"a", b"b"]) == hashlib.sha256(b"\x01" + a + b).digest()


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_reference(index: int, size: int, path: list[str]) -> None:
    proof = inclusion_proof(index, ENTRIES[:size])
    assert [p.hex() for p in proof] == path
    assert verify_inclusion(index, size, ENTRIES[index], proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_reference(first: int, second: int, path: list[str]) -> None:
    proof = consistency_proof(first, ENTRIES[:second])
    assert [p.hex() for p in proof] == path
    assert verify_consistency(
        first, second, bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second]), proof
    )


LEAVES = [hashlib.sha256(f"event {i}".encode()).digest() for i in range(64)]
HEADS = [root_hash(LEAVES[:n]) for n in range(65)]


def test_every_inclusion_proof_of_sizes_1_to_64_verifies() -> None:
    for size in range(1, 65):
        for index in range(size):
            proof = inclusion_proof(index, LEAVES[:size])
            assert verify_inclusion(index, size, LEAVES[index], proof, HEADS[size]), (index, size)
            assert not verify_inclusion(index, size, LEAVES[index], proof, HEADS[size - 1])
            if size > 1:
                other = (index + 1) % size
                assert not verify_inclusion(other, size, LEAVES[index], proof, HEADS[size])


def test_every_consistency_proof_of_sizes_1_to_64_verifies() -> None:
    for second in range(1, 65):
        for first in range(0, second + 1):
            proof = consistency_proof(first, LEAVES[:second])
            assert verify_consistency(first, second, HEADS[first], HEADS[second], proof), (
                first,
                second,
            )
            if 0 < first < second:
                # A head from a log that rewrote an entry is not consistent with the first.
                forked = [*LEAVES[: first - 1], b"rewritten", *LEAVES[first:second]]
                assert not verify_consistency(first, second, HEADS[first], root_hash(forked), proof)


def _flip(proof: list[bytes], element: int, byte: int, bit: int) -> list[bytes]:
    flipped = bytearray(proof[element])
    flipped[byte] ^= 1 << bit
    return [*proof[:element], bytes(flipped), *proof[element + 1 :]]


@settings(max_examples=400, deadline=None)
@given(
    size=st.integers(2, 64),
    data=st.data(),
)
def test_an_inclusion_proof_with_any_byte_flipped_fails(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, LEAVES[:size])
    element = data.draw(st.integers(0, len(proof) - 1))
    byte, bit = data.draw(st.integers(0, 31)), data.draw(st.integers(0, 7))
    assert not verify_inclusion(
        index, size, LEAVES[index], _flip(proof, element, byte, bit), HEADS[size]
    )
    root = _flip([HEADS[size]], 0, byte, bit)[0]
    assert not verify_inclusion(index, size, LEAVES[index], proof, root)
    assert not verify_inclusion(index, size, LEAVES[index], proof[:-1], HEADS[size])
    assert not verify_inclusion(index, size, LEAVES[index], [*proof, proof[-1]], HEADS[size])


@settings(max_examples=400, deadline=None)
@given(second=st.integers(2, 64), data=st.data())
def test_a_consistency_proof_with_any_byte_flipped_fails(second: int, data: st.DataObject) -> None:
    first = data.draw(st.integers(1, second - 1))
    proof = consistency_proof(first, LEAVES[:second])
    element = data.draw(st.integers(0, len(proof) - 1))
    byte, bit = data.draw(st.integers(0, 31)), data.draw(st.integers(0, 7))
    flipped = _flip(proof, element, byte, bit)
    assert not verify_consistency(first, second, HEADS[first], HEADS[second], flipped)
    bad_first = _flip([HEADS[first]], 0, byte, bit)[0]
    assert not verify_consistency(first, second, bad_first, HEADS[second], proof)
    bad_second = _flip([HEADS[second]], 0, byte, bit)[0]
    assert not verify_consistency(first, second, HEADS[first], bad_second, proof)
    assert not verify_consistency(first, second, HEADS[first], HEADS[second], proof[:-1])


def test_degenerate_consistency_cases() -> None:
    assert verify_consistency(4, 4, HEADS[4], HEADS[4], [])
    assert not verify_consistency(4, 4, HEADS[4], HEADS[5], [])
    assert not verify_consistency(4, 4, HEADS[4], HEADS[4], [HEADS[1]])
    assert verify_consistency(0, 8, HEADS[0], HEADS[8], [])
    assert not verify_consistency(0, 8, HEADS[0], HEADS[8], [HEADS[1]])
    assert not verify_consistency(3, 8, HEADS[3], HEADS[8], [])


def test_bad_sizes_and_hashes_are_named() -> None:
    with pytest.raises(ProofError, match="entry 8 is not in a tree of 8"):
        inclusion_proof(8, LEAVES[:8])
    with pytest.raises(ProofError, match="no earlier size 9"):
        consistency_proof(9, LEAVES[:8])
    with pytest.raises(ProofError, match="no earlier size 6"):
        verify_consistency(6, 5, HEADS[6], HEADS[5], [])
    with pytest.raises(ProofError, match="proof element 0 is not a 32-byte"):
        verify_inclusion(0, 2, LEAVES[0], [b"short"], HEADS[2])
    with pytest.raises(ProofError, match="the root is not a 32-byte"):
        verify_inclusion(0, 2, LEAVES[0], [LEAVES[1]], b"")


def test_event_hashes_become_leaves_and_bad_ones_are_named() -> None:
    assert event_leaves([LEAVES[0].hex()]) == [LEAVES[0]]
    with pytest.raises(ProofError, match="event 2's hash 'zz' is not hexadecimal"):
        event_leaves([LEAVES[0].hex(), "zz"])
    with pytest.raises(ProofError, match="event 1's hash is 2 bytes"):
        event_leaves(["abcd"])
