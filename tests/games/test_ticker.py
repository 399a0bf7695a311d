"""The tick engine, driven by hand with a virtual clock: every ``at`` is a plain float, no loop, no sleep.

Each test feeds actions to ``step`` and asserts what a client or the shell would observe: the new
match, the effects in order, and the refusal's stable code.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netplay.games import ticker as tk
from netplay.games.base import Outcome, State
from netplay.games.realtime import RealtimeGame
from netplay.games.rng import Rng
from netplay.games.ticker import (
    Advance,
    Arm,
    Dropped,
    Failed,
    Finished,
    Input,
    Late,
    Leave,
    Record,
    Skipped,
    Ticked,
    TickMatch,
    TickStep,
)

# -- games --------------------------------------------------------------------------------------


class Counter(RealtimeGame):
    """Each seat adds its inputs (integers from -10 to 10) to its sum; the first to ``goal`` wins."""

    name = "counter"
    players = 2
    tick_rate = 30
    max_input_bytes = 16

    def seat_count(self, options: dict[str, Any]) -> int:
        return int(options.get("seats", self.players))

    def setup(self, options: dict[str, Any], rng: Rng) -> State:
        return {"t": 0, "sums": [0] * self.seat_count(options), "goal": options.get("goal", 10**9)}

    def validate_input(self, state: State, seat: int, data: Any) -> str | None:
        if type(data) is not int or not -10 <= data <= 10:
            return "send an integer from -10 to 10"
        return None

    def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
        sums = list(state["sums"])
        for seat, data in inputs.items():
            sums[seat] += data
        return {"t": state["t"] + 1, "sums": sums, "goal": state["goal"]}

    def outcome(self, state: State) -> Outcome | None:
        for seat, total in enumerate(state["sums"]):
            if total >= state["goal"]:
                return Outcome.win(seat)
        return None


class Walk(RealtimeGame):
    """A random walk: each seat holds a direction (its last input) and the rng jitters every step."""

    name = "walk"
    players = 2
    tick_rate = 30

    def setup(self, options: dict[str, Any], rng: Rng) -> State:
        return {"t": 0, "pos": [rng.randint(-5, 5) for _ in range(2)], "dir": [0, 0], "end": options["end"]}

    def validate_input(self, state: State, seat: int, data: Any) -> str | None:
        return None if data in (-1, 0, 1) and type(data) is int else "send -1, 0 or 1"

    def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
        dirs = list(state["dir"])
        for seat, data in inputs.items():
            dirs[seat] = data
        pos = [p + d + rng.randint(-1, 1) for p, d in zip(state["pos"], dirs, strict=True)]
        return {"t": state["t"] + 1, "pos": pos, "dir": dirs, "end": state["end"]}

    def outcome(self, state: State) -> Outcome | None:
        return Outcome.by_score(state["pos"]) if state["t"] >= state["end"] else None


class Explodes(Counter):
    """Its rules raise when making tick 5."""

    def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
        if state["t"] == 4:
            raise RuntimeError("boom")
        return super().tick(state, inputs, rng)


class NotJson(Counter):
    """Tick 3 makes a state that is not JSON (the engine goes on: the room's view would fail)."""

    def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
        new = super().tick(state, inputs, rng)
        return {**new, "bad": {1, 2}} if new["t"] == 3 else new


class BadValidator(Counter):
    def validate_input(self, state: State, seat: int, data: Any) -> str | None:
        raise KeyError("oops")


class PlaysOn(Counter):
    """Nobody wins by leaving."""

    def forfeit(self, state: State, seat: int, remaining: list[int]) -> Outcome | None:
        return None


class Quits(Counter):
    """A seat that leaves takes its sum with it (back to 0); the last one here wins on score."""

    def leave(self, state: State, seat: int) -> State:
        sums = list(state["sums"])
        sums[seat] = 0
        return {**state, "sums": sums}

    def forfeit(self, state: State, seat: int, remaining: list[int]) -> Outcome | None:
        return Outcome.by_score(state["sums"], "forfeit") if len(remaining) <= 1 else None


class BadLeave(Quits):
    """Its ``leave`` raises for seat 0 and makes a state that is not JSON for the others."""

    def leave(self, state: State, seat: int) -> State:
        if seat == 0:
            raise RuntimeError("no way out")
        return {**super().leave(state, seat), "bad": {1, 2}}


COUNTER = Counter()
RATE = COUNTER.tick_rate

# -- helpers ------------------------------------------------------------------------------------


def begin(game: RealtimeGame = COUNTER, *, at: float = 100.0, seed: int = 7, **options: Any) -> TickMatch:
    result = tk.start(
        game, id="m1", number=1, seats=game.seat_count(options), seed=seed, options=options, at=at
    )
    assert result.refused is None
    return result.match


def ok(game: RealtimeGame, match: TickMatch, action: tk.Action) -> TickStep:
    result = tk.step(game, match, action)
    assert result.refused is None, result.refused
    return result


def refused(game: RealtimeGame, match: TickMatch, action: tk.Action) -> str:
    """The code of a refusal, after checking that the match was left exactly as it was."""
    before = (match.received, match.pending, match.tick, match.state)
    result = tk.step(game, match, action)
    assert result.refused is not None, f"{action!r} was accepted"
    assert result.match is match and result.effects == ()
    assert (match.received, match.pending, match.tick, match.state) == before
    return result.refused.code


def due(match: TickMatch, n: int) -> float:
    return match.started_at + n / match.rate


def to(game: RealtimeGame, match: TickMatch, n: int) -> TickStep:
    """Advance ``match`` exactly to the deadline of tick ``n`` (in steps of at most a second, so that
    nothing is skipped); the last step's result."""
    while n - match.tick > match.max_catchup:
        match = ok(game, match, Advance(due(match, match.tick + match.max_catchup))).match
    return ok(game, match, Advance(due(match, n)))


def records(steps: Iterable[TickStep]) -> list[Record]:
    return [e for s in steps for e in s.effects if type(e) is Record]


def through_store(recs: Iterable[Record]) -> list[Record]:
    """The records as the store gives them back: JSON text, string seat keys."""
    return [tk.record_from_json(orjson.loads(orjson.dumps(tk.record_to_json(r)))) for r in recs]


def replayed(game: RealtimeGame, first: TickMatch, live: TickMatch, recs: Sequence[Record]) -> TickMatch:
    return tk.replay(
        game,
        id=first.id,
        number=first.number,
        seats=first.seats,
        seed=first.seed,
        options=first.options,
        records=through_store(recs),
        until=None if live.outcome is not None else live.tick,
        at=500.0,
    )


def same_game(a: TickMatch, b: TickMatch) -> None:
    assert (a.state, a.tick, a.outcome, a.acks, a.gone) == (b.state, b.tick, b.outcome, b.acks, b.gone)


def kinds(result: TickStep) -> list[str]:
    return [type(e).__name__ for e in result.effects]


# -- start and the basics ----------------------------------------------------------------------


def test_start_makes_tick_zero_and_arms_tick_one() -> None:
    result = tk.start(COUNTER, id="m1", number=3, seats=2, seed=1, options={"goal": 5}, at=10.0)
    match = result.match
    assert result.effects == (Arm(10.0 + 1 / RATE),) and result.refused is None
    assert (match.tick, match.rate, match.started_at, match.number) == (0, RATE, 10.0, 3)
    assert match.state == {"t": 0, "sums": [0, 0], "goal": 5}
    assert match.received == match.acks == (-1, -1)
    assert match.outcome is None and not match.pending and match.gone == frozenset() and match.skipped == 0
    assert tk.next_due(match) == 10.0 + 1 / RATE
    assert (match.max_ahead, match.max_late, match.max_catchup) == (30, 15, 30)


def test_setup_gets_stream_zero_and_tick_n_gets_stream_n() -> None:
    seen: list[int] = []

    class Spy(Counter):
        def setup(self, options: dict[str, Any], rng: Rng) -> State:
            seen.append(rng.next64())
            return super().setup(options, rng)

        def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
            seen.append(rng.next64())
            return super().tick(state, inputs, rng)

    match = begin(Spy(), seed=99)
    to(Spy(), match, 2)
    assert seen == [Rng(99, n).next64() for n in range(3)]


def test_start_refuses_options_and_states_it_cannot_play() -> None:
    class NoSetup(Counter):
        def setup(self, options: dict[str, Any], rng: Rng) -> State:
            raise KeyError("size")

    class SetState(Counter):
        def setup(self, options: dict[str, Any], rng: Rng) -> State:
            return {1, 2}

    for game in (NoSetup(), SetState()):
        with pytest.raises(ValueError, match=r"cannot start with those options|a state that is not JSON"):
            tk.start(game, id="m", number=1, seats=2, seed=0, options={}, at=0.0)


def test_a_game_over_at_the_start_finishes_at_once() -> None:
    result = tk.start(COUNTER, id="m", number=1, seats=2, seed=0, options={"goal": 0}, at=0.0)
    assert result.match.outcome is not None and result.match.outcome.winner == 0
    assert result.effects == (Finished(result.match.outcome),)
    assert tk.next_due(result.match) is None


def test_steps_leave_the_old_match_unchanged() -> None:
    match = begin()
    before = (match.received, match.pending, match.acks, match.tick, match.state)
    after = ok(COUNTER, match, Input(0, 0, 1, 5)).match
    after = to(COUNTER, after, 1).match
    assert after.state["sums"] == [5, 0] and after.acks == (0, -1)
    assert (match.received, match.pending, match.acks, match.tick, match.state) == before


def test_an_input_in_time_is_applied_at_exactly_its_tick() -> None:
    match = begin()
    for seq, (tick, data) in enumerate([(3, 1), (5, 2), (5 + 1, 4)]):
        match = ok(COUNTER, match, Input(1, seq, tick, data)).match
    sums = []
    for n in range(1, 8):
        match = to(COUNTER, match, n).match
        sums.append(match.state["sums"][1])
    assert sums == [0, 0, 1, 1, 3, 7, 7]
    assert match.acks == (-1, 2) and match.received == (-1, 2) and not match.pending


# -- ticks and time ---------------------------------------------------------------------------


def test_an_advance_with_nothing_due_returns_just_arm() -> None:
    match = begin()
    for at in (100.0, 100.0 + 0.5 / RATE, due(match, 1) - 1e-9):
        result = ok(COUNTER, match, Advance(at))
        assert result.effects == (Arm(due(match, 1)),) and result.match is match


def test_a_late_wakeup_runs_the_missed_ticks_and_keeps_the_deadlines() -> None:
    match = begin()
    result = ok(COUNTER, match, Advance(match.started_at + 0.1))  # 0.1 s on: the 3 ticks missed
    assert result.match.tick == 3
    ticked, arm = result.effects
    assert type(ticked) is Ticked and (ticked.first, ticked.last) == (1, 3)
    assert ticked.late == pytest.approx(0.1 - 1 / RATE)
    assert arm == Arm(match.started_at + 4 / RATE)  # where it always was: no drift
    assert result.match.started_at == match.started_at and result.match.skipped == 0
    # the timer for tick 1 fired 0.1 s late: tick 1 and the 3 after it
    result = ok(COUNTER, match, Advance(due(match, 1) + 0.1 + 1e-9))
    assert result.match.tick == 4 and result.effects[-1] == Arm(match.started_at + 5 / RATE)
    assert result.effects[0].late == pytest.approx(0.1)  # type: ignore[union-attr]


def test_no_drift_after_a_thousand_irregular_advances() -> None:
    rng = random.Random(5)
    match = begin(at=1234.5678)
    start = match.started_at
    now = start
    for _ in range(1000):
        now += rng.choice([0.0, rng.random() * 0.01, rng.random() * 0.05, rng.random() * 0.2])
        result = ok(COUNTER, match, Advance(now))
        match = result.match
        arm = result.effects[-1]
        assert type(arm) is Arm and arm.at == start + (match.tick + 1) / RATE
        assert start + match.tick / RATE <= now < arm.at
    assert match.started_at == start and match.skipped == 0
    assert match.state["t"] == match.tick


def test_a_shell_far_behind_runs_one_second_and_skips_the_rest() -> None:
    match = begin(at=0.0)
    at = 5.0 + 0.5 / RATE  # 150 ticks due
    result = ok(COUNTER, match, Advance(at))
    new = result.match
    assert new.tick == match.max_catchup == RATE
    assert new.skipped == 150 - RATE
    assert kinds(result) == ["Ticked", "Skipped", "Arm"]
    ticked, skipped, arm = result.effects
    assert (ticked.first, ticked.last) == (1, RATE) and ticked.late == pytest.approx(
        5.0 + 0.5 / RATE - 1 / RATE
    )
    assert skipped == Skipped(150 - RATE)
    assert arm.at == pytest.approx(at + 1 / RATE) and arm.at == tk.next_due(new)
    # and from there on the deadlines are fixed again
    again = ok(COUNTER, new, Advance(arm.at))
    assert again.match.tick == RATE + 1 and again.effects[-1] == Arm(new.started_at + (RATE + 2) / RATE)
    # exactly MAX_CATCHUP ticks due: nothing skipped
    exact = ok(COUNTER, match, Advance(due(match, RATE)))
    assert exact.match.tick == RATE and exact.match.skipped == 0 and kinds(exact) == ["Ticked", "Arm"]


def test_records_come_first_and_only_for_ticks_with_inputs() -> None:
    match = begin()
    match = ok(COUNTER, match, Input(0, 0, 2, 3)).match
    match = ok(COUNTER, match, Input(1, 0, 2, -1)).match
    match = ok(COUNTER, match, Input(1, 1, 4, 2)).match
    result = to(COUNTER, match, 5)
    assert kinds(result) == ["Record", "Record", "Ticked", "Arm"]
    assert result.effects[0] == Record(2, {0: (0, 3), 1: (0, -1)})
    assert result.effects[1] == Record(4, {1: (1, 2)})
    assert result.match.acks == (0, 1)


def test_inputs_are_given_to_the_rules_by_seat_in_seat_order() -> None:
    seen: list[list[int]] = []

    class Orders(Counter):
        def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
            seen.append(list(inputs))
            return super().tick(state, inputs, rng)

    game = Orders()
    match = begin(game, seats=3)
    for seat in (2, 0, 1):
        match = ok(game, match, Input(seat, 0, 1, 1)).match
    result = to(game, match, 2)
    assert seen == [[0, 1, 2], []]
    assert list(result.effects[0].inputs) == [0, 1, 2]  # type: ignore[union-attr]


def test_the_game_ends_when_its_outcome_says_so() -> None:
    match = begin(goal=5)
    match = ok(COUNTER, match, Input(1, 0, 2, 5)).match
    result = to(COUNTER, match, 10)
    done = result.match
    assert done.tick == 2 and done.outcome == Outcome.win(1).for_seats(2)
    assert kinds(result) == ["Record", "Ticked", "Finished"]
    assert result.effects[-1] == Finished(done.outcome)
    assert tk.next_due(done) is None
    assert ok(COUNTER, done, Advance(1e6)).effects == ()
    assert refused(COUNTER, done, Input(0, 0, 3, 1)) == tk.GAME_OVER


def test_the_tick_that_ends_the_match_is_recorded_even_without_inputs() -> None:
    game = Walk()
    match = begin(game, end=4)
    result = to(game, match, 4)
    assert result.match.outcome is not None
    assert kinds(result) == ["Record", "Ticked", "Finished"] and result.effects[0] == Record(4, {})
    back = replayed(game, match, result.match, records([result]))
    assert _fields(back) == {**_fields(result.match), "started_at": 500.0 - 4 / 30}


def _fields(match: TickMatch) -> dict[str, Any]:
    return {name: getattr(match, name) for name in TickMatch.__dataclass_fields__}


# -- inputs: acceptance and refusals ----------------------------------------------------------


def test_every_refusal_code() -> None:
    match = begin(seats=3)
    match = ok(COUNTER, match, Input(0, 4, 1, 1)).match
    match = ok(COUNTER, match, Leave(2, 100.0)).match
    assert refused(COUNTER, match, Input(3, 0, 1, 1)) == tk.NOT_A_PLAYER
    assert refused(COUNTER, match, Input(-1, 0, 1, 1)) == tk.NOT_A_PLAYER
    assert refused(COUNTER, match, Input(2, 0, 1, 1)) == tk.NOT_A_PLAYER  # gone
    assert refused(COUNTER, match, Input(1, 0, 1, "x" * 20)) == tk.INPUT_TOO_LARGE
    assert refused(COUNTER, match, Input(1, 0, 1, {1, 2})) == tk.INVALID_INPUT  # not JSON
    assert refused(COUNTER, match, Input(1, 0, 1, 2**70)) == tk.INVALID_INPUT  # not JSON either
    assert refused(COUNTER, match, Input(0, 4, 1, 1)) == tk.STALE_INPUT  # a duplicate
    assert refused(COUNTER, match, Input(0, 3, 1, 1)) == tk.STALE_INPUT  # reordered
    assert refused(COUNTER, match, Input(0, "5", 1, 1)) == tk.STALE_INPUT  # type: ignore[arg-type]
    assert refused(COUNTER, match, Input(0, 5, 1.0, 1)) == tk.INVALID_INPUT  # type: ignore[arg-type]
    assert refused(COUNTER, match, Input(0, 5, 1 + RATE + 1, 1)) == tk.INPUT_TOO_EARLY
    match = to(COUNTER, match, 40).match
    assert refused(COUNTER, match, Input(0, 5, 41 - RATE // 2 - 1, 1)) == tk.INPUT_TOO_LATE
    result = tk.step(COUNTER, match, Input(0, 5, 41, 11))
    assert result.refused is not None and result.refused.code == tk.INVALID_INPUT
    assert result.refused.message == "send an integer from -10 to 10"
    bad = BadValidator()
    result = tk.step(bad, match, Input(0, 5, 41, 1))
    assert result.refused is not None and result.refused.code == tk.INTERNAL_ERROR
    assert result.refused.detail == repr(KeyError("oops")) and result.match is match
    assert refused(COUNTER, match, Leave(2, 0.0)) == tk.NOT_A_PLAYER
    assert refused(COUNTER, match, Leave(7, 0.0)) == tk.NOT_A_PLAYER
    over = ok(COUNTER, ok(COUNTER, match, Leave(1, 0.0)).match, Advance(0.0)).match
    assert over.outcome is not None
    assert refused(COUNTER, over, Input(0, 9, 41, 1)) == tk.GAME_OVER
    codes = {tk.NOT_A_PLAYER, tk.GAME_OVER, tk.INPUT_TOO_LARGE, tk.INVALID_INPUT, tk.STALE_INPUT}
    codes |= {tk.INPUT_TOO_EARLY, tk.INPUT_TOO_LATE, tk.INTERNAL_ERROR}
    from netplay.protocol import ErrorCode

    assert {ErrorCode(c) for c in codes}  # every code is a wire code


def test_the_checks_come_in_order() -> None:
    match = begin()
    match = ok(COUNTER, match, Input(0, 1, 1, 1)).match
    # stale and too early and invalid: stale wins; too large and stale: too large wins
    assert refused(COUNTER, match, Input(0, 1, 999, 99)) == tk.STALE_INPUT
    assert refused(COUNTER, match, Input(0, 1, 999, "x" * 99)) == tk.INPUT_TOO_LARGE
    assert refused(COUNTER, match, Input(0, 2, 999, 99)) == tk.INPUT_TOO_EARLY
    # a refused input does not use up its seq
    assert ok(COUNTER, match, Input(0, 2, 2, 1)).match.received == (2, -1)


def test_the_boundaries_of_early_and_late() -> None:
    match = to(COUNTER, begin(), 40).match  # the next tick is 41
    ahead = 41 + match.max_ahead
    late = 41 - match.max_late
    assert ok(COUNTER, match, Input(0, 0, ahead, 1)).effects == ()
    assert refused(COUNTER, match, Input(0, 0, ahead + 1, 1)) == tk.INPUT_TOO_EARLY
    result = ok(COUNTER, match, Input(0, 0, late, 1))
    assert result.effects == (Late(0, 0, match.max_late),)
    assert refused(COUNTER, match, Input(0, 0, late - 1, 1)) == tk.INPUT_TOO_LATE


def test_a_late_input_is_applied_at_the_next_tick() -> None:
    match = to(COUNTER, begin(), 10).match
    result = ok(COUNTER, match, Input(1, 0, 8, 3))
    assert result.effects == (Late(1, 0, 3),)
    assert result.match.pending == {11: {1: (0, 3)}}
    ticked = to(COUNTER, result.match, 11)
    assert ticked.effects[0] == Record(11, {1: (0, 3)})
    assert ticked.match.state["sums"] == [0, 3] and ticked.match.acks == (-1, 0)
    # one for the current tick is late by one
    assert ok(COUNTER, match, Input(1, 0, 10, 3)).effects == (Late(1, 0, 1),)


def test_a_second_input_for_the_same_tick_replaces_the_first() -> None:
    match = begin()
    match = ok(COUNTER, match, Input(0, 0, 3, 1)).match
    result = ok(COUNTER, match, Input(0, 1, 3, 7))
    assert result.effects == (Dropped(0, 0, "replaced"),)
    match = to(COUNTER, result.match, 2).match
    # a late one landing on a tick that already has an input replaces it too
    result = ok(COUNTER, match, Input(0, 2, 1, 2))
    assert result.effects == (Late(0, 2, 2), Dropped(0, 1, "replaced"))
    match = to(COUNTER, result.match, 3).match
    assert match.state["sums"] == [2, 0] and match.acks == (2, -1)


# -- leaving ------------------------------------------------------------------------------------


def test_leave_with_an_outcome_ends_the_match() -> None:
    match = begin()
    match = ok(COUNTER, match, Input(0, 0, 1, 1)).match
    match = to(COUNTER, match, 3).match
    match = ok(COUNTER, match, Input(1, 0, 5, 2)).match
    result = ok(COUNTER, match, Leave(1, 200.0))
    done = result.match
    assert done.outcome == Outcome.win(0, "forfeit").for_seats(2) and done.gone == {1}
    assert result.effects == (Record(3, {}, (1,)), Dropped(1, 0, "left"), Finished(done.outcome))
    assert not done.pending and done.tick == 3
    assert done.state == match.state


def test_leave_without_an_outcome_plays_on_without_the_seat() -> None:
    played: list[TickMatch] = []
    for game in (COUNTER, PlaysOn()):
        match = begin(game, seats=3)
        match = ok(game, match, Input(2, 0, 2, 4)).match
        match = ok(game, match, Input(0, 0, 2, 1)).match
        result = ok(game, match, Leave(2, 100.0))
        assert result.effects == (Record(0, {}, (2,)), Dropped(2, 0, "left"))
        assert result.match.outcome is None and result.match.gone == {2}
        assert result.match.pending == {2: {0: (0, 1)}}
        later = to(game, result.match, 3).match
        assert later.state["sums"] == [1, 0, 0]
        assert refused(game, later, Input(2, 1, 4, 1)) == tk.NOT_A_PLAYER
        played.append(later)
    # with the default policy the last player standing wins; a game may play on regardless
    second = ok(COUNTER, played[0], Leave(0, 100.0))
    assert second.match.outcome == Outcome.win(1, "forfeit").for_seats(3)
    alone = ok(PlaysOn(), played[1], Leave(0, 100.0))
    assert alone.match.outcome is None and alone.match.gone == {0, 2}


def test_a_forfeit_that_raises_falls_back_to_the_default() -> None:
    class BadForfeit(Counter):
        def forfeit(self, state: State, seat: int, remaining: list[int]) -> Outcome | None:
            raise ValueError("no")

    result = ok(BadForfeit(), begin(BadForfeit()), Leave(0, 1.0))
    assert result.match.outcome == Outcome.win(1, "forfeit").for_seats(2)


def test_leave_changes_the_state_before_forfeit_sees_it_live_and_in_replay() -> None:
    game = Quits()
    first = begin(game, seats=3)
    steps = [ok(game, first, Input(0, 0, 1, 1))]
    steps.append(ok(game, steps[-1].match, Input(1, 0, 1, 5)))
    steps.append(ok(game, steps[-1].match, Input(2, 0, 1, 9)))
    steps.append(to(game, steps[-1].match, 2))
    assert steps[-1].match.state["sums"] == [1, 5, 9]
    steps.append(ok(game, steps[-1].match, Leave(2, 0.0)))
    assert steps[-1].effects == (Record(2, {}, (2,)),)
    assert steps[-1].match.state["sums"] == [1, 5, 0] and steps[-1].match.outcome is None
    steps.append(to(game, steps[-1].match, 4))
    same_game(replayed(game, first, steps[-1].match, records(steps)), steps[-1].match)
    # Seat 1 leaves with the higher sum: the forfeit, on the state after leave, ranks seat 0 first.
    steps.append(ok(game, steps[-1].match, Leave(1, 0.0)))
    done = steps[-1].match
    assert done.state["sums"] == [1, 0, 0] and done.gone == {1, 2}
    assert done.outcome == Outcome.by_score([1, 0, 0], "forfeit")
    assert done.outcome.winner == 0
    back = replayed(game, first, done, records(steps))
    same_game(back, done)
    assert back.state["sums"] == [1, 0, 0]


def test_a_failing_leave_keeps_the_state_and_says_why() -> None:
    game = BadLeave()
    first = begin(game, seats=3)
    steps = [ok(game, first, Input(0, 0, 1, 3))]
    steps.append(ok(game, steps[-1].match, Input(1, 0, 1, 4)))
    steps.append(to(game, steps[-1].match, 1))
    before = steps[-1].match
    steps.append(ok(game, before, Leave(0, 0.0)))  # leave raises
    result = steps[-1]
    assert kinds(result) == ["Record", "Failed"]
    failed = result.effects[1]
    assert type(failed) is Failed and "no way out" in failed.detail
    assert result.match.state == before.state and result.match.gone == {0}
    assert result.match.outcome is None  # the match goes on
    steps.append(ok(game, result.match, Leave(1, 0.0)))  # leave makes a state that is not JSON
    result = steps[-1]
    assert kinds(result) == ["Record", "Failed", "Finished"]
    assert "TypeError" in result.effects[1].detail  # type: ignore[union-attr]
    assert result.match.state == before.state == {"t": 1, "sums": [3, 4, 0], "goal": 10**9}
    assert result.match.outcome == Outcome.by_score([3, 4, 0], "forfeit")  # forfeit saw the old state
    same_game(replayed(game, first, result.match, records(steps)), result.match)


# -- broken games -------------------------------------------------------------------------------


def test_a_failing_tick_ends_the_match_as_an_error_draw() -> None:
    game, failing = Explodes(), 5
    first = begin(game)
    steps = [ok(game, first, Input(0, 0, 1, 1))]
    steps.append(to(game, steps[-1].match, failing - 2))
    before = steps[-1].match
    good = to(game, before, failing - 1).match  # the last tick that works
    steps.append(to(game, before, 20))  # runs tick failing - 1, then fails: and does not raise
    result = steps[-1]
    done = result.match
    assert done.tick == failing - 1 and done.state == good.state and done.acks == (0, -1)
    assert done.outcome == Outcome.draw("error").for_seats(2)
    assert kinds(result) == ["Record", "Ticked", "Failed", "Finished"]
    assert result.effects[0] == Record(failing, {})  # recorded, so that a replay fails alike
    ticked, failed = result.effects[1], result.effects[2]
    assert type(ticked) is Ticked and (ticked.first, ticked.last) == (failing - 1, failing - 1)
    assert type(failed) is Failed and "boom" in failed.detail
    assert tk.next_due(done) is None and not done.pending
    assert ok(game, done, Advance(1e9)).effects == ()
    same_game(replayed(game, first, done, records(steps)), done)


def test_a_state_that_is_not_json_is_not_the_engines_to_find() -> None:
    """Only views are sent (and checked, by the room, as it encodes them): the engine plays on."""
    game = NotJson()
    result = to(game, begin(game), 6)
    assert result.match.outcome is None and result.match.tick == 6 and kinds(result) == ["Ticked", "Arm"]


def test_fail_ends_the_match_as_an_error_draw_and_the_replay_ends_alike() -> None:
    game = COUNTER
    first = begin(game)
    steps = [ok(game, first, Input(0, 0, 1, 2))]
    steps.append(to(game, steps[-1].match, 7))
    before = steps[-1].match
    steps.append(ok(game, before, tk.Fail("the view is a set")))
    result = steps[-1]
    done = result.match
    assert kinds(result) == ["Record", "Failed", "Finished"]
    assert result.effects[0] == Record(7, {}, failed=True)
    assert result.effects[1] == Failed("the view is a set")
    assert done.outcome == Outcome.draw("error").for_seats(2) and done.state == before.state
    assert done.tick == 7 and tk.next_due(done) is None and not done.pending
    assert refused(game, done, tk.Fail("again")) == tk.GAME_OVER
    recs = through_store(records(steps))
    assert recs[-1] == Record(7, {}, failed=True)
    same_game(replayed(game, first, done, recs), done)
    with pytest.raises(tk.ReplayError, match="after the end"):
        replayed(game, first, done, [*recs, Record(9, {})])
    for bad in ({"tick": 7, "failed": 1}, {"tick": 7, "inputs": {"0": [1, 2]}, "failed": True}):
        with pytest.raises(tk.ReplayError, match="not a tick record"):
            tk.record_from_json(bad)


def test_a_failing_first_tick_runs_nothing() -> None:
    class Immediate(Counter):
        def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
            raise ZeroDivisionError

    game = Immediate()
    result = ok(game, begin(game), Advance(1e3))
    assert result.match.tick == 0 and kinds(result) == ["Record", "Failed", "Finished"]
    assert result.match.outcome is not None and result.match.outcome.reason == "error"


def test_an_outcome_that_raises_is_a_failure_too() -> None:
    class BadOutcome(Counter):
        def outcome(self, state: State) -> Outcome | None:
            if state["t"] == 2:
                return "won"  # type: ignore[return-value]
            return super().outcome(state)

    game = BadOutcome()
    result = ok(game, begin(game), Advance(1e3))
    assert result.match.tick == 1 and result.match.outcome == Outcome.draw("error").for_seats(2)


# -- records and replay -------------------------------------------------------------------------


def test_records_survive_json() -> None:
    record = Record(12, {0: (3, {"dx": 1}), 2: (9, [1, 2])}, ())
    data = orjson.loads(orjson.dumps(tk.record_to_json(record)))
    assert data == {"tick": 12, "inputs": {"0": [3, {"dx": 1}], "2": [9, [1, 2]]}}
    assert tk.record_from_json(data) == record
    left = Record(4, {}, (1,))
    assert tk.record_from_json(orjson.loads(orjson.dumps(tk.record_to_json(left)))) == left
    for bad in ({}, {"tick": "1"}, {"tick": 1, "inputs": {"x": [1, 2]}}, {"tick": 1, "inputs": {"0": [1]}}):
        with pytest.raises(tk.ReplayError):
            tk.record_from_json(bad)


def test_replay_goes_on_from_its_own_time() -> None:
    first = begin()
    match = ok(COUNTER, first, Input(0, 0, 3, 2)).match
    steps = [to(COUNTER, match, 7)]
    back = replayed(COUNTER, first, steps[-1].match, records(steps))
    same_game(back, steps[-1].match)
    assert back.received == (0, -1) and not back.pending
    assert tk.next_due(back) == pytest.approx(500.0 + 1 / RATE)
    # without ``until`` it stops at the last recorded tick
    short = tk.replay(COUNTER, id="m1", number=1, seats=2, seed=7, options={}, records=records(steps))
    assert short.tick == 3 and short.state["sums"] == [2, 0]


def test_replay_refuses_records_that_cannot_be() -> None:
    def run(recs: list[Record], seats: int = 2) -> TickMatch:
        return tk.replay(
            COUNTER, id="m", number=1, seats=seats, seed=1, options={"seats": seats}, records=recs
        )

    assert run([Record(2, {}, (1,)), Record(3, {0: (0, 1)})], 3).gone == {1}
    for recs, seats in (
        ([Record(5, {0: (0, 1)}), Record(3, {0: (1, 1)})], 2),  # out of order
        ([Record(2, {5: (0, 1)})], 2),  # no such seat
        ([Record(2, {}, (1,)), Record(3, {1: (0, 1)})], 3),  # a seat that left
        ([Record(2, {}, (1,)), Record(3, {0: (0, 1)})], 2),  # after the end (the default forfeit)
        ([Record(2, {0: (0, 1)}), Record(2, {0: (1, 1)})], 2),  # a tick twice
    ):
        with pytest.raises(tk.ReplayError):
            run(recs, seats)


def _random_play(
    game: RealtimeGame, seed: int, ticks: int, **options: Any
) -> tuple[TickMatch, list[TickStep]]:
    """A match of ``game`` (2 seats) played to tick ``ticks`` by random clients with jittery timers."""
    rng = random.Random(seed)
    seats = 2
    match = first = begin(game, seed=seed, **options)
    steps: list[TickStep] = []
    seqs = [0] * seats
    now = match.started_at
    while match.tick < ticks and match.outcome is None:
        for seat in range(seats):
            if rng.random() < 0.3:
                tick = match.tick + 1 + rng.randint(-3, 3)
                result = tk.step(game, match, Input(seat, seqs[seat], tick, rng.choice([-1, 0, 1])))
                if result.refused is None:
                    seqs[seat] += 1
                    steps.append(result)
                    match = result.match
        now = max(now, due(match, match.tick + 1)) + rng.random() * 0.02
        result = tk.step(game, match, Advance(now))
        steps.append(result)
        match = result.match
    return first, steps


def test_ten_thousand_ticks_are_deterministic_and_replay_exactly() -> None:
    game = Walk()
    first, steps = _random_play(game, 2024, 10_000, end=10_000)
    live = steps[-1].match
    assert live.tick == 10_000 and live.outcome is not None
    again_first, again = _random_play(game, 2024, 10_000, end=10_000)
    assert again_first == first and again[-1].match == live
    assert [s.effects for s in again] == [s.effects for s in steps]
    back = replayed(game, first, live, records(steps))
    same_game(back, live)
    assert back.acks != (-1, -1)
    other_seed = tk.replay(
        game, id="m1", number=1, seats=2, seed=2025, options={"end": 10_000}, records=records(steps)
    )
    assert other_seed.state != live.state


# -- the property -------------------------------------------------------------------------------

_data = st.one_of(
    st.integers(-10, 10),
    st.sampled_from([-12, 11, None, "up", 2**70, [1, 2], {1, 2}]),  # the wrong kinds, now and then
)
_input = st.tuples(
    st.just("input"),
    st.sampled_from([0, 1, 2, 0, 1, 2, -1, 3]),  # seat
    st.sampled_from([1, 1, 1, 2, 0, -1]),  # seq: how far past the last one received
    st.sampled_from([0, 0, 1, 2, -1, -3]) | st.integers(-20, 40),  # tick, from the next one
    _data,
)
_advance = st.tuples(st.just("advance"), st.floats(0, 0.05) | st.sampled_from([0.2, 2.0]))
_leave = st.tuples(st.just("leave"), st.integers(-1, 3))
_fail = st.tuples(st.just("fail"))
#: Mostly inputs, often time, now and then a seat leaving, rarely a view that could not be sent.
_action = st.sampled_from([_input] * 10 + [_advance] * 6 + [_leave] * 2 + [_fail]).flatmap(lambda kind: kind)
_actions = st.lists(_action, min_size=5, max_size=80)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    game=st.sampled_from([Counter(), Explodes(), NotJson(), PlaysOn(), Quits(), BadLeave()]),
    goal=st.integers(1, 5),
    script=_actions,
)
def test_any_actions_never_raise_and_replay_to_the_live_match(
    game: RealtimeGame, goal: int, script: list[tuple[Any, ...]]
) -> None:
    first = begin(game, seats=3, goal=goal)
    match = first
    now = first.started_at
    steps: list[TickStep] = []
    for action in script:
        if action[0] == "input":
            _, seat, more, offset, data = action  # seq: mostly the next one, sometimes stale
            seq = (match.received[seat] if 0 <= seat < match.seats else 0) + more
            act: tk.Action = Input(seat, seq, match.tick + 1 + offset, data)
        elif action[0] == "advance":
            now += action[1]
            act = Advance(now)
        elif action[0] == "leave":
            act = Leave(action[1], now)
        else:
            act = tk.Fail("a view that could not be sent")
        result = tk.step(game, match, act)
        if result.refused is not None:
            assert result.match is match and result.effects == ()
        steps.append(result)
        match = result.match
        arms = [e for e in result.effects if type(e) is Arm]
        if arms:
            assert arms[-1].at == tk.next_due(match) and result.effects[-1] is arms[-1]
    same_game(replayed(game, first, match, records(steps)), match)
