"""Unguessable identifiers and seeds, made without a system call each.

``secrets`` reads the kernel's generator on every call; starting a match needs a seed and an id, and
two system calls cost as much as the rest of starting it. A keyed BLAKE2b of a counter, with a key
read once from ``os.urandom``, is as unpredictable to anyone without the key (BLAKE2b is a PRF) and
runs in user space.
"""

from __future__ import annotations

import hashlib
import os

__all__ = ["Unguessable"]


class Unguessable:
    """A stream of unpredictable 16-byte blocks: BLAKE2b, keyed once per process, of a counter."""

    __slots__ = ("_count", "_key")

    def __init__(self, key: bytes | None = None) -> None:
        self._key = os.urandom(32) if key is None else key
        self._count = 0

    def block(self) -> bytes:
        """16 bytes nobody can predict from the blocks before them."""
        self._count += 1
        return hashlib.blake2b(self._count.to_bytes(8, "little"), key=self._key, digest_size=16).digest()

    def match(self) -> tuple[str, int]:
        """A match id (``m-`` and 16 hex digits, public) and a 63-bit seed (secret), independent."""
        block = self.block()
        return f"m-{block[:8].hex()}", int.from_bytes(block[8:], "little") >> 1
