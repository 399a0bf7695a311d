"""The byte-rate limit of TCP and WebSocket connections: a token bucket of bytes read, I/O-free.

A connection may send ``rate`` bytes per second on average and ``burst`` at once. Past that the
server does not refuse anything: it stops reading from the socket until the sender is back within
its rate, so TCP slows the sender down and every byte it sent is still read, in order.

How it stays off the hot path: the connection holds an *allowance*, a number of bytes it may read
before it must ask again, and each read costs one subtraction and one comparison (``allowance -=
len(data)``; ``if allowance < 0``). Only when the allowance runs out does it call ``settle`` with
what is left of it (negative: the last read overdrew it) and the time; ``settle`` charges what was
read to the bucket and hands out the next allowance, at most a quarter of the burst, or says how
long to stop reading.

``settle`` only knows how much was read since the last call, not when. It charges as if all of it
came at the end of that time, after the bucket had refilled (to at most ``burst``): never more
generous than an exact bucket, so in any span of T seconds a sender gets at most ``burst + rate*T``
bytes plus the one read that overdrew its allowance. Allowances of a quarter of the burst keep the
error of that guess small, so that a sender within its rate is never made to wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["NO_LIMIT", "ByteBudget", "ReadPacer"]

#: The allowance of a connection without a byte-rate limit: more than anyone sends.
NO_LIMIT = 1 << 62


class ByteBudget:
    """Token bucket of the bytes one connection sends: ``rate`` per second, ``burst`` at once.

    ``rate`` 0 (or less): no limit. Time is an argument, in seconds of any monotonic clock.
    """

    __slots__ = ("_granted", "_level", "_since", "burst", "chunk", "rate")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = float(rate)
        self.burst = max(int(burst), 1)
        #: The largest allowance handed out at once.
        self.chunk = max(self.burst // 4, 1)
        self._level = float(self.burst)  # tokens in the bucket at ``_since``, allowance included
        self._since = now
        self._granted = self.initial(rate, burst)  # the allowance last handed out

    @staticmethod
    def initial(rate: float, burst: int) -> int:
        """A new connection's allowance. Its bucket can wait until that runs out: made then, full,
        it settles exactly as one made at the start would (a full bucket gains nothing from time)."""
        if rate <= 0.0:
            return NO_LIMIT
        return max(int(burst) // 4, 1)

    def settle(self, left: int, now: float) -> tuple[int, float]:
        """Charge what was read of the last allowance (``left`` is what remains of it, negative if
        a read overdrew it) and return ``(allowance, 0.0)``, the bytes that may be read next, or
        ``(0, seconds)``: stop reading for that long, then ``settle(0, later)`` again."""
        rate = self.rate
        if rate <= 0.0:
            return NO_LIMIT, 0.0
        level = self._level + (now - self._since) * rate
        if level > self.burst:
            level = float(self.burst)
        level -= self._granted - left
        self._level = level
        self._since = now
        if level <= -1.0:  # in debt by a byte or more: wait until it is paid off
            self._granted = 0
            return 0, -level / rate
        granted = int(level) if level < self.chunk else self.chunk
        self._granted = granted = max(granted, 0)
        return granted, 0.0


class ReadPacer:
    """One connection's byte rate, as its transport lives it: when the read allowance it keeps
    inline runs out, ``overdrawn`` hands out the next one, or stops reading the transport for as
    long as the rate asks and calls ``then`` when that pause is over (the connection decides
    whether to read again: it may be waiting for other reasons). The bucket is made the first
    time it is needed; a connection makes its pacer only when its first allowance runs out (most
    never do), so an idle connection holds none."""

    __slots__ = ("_budget", "_burst", "_loop", "_rate", "_then", "timer")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, rate: float, burst: int, then: Callable[[], None]
    ) -> None:
        self._loop = loop
        self._rate = rate
        self._burst = burst
        self._then = then
        self._budget: ByteBudget | None = None
        #: While reading is paused for the rate: the timer that ends the pause.
        self.timer: asyncio.TimerHandle | None = None

    @property
    def paused(self) -> bool:
        return self.timer is not None

    def overdrawn(self, allowance: int, transport: asyncio.Transport | None) -> int:
        """The allowance ran out (``allowance`` is what is left of it, below 0 after a read that
        overdrew it): the next allowance, or 0 and a pause of the transport's reading."""
        if self.timer is not None:  # a read that came before the pause took effect: charged later
            return allowance
        now = self._loop.time()
        budget = self._budget
        if budget is None:
            budget = self._budget = ByteBudget(self._rate, self._burst, now)
        allowance, wait = budget.settle(allowance, now)
        if wait > 0.0:
            if transport is not None:
                transport.pause_reading()
            self.timer = self._loop.call_later(wait, self._ended)
        return allowance

    def _ended(self) -> None:
        self.timer = None
        self._then()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
