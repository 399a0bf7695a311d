"""The proxy's delay line, without I/O: delays, jitter that keeps order, stalls; and its durations."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplay.proxy import DelayLine, Link, parse_duration


def test_each_direction_adds_half_the_latency() -> None:
    line = DelayLine(Link(latency=0.150), started=0.0)
    assert line.push(1.0, b"a") == pytest.approx(1.075)
    assert line.due(1.07) == b""
    assert line.due(1.075) == b"a"
    assert line.next_due() is None


@given(
    arrivals=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=60),
    jitter=st.floats(min_value=0, max_value=0.2),
    seed=st.integers(0, 2**32),
)
def test_jitter_never_reorders_and_stays_within_its_bound(
    arrivals: list[float], jitter: float, seed: int
) -> None:
    line = DelayLine(Link(latency=0.1, jitter=jitter), started=0.0, rng=random.Random(seed))
    leaves = []
    for n, at in enumerate(sorted(arrivals)):
        leave = line.push(at, bytes([n % 256]))
        assert leave >= at + max(0.05 - jitter / 2, 0) - 1e-12  # never sooner than its delay allows
        leaves.append((leave, at))
    assert [leave for leave, _ in leaves] == sorted(leave for leave, _ in leaves)  # TCP keeps order
    # Everything comes out, in order, once its time has come.
    assert line.due(10.0) == bytes(n % 256 for n in range(len(arrivals)))


def test_a_stall_holds_everything_until_it_ends_then_lets_it_through_in_order() -> None:
    line = DelayLine(Link(latency=0.0, stall_every=10.0, stall_for=1.0), started=0.0)
    assert line.push(5.0, b"before") == 5.0
    assert line.push(10.2, b"during") == pytest.approx(11.0)
    assert line.push(10.9, b"late") == pytest.approx(11.0)
    assert line.push(11.5, b"after") == 11.5
    assert line.due(10.99) == b"before"
    assert line.due(11.0) == b"duringlate"
    assert line.stalled(20.5) and not line.stalled(21.5) and not line.stalled(0.5)


@pytest.mark.parametrize(("text", "seconds"), [("150ms", 0.15), ("1.5s", 1.5), ("2", 2.0), (" 30MS ", 0.03)])
def test_durations_people_type(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["fast", "-1s", "nan", "inf", "1h"])
def test_a_duration_that_is_not_one_says_so(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_a_link_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="latency cannot be negative"):
        Link(latency=-0.1)
