"""Randomness the server owns: a small deterministic generator whose output netplay promises to keep.

Python's ``random`` module only promises stable output for ``random()``; ``randint``, ``shuffle`` and
``choice`` may change between Python versions, which would make a stored match replay differently
after an upgrade. ``Rng`` is splitmix64 (Steele, Lea and Flood, 2014) with unbiased integer
sampling by rejection, written here so that its output is pinned by netplay's own tests.

The engine makes one ``Rng`` per action from (match seed, action number), through BLAKE2b: the same
match replays to the same dice and shuffles, and what one action's numbers reveal (splitmix64 can be
run backwards) says nothing of the seed or of any other action's numbers. No state of the generator
is ever kept in a game's state or sent to a client.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableSequence, Sequence
from typing import Final, TypeVar

__all__ = ["ALGORITHM", "Rng"]

#: The name stored with every match: a replay refuses a match made by an algorithm it does not know.
ALGORITHM: Final = "blake2b-splitmix64/1"

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
T = TypeVar("T")


def _mix(z: int) -> int:
    """splitmix64's output function: a bijection of 64-bit words that scatters every bit."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class Rng:
    """A deterministic random source for game rules: ``randint``, ``choice``, ``shuffle`` and friends."""

    __slots__ = ("_seed", "_state", "_stream")

    def __init__(self, seed: int, stream: int = 0) -> None:
        """The generator for ``stream`` (the engine uses the action number) of the match ``seed``.
        Its state is derived at the first draw: a real-time game makes one a tick and most ticks
        draw nothing."""
        self._seed, self._stream = seed, stream
        self._state: int | None = None

    def next64(self) -> int:
        """The next 64 random bits, as an integer."""
        state = self._state
        if state is None:
            key = (self._seed & _MASK).to_bytes(8, "little") + (self._stream & _MASK).to_bytes(8, "little")
            state = int.from_bytes(
                hashlib.blake2b(key, digest_size=8, person=b"netplay-rng").digest(), "little"
            )
        self._state = state = (state + _GOLDEN) & _MASK
        return _mix(state)

    def getrandbits(self, k: int) -> int:
        """An integer of ``k`` random bits (0 <= k <= 64)."""
        if not 0 <= k <= 64:
            raise ValueError("getrandbits takes 0 to 64 bits")
        return self.next64() >> (64 - k) if k else 0

    def random(self) -> float:
        """A float in [0, 1) with 53 random bits."""
        return (self.next64() >> 11) * (1.0 / (1 << 53))

    def randbelow(self, n: int) -> int:
        """An integer in [0, n), every value equally likely (rejection sampling, no modulo bias)."""
        if not 0 < n <= 1 << 64:
            raise ValueError("randbelow needs 0 < n <= 2**64")
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            x = self.next64()
            if x < limit:
                return x % n

    def randint(self, a: int, b: int) -> int:
        """An integer in [a, b], both ends included (a die: ``randint(1, 6)``)."""
        if b < a:
            raise ValueError(f"empty range for randint({a}, {b})")
        return a + self.randbelow(b - a + 1)

    def randrange(self, start: int, stop: int | None = None) -> int:
        """An integer in [start, stop), or in [0, start) with one argument."""
        if stop is None:
            start, stop = 0, start
        if stop <= start:
            raise ValueError(f"empty range for randrange({start}, {stop})")
        return start + self.randbelow(stop - start)

    def choice(self, seq: Sequence[T]) -> T:
        """One element of a non-empty sequence."""
        if not seq:
            raise IndexError("choice from an empty sequence")
        return seq[self.randbelow(len(seq))]

    def shuffle(self, items: MutableSequence[T]) -> None:
        """Shuffle a list in place (Fisher-Yates). Shuffle a copy: a game's state is never mutated."""
        for i in range(len(items) - 1, 0, -1):
            j = self.randbelow(i + 1)
            items[i], items[j] = items[j], items[i]

    def shuffled(self, items: Sequence[T]) -> list[T]:
        """A shuffled copy of ``items``."""
        out = list(items)
        self.shuffle(out)
        return out

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        """``k`` distinct elements of ``items``, in random order."""
        if not 0 <= k <= len(items):
            raise ValueError("sample larger than the population")
        return self.shuffled(items)[:k]

    def __repr__(self) -> str:  # never show the state: it would predict every future roll
        return "<Rng>"
