"""Unguessable: match ids and seeds from a keyed BLAKE2b of a counter."""

from __future__ import annotations

import re

from netplay.server.unguessable import Unguessable


def test_blocks_never_repeat_and_depend_on_the_key() -> None:
    source = Unguessable()
    blocks = [source.block() for _ in range(10_000)]
    assert len(set(blocks)) == len(blocks) and all(len(b) == 16 for b in blocks)
    other = Unguessable()
    assert other.block() not in blocks  # another process's key: another stream


def test_the_same_key_gives_the_same_stream() -> None:
    key = bytes(range(32))
    assert [Unguessable(key).block() for _ in range(3)] == [Unguessable(key).block()] * 3
    a, b = Unguessable(key), Unguessable(key)
    assert [a.block() for _ in range(5)] == [b.block() for _ in range(5)]


def test_a_match_gets_a_public_id_and_a_63_bit_seed() -> None:
    source = Unguessable()
    matches = [source.match() for _ in range(2_000)]
    ids, seeds = [m[0] for m in matches], [m[1] for m in matches]
    assert all(re.fullmatch(r"m-[0-9a-f]{16}", i) for i in ids) and len(set(ids)) == len(ids)
    assert all(0 <= s < 2**63 for s in seeds) and len(set(seeds)) == len(seeds)
    assert max(seeds) > 2**62  # the top bit is used, so seeds are not small numbers
    assert all(int(i[2:], 16) != s for i, s in matches)  # the id does not give the seed away
