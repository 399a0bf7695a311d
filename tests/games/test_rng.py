"""The server's random generator: output pinned for ever, ranges, fairness, permutations, streams."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplay.games.rng import ALGORITHM, Rng

# Golden values. Stored matches are replayed by feeding their actions again, and a match with dice
# or shuffles only replays to the same game if Rng gives the same numbers it gave when the match
# was played. These values were taken from the implementation that shipped with ALGORITHM
# "blake2b-splitmix64/1": they must NEVER change. A different generator needs a new ALGORITHM name
# (and the old one kept for old matches), not new numbers here.


def test_the_output_is_pinned() -> None:
    assert ALGORITHM == "blake2b-splitmix64/1"
    rng = Rng(0, 0)
    assert [rng.next64() for _ in range(3)] == [3911643164704372210, 11273492012968562417, 170069324454060284]
    dice = Rng(12345, 7)
    assert [dice.randint(1, 6) for _ in range(10)] == [5, 1, 4, 2, 3, 4, 3, 4, 1, 2]
    assert Rng(2**64 - 1, 2**64 - 1).next64() == 0x3E486AB3CC3AD959
    rng = Rng(42, 1)
    assert rng.random() == 0.2453486468651238
    assert rng.getrandbits(16) == 48897
    assert rng.randrange(10, 20) == 17
    assert rng.choice("abcdef") == "b"
    assert rng.shuffled(list(range(10))) == [3, 9, 8, 6, 0, 1, 4, 7, 2, 5]
    assert rng.sample(range(100), 3) == [11, 37, 43]


def test_the_generator_is_splitmix64() -> None:
    """Its steps match the published splitmix64 outputs (Vigna's reference code, state 0 and 1234567)."""
    for state, expected in [
        (0, [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]),
        (1234567, [6457827717110365317, 3203168211198807973]),
    ]:
        rng = Rng(0)
        rng._state = state  # the seed goes through BLAKE2b; set the state directly to check the steps
        assert [rng.next64() for _ in expected] == expected


def test_seeds_and_streams_are_taken_modulo_two_to_the_64() -> None:
    assert Rng(-1, 0).next64() == Rng(2**64 - 1, 0).next64()
    assert Rng(2**64 + 5, 2**64 + 1).next64() == Rng(5, 1).next64()


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_streams_of_a_seed_and_seeds_of_a_stream_differ(seed: int, stream: int) -> None:
    here = Rng(seed, stream).next64()
    assert here != Rng(seed, stream ^ 1).next64()
    assert here != Rng(seed ^ 1, stream).next64()
    if seed != stream:
        assert here != Rng(stream, seed).next64()  # (seed, stream) is not a set


@given(st.integers(0, 2**64 - 1), st.integers(-1000, 1000), st.integers(0, 1000))
def test_integers_stay_in_their_range(seed: int, low: int, width: int) -> None:
    rng = Rng(seed, 3)
    assert low <= rng.randint(low, low + width) <= low + width
    assert low <= rng.randrange(low, low + width + 1) < low + width + 1
    assert 0 <= rng.randrange(width + 1) <= width
    assert 0 <= rng.randbelow(width + 1) <= width
    assert 0 <= rng.getrandbits(7) < 128
    assert 0.0 <= rng.random() < 1.0


def test_both_ends_of_a_range_come_up() -> None:
    rng = Rng(1, 1)
    assert {rng.randint(1, 6) for _ in range(600)} == {1, 2, 3, 4, 5, 6}
    assert {rng.randrange(3) for _ in range(300)} == {0, 1, 2}
    assert rng.randint(4, 4) == 4 and rng.getrandbits(0) == 0
    assert {rng.getrandbits(64) >> 63 for _ in range(100)} == {0, 1}  # the top bit is random too


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda r: r.randint(2, 1), ValueError, r"empty range for randint\(2, 1\)"),
        (lambda r: r.randrange(5, 5), ValueError, r"empty range for randrange\(5, 5\)"),
        (lambda r: r.randrange(0), ValueError, "empty range"),
        (lambda r: r.randbelow(0), ValueError, "randbelow needs 0 < n"),
        (lambda r: r.randbelow(2**64 + 1), ValueError, "randbelow needs"),
        (lambda r: r.getrandbits(65), ValueError, "0 to 64 bits"),
        (lambda r: r.choice([]), IndexError, "empty sequence"),
        (lambda r: r.sample([1, 2], 3), ValueError, "sample larger than the population"),
    ],
)
def test_impossible_requests_raise(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call(Rng(0))  # type: ignore[operator]


def test_small_ranges_are_fair() -> None:
    """A loose chi-square check of a die: 60,000 rolls, 5 degrees of freedom (p = 1e-6 is at 35.9)."""
    rng = Rng(7, 0)
    n = 60_000
    counts = Counter(rng.randint(1, 6) for _ in range(n))
    chi2 = sum((counts[face] - n / 6) ** 2 / (n / 6) for face in range(1, 7))
    assert chi2 < 36, counts


def test_large_ranges_have_no_modulo_bias() -> None:
    """For n = 3 * 2**62, ``next64() % n`` would put half the draws below 2**62; a fair draw puts a third."""
    rng = Rng(8, 0)
    n = 3 * 2**62
    draws = [rng.randbelow(n) for _ in range(3000)]
    low = sum(d < 2**62 for d in draws) / len(draws)
    assert 0.30 < low < 0.37, low
    assert max(draws) >= 2**63  # the top third is reached


@given(st.integers(0, 2**64 - 1), st.lists(st.integers(), max_size=40))
def test_shuffle_is_a_permutation(seed: int, items: list[int]) -> None:
    rng = Rng(seed)
    copy = list(items)
    rng.shuffle(copy)
    assert sorted(copy) == sorted(items)
    shuffled = rng.shuffled(items)
    assert sorted(shuffled) == sorted(items)
    picked = rng.sample(list(range(len(items))), len(items) // 2)
    assert len(set(picked)) == len(picked) == len(items) // 2


def test_every_order_of_a_shuffle_is_about_as_likely() -> None:
    rng = Rng(9)
    counts = Counter(tuple(rng.shuffled("abc")) for _ in range(6000))
    assert len(counts) == 6
    assert all(850 < c < 1150 for c in counts.values()), counts


def test_shuffled_leaves_its_argument_alone() -> None:
    items = [1, 2, 3, 4, 5]
    Rng(3).shuffled(items)
    assert items == [1, 2, 3, 4, 5]


def test_repr_hides_the_state() -> None:
    rng = Rng(123, 4)
    rng.next64()  # the state is derived at the first draw
    state = rng._state
    assert state is not None
    assert repr(rng) == str(rng) == "<Rng>"
    assert str(state) not in repr(rng) and hex(state) not in repr(rng)
    assert not hasattr(rng, "__dict__")  # slots: no stray attributes to leak either
