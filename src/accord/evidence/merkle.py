"""A case log as a Merkle tree in the manner of RFC 9162 §2.1 (Certificate Transparency v2).

The leaves are the case's event hashes in `seq` order (the 32 bytes each hex `CaseEvent.hash`
names), so an erasure, which keeps every event hash, keeps every tree head too. A tree head
commits to the whole log up to its size; an inclusion proof shows one event is in it without
revealing the others; a consistency proof shows a later head extends an earlier one (the log was
only appended to). Pure functions, no I/O: an offline verifier can carry this file alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """A proof was asked for, or checked, with sizes or indices that make no sense."""


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of one entry, SHA-256(0x00 || leaf)."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of an interior node, SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 9162 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def _root(leaf_hashes: Sequence[bytes]) -> bytes:
    n = len(leaf_hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(_root(leaf_hashes[:k]), _root(leaf_hashes[k:]))


def _check_leaves(leaves: Sequence[bytes]) -> None:
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, bytes):
            raise ProofError(f"leaf {i} is {type(leaf).__name__}, not bytes")


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1 over the entries `leaves` (not yet leaf-hashed)."""
    _check_leaves(leaves)
    return _root([leaf_hash(leaf) for leaf in leaves])


def _path(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    n = len(leaf_hashes)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, leaf_hashes[:k]), _root(leaf_hashes[k:])]
    return [*_path(m - k, leaf_hashes[k:]), _root(leaf_hashes[:k])]


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path of entry `index` in the tree of
    `leaves`, nearest sibling first."""
    _check_leaves(leaves)
    if not 0 <= index < len(leaves):
        raise ProofError(f"entry {index} is not in a tree of {len(leaves)} entries")
    return _path(index, [leaf_hash(leaf) for leaf in leaves])


def _subproof(m: int, leaf_hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaf_hashes)
    if m == n:
        return [] if whole else [_root(leaf_hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaf_hashes[:k], whole), _root(leaf_hashes[k:])]
    return [*_subproof(m - k, leaf_hashes[k:], False), _root(leaf_hashes[:k])]


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1: that the tree of the first `first` entries is a
    prefix of the tree of all `leaves`. Empty when first is 0 or the whole tree."""
    _check_leaves(leaves)
    if not 0 <= first <= len(leaves):
        raise ProofError(f"a tree of {len(leaves)} entries has no earlier size {first}")
    if first == 0:
        return []
    return _subproof(first, [leaf_hash(leaf) for leaf in leaves], True)


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"{name} is not a {HASH_SIZE}-byte SHA-256 hash")


def root_from_inclusion_proof(
    index: int, size: int, entry_hash: bytes, proof: Sequence[bytes]
) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root the audit path `proof` leads to from the leaf hash
    `entry_hash` at `index` in a tree of `size`, or None when the path has the wrong shape."""
    if not 0 <= index < size:
        raise ProofError(f"entry {index} is not in a tree of {size} entries")
    _check_hash("the entry's leaf hash", entry_hash)
    for i, p in enumerate(proof):
        _check_hash(f"proof element {i}", p)
    fn, sn, r = index, size - 1, entry_hash
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, entry: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether `proof` shows the entry `entry` (not leaf-hashed) at `index` in the tree of
    `size` whose head is `root` (RFC 9162 §2.1.3.2)."""
    _check_hash("the root", root)
    return root_from_inclusion_proof(index, size, leaf_hash(entry), proof) == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: whether `proof` shows the tree of `second` entries with head
    `second_root` extends the tree of `first` entries with head `first_root`."""
    if not 0 <= first <= second:
        raise ProofError(f"a tree of {second} entries has no earlier size {first}")
    _check_hash("the first root", first_root)
    _check_hash("the second root", second_root)
    for i, c in enumerate(proof):
        _check_hash(f"proof element {i}", c)
    if first == 0:
        # Every tree extends the empty one; a proof that claims more is not this proof.
        return not proof
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def event_leaves(event_hashes: Sequence[str]) -> list[bytes]:
    """The tree's entries for a case log: each event's hash, hex as stored, as its 32 bytes."""
    leaves: list[bytes] = []
    for seq, value in enumerate(event_hashes, start=1):
        try:
            leaf = bytes.fromhex(value)
        except (TypeError, ValueError):
            raise ProofError(f"event {seq}'s hash {value!r} is not hexadecimal") from None
        if len(leaf) != HASH_SIZE:
            raise ProofError(f"event {seq}'s hash is {len(leaf)} bytes, not {HASH_SIZE}")
        leaves.append(leaf)
    return leaves
