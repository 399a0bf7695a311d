"""A limit on wrong private-room codes, per connection and per address, so codes cannot be guessed.

Each address and each connection has a bucket of ``CODE_GUESSES`` wrong codes that refills at one
every ``60 / CODE_GUESSES_PER_MINUTE`` seconds. While a bucket is empty, every ``join_room`` with a
code from it is refused with ``rate_limited`` (saying how long to wait), the right code included, so
that guessing cannot go faster than the limit however many connections one address opens. With
8-character codes (``directory.CODE_LENGTH``), finding any one of 1,000 open private rooms at 10
wrong codes a minute takes 32^8 / 1,000 / 10 minutes: about 200 years.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..protocol import ErrorCode, ProtocolError

if TYPE_CHECKING:
    from .session import Session

__all__ = ["CODE_GUESSES", "CODE_GUESSES_PER_MINUTE", "CodeGuesses"]

#: Wrong codes an address (or a connection) may try in a row before it must wait.
CODE_GUESSES = 10
#: ... and how fast the allowance comes back.
CODE_GUESSES_PER_MINUTE = 10.0
_KEPT = 10_000  # addresses remembered at once; the oldest full buckets are forgotten first

log = logging.getLogger("netplay.server")


class CodeGuesses:
    """Token buckets of wrong codes, by address and by session id."""

    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        #: key -> (wrong codes still allowed, when that was counted)
        self._buckets: dict[str, tuple[float, float]] = {}

    def _left(self, key: str, now: float) -> float:
        allowance, at = self._buckets.get(key, (CODE_GUESSES, now))
        return min(CODE_GUESSES, allowance + (now - at) * CODE_GUESSES_PER_MINUTE / 60)

    def check(self, session: Session, now: float) -> None:
        """Refuse a code from ``session`` while its connection or its address has no guess left."""
        for key in _keys(session):
            left = self._left(key, now)
            if left < 1:
                wait = (1 - left) * 60 / CODE_GUESSES_PER_MINUTE
                where = "this connection" if key == session.id else "your address"
                raise ProtocolError(
                    ErrorCode.RATE_LIMITED, f"too many wrong codes from {where}: try again in {wait:.0f} s"
                )

    def failed(self, session: Session, now: float) -> None:
        """Count a wrong code against ``session``'s connection and its address."""
        for key in _keys(session):
            left = self._left(key, now) - 1
            self._buckets[key] = (left, now)
            if left < 1:  # once per bucket run dry; never the codes themselves
                peer = session.link.peer if session.link is not None else "?"
                where = "this connection" if key == session.id else "its address"
                log.info(
                    "%s at %s: too many wrong private-room codes from %s; its codes are refused for a while",
                    session.id, peer, where,
                    extra={"event": "refused", "player": session.id, "peer": peer, "reason": "wrong_codes",
                           "code": "rate_limited"},
                )  # fmt: skip
        if len(self._buckets) > _KEPT:  # forget buckets that have filled up again
            for key in [k for k in self._buckets if self._left(k, now) >= CODE_GUESSES]:
                del self._buckets[key]


def _keys(session: Session) -> tuple[str, ...]:
    link = session.link
    if link is None:
        return (session.id,)
    address = link.peer.rsplit(":", 1)[0]  # "203.0.113.5:51234", "::1:51234": the host part
    return (session.id, f"address {address}")
