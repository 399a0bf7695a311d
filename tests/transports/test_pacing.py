"""The byte-rate bucket, fed reads and times by hand: no socket, no clock."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from netplay.transports.pacing import NO_LIMIT, ByteBudget, ReadPacer


def read(budget: ByteBudget, allowance: int, size: int, now: float) -> tuple[int, float]:
    """What a connection does on a read: subtract, and settle only when overdrawn."""
    allowance -= size
    if allowance < 0:
        return budget.settle(allowance, now)
    return allowance, 0.0


def test_no_limit_never_asks_to_wait() -> None:
    budget = ByteBudget(0, 1000, now=0.0)
    assert ByteBudget.initial(0, 1000) == NO_LIMIT
    assert budget.settle(-5, 1.0) == (NO_LIMIT, 0.0)


def test_a_burst_passes_then_the_sender_waits_for_its_rate() -> None:
    budget = ByteBudget(1000.0, 4000, now=0.0)
    allowance = ByteBudget.initial(budget.rate, budget.burst)
    assert allowance == 1000  # a quarter of the burst at a time
    taken = 0
    while True:
        allowance, wait = read(budget, allowance, 500, now=0.0)
        taken += 500
        if wait:
            break
    assert taken == 4500  # the burst, and the read that overdrew it
    assert wait == 0.5  # 500 bytes in debt at 1000 bytes/s
    assert budget.settle(0, 0.4)[1] > 0  # too early: wait more
    assert budget.settle(0, 0.5) == (0, 0.0)  # paid off: read again (the next read overdraws)


def test_a_sender_within_its_rate_never_waits() -> None:
    budget = ByteBudget(1000.0, 4000, now=0.0)
    allowance = ByteBudget.initial(budget.rate, budget.burst)
    for n in range(10_000):  # 100 bytes every 0.11 s: 909 bytes/s
        allowance, wait = read(budget, allowance, 100, now=n * 0.11)
        assert wait == 0.0


def test_a_quiet_spell_refills_no_more_than_the_burst() -> None:
    budget = ByteBudget(1000.0, 4000, now=0.0)
    allowance = ByteBudget.initial(budget.rate, budget.burst)
    taken, now = 0, 3600.0  # an hour of silence, then a flood
    while True:
        allowance, wait = read(budget, allowance, 700, now)
        taken += 700
        if wait:
            break
    assert taken <= 4000 + 700


@given(st.lists(st.tuples(st.integers(1, 300_000), st.floats(0, 2)), min_size=1, max_size=200))
def test_never_more_than_the_burst_and_the_rate_allow(reads: list[tuple[int, float]]) -> None:
    """Reads of any size at any times, paced as a connection paces them: by any moment, at most the
    burst, the rate's worth since the start and the one read that overdrew the allowance."""
    rate, burst = 10_000.0, 50_000
    budget = ByteBudget(rate, burst, now=0.0)
    allowance, now, taken, resume_at = ByteBudget.initial(budget.rate, budget.burst), 0.0, 0, None
    for size, gap in reads:
        now += gap
        while resume_at is not None:  # paused: nothing is read until the timer fires
            now = max(now, resume_at)
            allowance, wait = budget.settle(allowance, now)
            resume_at = now + wait if wait else None
        allowance -= size
        taken += size
        if allowance < 0:
            allowance, wait = budget.settle(allowance, now)
            resume_at = now + wait if wait else None
        assert taken <= burst + rate * now + size + 1  # (a byte for rounding)


class Reading:
    """What a pacer does to its transport: pauses its reading (resuming is the connection's call)."""

    def __init__(self) -> None:
        self.pauses = 0

    def pause_reading(self) -> None:
        self.pauses += 1


async def test_a_pacer_pauses_reading_for_the_debt_then_calls_back_once() -> None:
    loop = asyncio.get_running_loop()
    over = asyncio.Event()
    pacer = ReadPacer(loop, rate=10_000, burst=400, then=over.set)
    reading = Reading()
    # The first allowance (100 bytes) and 1,700 more were read: 1,400 bytes in debt past the
    # full bucket of 400, at 10,000 a second: 0.14 s without reading.
    assert pacer.overdrawn(-1700, reading) == 0  # type: ignore[arg-type]
    assert pacer.paused and reading.pauses == 1
    assert pacer.overdrawn(-50, reading) == -50  # type: ignore[arg-type]  # a read already on its way
    started = loop.time()
    await asyncio.wait_for(over.wait(), 5)
    assert loop.time() - started >= 0.14 - 0.01 and not pacer.paused
    assert pacer.overdrawn(0, reading) > 0  # type: ignore[arg-type]  # paid off: a new allowance
    assert reading.pauses == 1
