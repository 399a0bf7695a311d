"""Arena (light cycles): options, inputs, moving, crashes, rankings, leaving, bots, the terminal."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from netplay.games import arena
from netplay.games import ticker as tk
from netplay.games.arena import (
    COLOURS,
    MOVE_EVERY,
    START_TICKS,
    Arena,
    default_size,
    heading,
    is_move_tick,
    ranking,
    simple_bot,
)
from netplay.games.base import Outcome, State
from netplay.games.rng import Rng

GAME = Arena()
RNG = Rng(0, 0)  # tick never draws from it
UP, RIGHT, DOWN, LEFT = range(4)
FIRST_MOVE = 32


def cycle(trail: list[list[int]], d: int, out: int = 0) -> dict[str, Any]:
    return {"dir": d, "out": out, "trail": trail}


def state_of(*cycles: dict[str, Any], size: int = 16, tick: int = FIRST_MOVE - 1) -> State:
    """A state whose next tick is a move tick (by default)."""
    return {"tick": tick, "size": size, "cycles": list(cycles)}


def move(state: State, inputs: dict[int, Any] | None = None) -> State:
    """Tick until the cycles have moved once, the inputs at the first tick."""
    state = GAME.tick(state, inputs or {}, RNG)
    while not is_move_tick(state["tick"]):
        state = GAME.tick(state, {}, RNG)
    return state


def play(seed: int, **options: Any) -> list[State]:
    """A game of bots (bot rng seeded by ``seed``): every state on the way."""
    bot_rng = random.Random(seed)
    state = GAME.setup(dict(options), Rng(seed, 0))
    states = [state]
    seats = GAME.seat_count(options)
    while GAME.outcome(state) is None:
        inputs = {}
        for seat in range(seats):
            data = simple_bot(GAME, GAME.view(state, seat), seat, bot_rng)
            if data is not None:
                assert GAME.validate_input(state, seat, data) is None
                inputs[seat] = data
        state = GAME.tick(state, inputs, Rng(seed, len(states)))
        states.append(state)
        assert len(states) < 50_000, "the game does not end"
    return states


def ints_only(value: Any) -> bool:
    """Whether every number in ``value`` is an int (no bool, no float) and it is JSON's shape."""
    if type(value) is dict:
        return all(type(k) is str and ints_only(v) for k, v in value.items())
    if type(value) is list:
        return all(ints_only(v) for v in value)
    return type(value) is int or type(value) is str


# -- options and setup ----------------------------------------------------------------------------


def test_metadata() -> None:
    assert GAME.name == "arena" and GAME.description
    assert (GAME.tick_rate, GAME.patch_rate) == (30, 20)
    assert list(GAME.bots) == ["simple"]
    assert [GAME.seat_label(s) for s in range(8)] == list(COLOURS)
    assert not GAME.has_hidden_information


@pytest.mark.parametrize("players", [1, 9, 0, True, 4.0, "4", None])
def test_seat_count_refuses(players: Any) -> None:
    with pytest.raises(ValueError, match="players must be a whole number from 2 to 8"):
        GAME.seat_count({"players": players})


@pytest.mark.parametrize("size", [15, 65, True, 32.0, "32"])
def test_size_is_checked(size: Any) -> None:
    with pytest.raises(ValueError, match="size must be a whole number from 16 to 64"):
        GAME.setup({"size": size}, RNG)


@pytest.mark.parametrize("players", range(2, 9))
@pytest.mark.parametrize("size", [16, None, 64])
def test_setup_shape(players: int, size: int | None) -> None:
    options: dict[str, Any] = {"players": players} if size is None else {"players": players, "size": size}
    state = GAME.setup(options, RNG)
    assert GAME.seat_count(options) == players
    side = size or default_size(players)
    assert state["tick"] == 0 and state["size"] == side
    assert len(state["cycles"]) == players
    heads = set()
    for c in state["cycles"]:
        assert set(c) == {"dir", "out", "trail"} and c["out"] == 0 and c["dir"] in range(4)
        ((x, y),) = c["trail"]
        assert 0 <= x < side and 0 <= y < side
        heads.add((x, y))
    assert len(heads) == players
    assert ints_only(state) and GAME.outcome(state) is None


def test_default_sizes_and_seats() -> None:
    assert GAME.seat_count({}) == 4
    assert [default_size(n) for n in (2, 3, 4, 5, 8)] == [24, 32, 32, 40, 40]
    # Two players start opposite each other through the centre, going opposite ways.
    (a, b) = GAME.setup({"players": 2}, RNG)["cycles"]
    (ax, ay), (bx, by) = a["trail"][0], b["trail"][0]
    assert (ax + bx, ay + by) == (23, 23) and (a["dir"] + 2) % 4 == b["dir"]


# -- inputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (None, "an object"),
        ("left", "an object"),
        (["dir", "left"], "an object"),
        ({}, 'one key "dir"'),
        ({"dir": "left", "x": 1}, 'one key "dir"'),
        ({"turn": "left"}, 'one key "dir"'),
        ({"dir": "north"}, '"up", "right", "down" or "left"'),
        ({"dir": 1}, '"up", "right", "down" or "left"'),
        ({"dir": True}, '"up", "right", "down" or "left"'),
        ({"dir": None}, '"up", "right", "down" or "left"'),
        ({"dir": "LEFT"}, '"up", "right", "down" or "left"'),
    ],
)
def test_validate_input_refuses(data: Any, says: str) -> None:
    reason = GAME.validate_input(GAME.setup({}, RNG), 0, data)
    assert reason is not None and says in reason


def test_validate_input_accepts_and_refuses_the_crashed() -> None:
    state = state_of(cycle([[3, 3]], UP), cycle([[9, 9]], UP, out=20))
    for name in ("up", "right", "down", "left"):
        assert GAME.validate_input(state, 0, {"dir": name}) is None
    assert GAME.validate_input(state, 1, {"dir": "up"}) == "your cycle has crashed"
    assert GAME.validate_input(state, 5, {"dir": "up"}) == "there is no cycle 5"


# -- moving ---------------------------------------------------------------------------------------


def test_nothing_moves_before_the_start_then_one_cell_every_few_ticks() -> None:
    state = GAME.setup({"players": 2}, RNG)
    start = [c["trail"] for c in state["cycles"]]
    for _ in range(FIRST_MOVE - 1):
        state = GAME.tick(state, {}, RNG)
        assert [c["trail"] for c in state["cycles"]] == start
    assert [is_move_tick(t) for t in range(START_TICKS, 41)] == [
        t % MOVE_EVERY == 0 for t in range(START_TICKS, 41)
    ]
    state = GAME.tick(state, {}, RNG)
    assert state["tick"] == FIRST_MOVE and [len(c["trail"]) for c in state["cycles"]] == [2, 2]
    for _ in range(MOVE_EVERY):
        state = GAME.tick(state, {}, RNG)
    assert [len(c["trail"]) for c in state["cycles"]] == [3, 3]


def test_turns_and_the_ignored_reverse() -> None:
    state = state_of(cycle([[5, 5], [5, 4]], UP), cycle([[10, 10]], UP))
    assert heading(state["cycles"][0]["trail"]) == UP and heading(state["cycles"][1]["trail"]) is None
    # A reverse into the own trail is ignored; a cycle that has not moved yet may go any way.
    state = move(state, {0: {"dir": "down"}, 1: {"dir": "down"}})
    assert state["cycles"][0]["trail"][-1] == [5, 3] and state["cycles"][0]["dir"] == UP
    assert state["cycles"][1]["trail"][-1] == [10, 11]
    # Two inputs between moves: the last one counts, and a reverse is judged against the heading.
    state = GAME.tick(state, {0: {"dir": "left"}}, RNG)
    state = move(state, {0: {"dir": "down"}})
    assert state["cycles"][0]["trail"][-1] == [4, 3]
    state = move(state, {0: {"dir": "right"}})
    assert state["cycles"][0]["trail"][-1] == [3, 3] and state["cycles"][0]["dir"] == LEFT
    state = move(state, {0: {"dir": "down"}})
    assert state["cycles"][0]["trail"][-1] == [3, 4] and heading(state["cycles"][0]["trail"]) == DOWN


def test_tick_leaves_its_state_alone() -> None:
    state = state_of(cycle([[5, 5]], UP), cycle([[5, 3]], DOWN))
    before = orjson.dumps(state)
    move(state, {0: {"dir": "left"}})
    assert orjson.dumps(state) == before


# -- crashes --------------------------------------------------------------------------------------


def test_wall_crash() -> None:
    state = move(state_of(cycle([[0, 5]], LEFT), cycle([[8, 8]], UP), cycle([[10, 0]], UP)))
    a, b, c = state["cycles"]
    assert a["out"] == FIRST_MOVE and a["trail"] == [[0, 5]]
    assert b["out"] == 0 and b["trail"] == [[8, 8], [8, 7]]
    assert c["out"] == FIRST_MOVE
    right = move(state_of(cycle([[15, 5]], RIGHT), cycle([[8, 15]], DOWN), cycle([[3, 3]], UP)))
    assert [c["out"] for c in right["cycles"]] == [FIRST_MOVE, FIRST_MOVE, 0]


def test_trail_collision_with_another_and_with_itself() -> None:
    wall = cycle([[6, 2], [6, 3], [6, 4], [6, 5]], DOWN)
    state = move(state_of(cycle([[5, 4]], RIGHT), wall))
    assert state["cycles"][0]["out"] == FIRST_MOVE and state["cycles"][1]["out"] == 0
    # Its own trail, after three turns.
    loop = cycle([[2, 2], [3, 2], [3, 3], [2, 3]], LEFT)
    state = move(state_of(loop, cycle([[12, 12]], UP)), {0: {"dir": "up"}})
    assert state["cycles"][0]["out"] == FIRST_MOVE


def test_crashed_trails_stay() -> None:
    dead = cycle([[6, 2], [6, 3], [6, 4]], DOWN, out=10)
    state = move(state_of(cycle([[5, 3]], RIGHT), dead, cycle([[12, 12]], UP)))
    assert state["cycles"][0]["out"] == FIRST_MOVE
    assert state["cycles"][1] == dead


def test_head_on_into_the_same_cell_crashes_both() -> None:
    state = move(state_of(cycle([[4, 8]], RIGHT), cycle([[6, 8]], LEFT), cycle([[12, 12]], UP)))
    a, b, c = state["cycles"]
    assert a["out"] == b["out"] == FIRST_MOVE and c["out"] == 0
    assert a["trail"] == [[4, 8]] and b["trail"] == [[6, 8]]


def test_head_on_swap_crashes_both() -> None:
    state = move(state_of(cycle([[4, 8]], RIGHT), cycle([[5, 8]], LEFT), cycle([[12, 12]], UP)))
    assert [c["out"] for c in state["cycles"]] == [FIRST_MOVE, FIRST_MOVE, 0]


def test_following_a_tail_is_a_crash_trails_never_move() -> None:
    state = move(state_of(cycle([[3, 8]], RIGHT), cycle([[4, 8], [4, 9]], DOWN), cycle([[12, 2]], UP)))
    assert [c["out"] for c in state["cycles"]] == [FIRST_MOVE, 0, 0]


# -- outcomes -------------------------------------------------------------------------------------


def test_last_alive_wins_and_the_rest_rank_by_how_long_they_lasted() -> None:
    state = state_of(
        cycle([[1, 1]], UP, out=40),
        cycle([[3, 3]], UP),
        cycle([[5, 5]], UP, out=60),
        cycle([[7, 7]], UP, out=40),
        cycle([[9, 9]], UP, out=36),
    )
    outcome = GAME.outcome(state)
    assert outcome == Outcome.ranked([[1], [2], [0, 3], [4]])
    assert outcome is not None and outcome.winner == 1 and outcome.places() == [3, 1, 2, 3, 5]
    assert GAME.outcome(state_of(cycle([[1, 1]], UP), cycle([[3, 3]], UP), cycle([[5, 5]], UP, 9))) is None


def test_everyone_out_at_once_ties_for_first() -> None:
    state = move(state_of(cycle([[4, 8]], RIGHT), cycle([[6, 8]], LEFT)))
    outcome = GAME.outcome(state)
    assert outcome == Outcome.ranked([[0, 1]]) and outcome is not None and outcome.is_draw


def test_a_game_nobody_steers_ends() -> None:
    for players in range(2, 9):
        state = GAME.setup({"players": players}, RNG)
        for _ in range(START_TICKS + MOVE_EVERY * 70):
            state = GAME.tick(state, {}, RNG)
            if GAME.outcome(state) is not None:
                break
        assert GAME.outcome(state) is not None, players


# -- leaving --------------------------------------------------------------------------------------


def test_a_leaver_is_out_at_the_next_tick_and_its_trail_stays() -> None:
    state = state_of(cycle([[1, 1], [1, 2]], DOWN), cycle([[3, 3]], UP), tick=41)
    after = GAME.leave(state, 0)
    assert after["cycles"][0] == cycle([[1, 1], [1, 2]], DOWN, out=42)
    assert after["cycles"][1] == state["cycles"][1] and after["tick"] == 41
    assert state["cycles"][0]["out"] == 0  # the state it was given is left alone
    # Before the first tick too: out is never 0 (which means riding).
    assert GAME.leave(GAME.setup({}, RNG), 2)["cycles"][2]["out"] == 1
    crashed = state_of(cycle([[1, 1]], UP, out=36), cycle([[3, 3]], UP))
    assert GAME.leave(crashed, 0) == crashed


def test_forfeit_plays_on_while_two_still_ride() -> None:
    state = state_of(cycle([[1, 1]], UP), cycle([[3, 3]], UP), cycle([[5, 5]], UP), cycle([[7, 7]], UP, 40))
    assert GAME.forfeit(GAME.leave(state, 0), 0, [1, 2, 3]) is None


def test_forfeit_that_leaves_one_rider_ends_the_game_in_elimination_order() -> None:
    state = state_of(
        cycle([[1, 1]], UP), cycle([[3, 3]], UP), cycle([[5, 5]], UP, 50), cycle([[7, 7]], UP, 40), tick=52
    )
    assert GAME.forfeit(GAME.leave(state, 0), 0, [1, 2, 3]) == Outcome.ranked([[1], [0], [2], [3]], "forfeit")
    # Two players: the one who stays wins.
    two = GAME.leave(state_of(cycle([[1, 1]], UP), cycle([[3, 3]], UP)), 1)
    assert GAME.forfeit(two, 1, [0]) == Outcome.ranked([[0], [1]], "forfeit")
    assert GAME.forfeit(two, 1, [0]).winner == 0  # type: ignore[union-attr]


def test_an_earlier_leaver_ranks_by_when_it_left() -> None:
    # Seat 2 left at tick 40, seat 0 leaves at tick 60: seat 1 is the last one riding.
    state = state_of(cycle([[1, 1]], UP), cycle([[3, 3]], UP), cycle([[5, 5]], UP), cycle([[7, 7]], UP, 40))
    state = GAME.leave({**state, "tick": 40}, 2)
    assert GAME.forfeit(state, 2, [0, 1, 3]) is None
    state = GAME.leave({**state, "tick": 60}, 0)
    assert GAME.forfeit(state, 0, [1, 3]) == Outcome.ranked([[1], [0], [2], [3]], "forfeit")


def test_forfeit_of_a_crashed_seat_keeps_its_place() -> None:
    state = state_of(cycle([[1, 1]], UP, 44), cycle([[3, 3]], UP), cycle([[5, 5]], UP))
    assert GAME.forfeit(GAME.leave(state, 0), 0, [1, 2]) is None
    state = state_of(cycle([[1, 1]], UP, 44), cycle([[3, 3]], UP), cycle([[5, 5]], UP, 48))
    assert GAME.forfeit(GAME.leave(state, 2), 2, [0, 1]) == Outcome.ranked([[1], [2], [0]], "forfeit")


def _to(match: tk.TickMatch, n: int) -> tk.TickStep:
    """Advance ``match`` through the tick engine to the deadline of tick ``n``, a second at a time."""
    while True:
        result = tk.step(GAME, match, tk.Advance(match.started_at + min(n, match.tick + 30) / match.rate))
        match = result.match
        if match.tick >= n or match.over:
            return result


def test_a_leaver_in_a_four_player_match_is_out_at_once_and_the_others_play_on() -> None:
    first = tk.start(GAME, id="m", number=1, seats=4, seed=3, options={}, at=0.0).match
    steps = [_to(first, 40)]  # three moves each
    before = steps[-1].match
    steps.append(tk.step(GAME, before, tk.Leave(1, 0.0)))
    left = steps[-1].match
    assert left.outcome is None and left.gone == {1}
    assert left.state["cycles"][1] == {**before.state["cycles"][1], "out": 41}
    assert [c["out"] for c in left.state["cycles"]] == [0, 41, 0, 0]
    steps.append(_to(left, 44))
    moved = steps[-1].match.state["cycles"]
    assert [len(c["trail"]) for c in moved] == [5, 4, 5, 5]  # the leaver's trail stays, and stops
    assert tk.step(GAME, steps[-1].match, tk.Input(1, 0, 45, {"dir": "left"})).refused is not None
    steps.append(_to(steps[-1].match, 10_000))  # nobody steers: the others ride into the walls
    done = steps[-1].match
    assert done.outcome is not None and done.outcome.reason == "rules"
    outs = [c["out"] for c in done.state["cycles"]]
    assert outs[1] == 41 and all(out > 44 for s, out in enumerate(outs) if s != 1)
    assert done.outcome == Outcome.ranked(ranking(done.state)).for_seats(4)
    assert done.outcome.ranking is not None and done.outcome.ranking[-1] == (1,)  # out first: last
    records = [e for s in steps for e in s.effects if type(e) is tk.Record]
    back = tk.replay(GAME, id="m", number=1, seats=4, seed=3, options={}, records=records)
    assert (back.state, back.tick, back.outcome) == (done.state, done.tick, done.outcome)
    assert back.gone == done.gone == {1}


def test_leavers_until_one_rides_end_the_match_by_forfeit() -> None:
    match = tk.start(GAME, id="m", number=1, seats=3, seed=3, options={"players": 3}, at=0.0).match
    match = _to(match, 36).match
    match = tk.step(GAME, match, tk.Leave(2, 0.0)).match
    match = _to(match, 48).match
    result = tk.step(GAME, match, tk.Leave(0, 0.0))
    assert [type(e).__name__ for e in result.effects] == ["Record", "Finished"]
    assert result.match.outcome == Outcome.ranked([[1], [0], [2]], "forfeit")


# -- determinism, bots, JSON ----------------------------------------------------------------------


def test_same_inputs_same_states() -> None:
    first = play(21, players=3)
    assert play(21, players=3) == first
    assert play(22, players=3) != first


def test_a_tick_goes_the_same_from_a_state_it_made_as_from_a_copy_of_it() -> None:
    """``tick`` carries the taken cells from one of its states to the next (not to count every
    trail again): ticking on, ticking a state twice, a state ``leave`` made and states it has
    forgotten must all give what a fresh copy of the state (nothing carried) gives."""
    for _ in range(arena._TAKEN_MAX + 1):  # fill what it keeps past its limit: it starts again
        GAME.tick(state_of(cycle([[1, 1]], RIGHT)), {}, RNG)
    bot_rng = random.Random(5)
    state = GAME.setup({"players": 4}, Rng(5, 0))
    steps = 0
    while GAME.outcome(state) is None:
        inputs = {}
        for seat in range(4):
            data = simple_bot(GAME, state, seat, bot_rng)
            if data is not None and GAME.validate_input(state, seat, data) is None:
                inputs[seat] = data
        fresh = GAME.tick(orjson.loads(orjson.dumps(state)), inputs, RNG)
        if steps % 7 == 0:  # a branch first: the same state ticked with no inputs, then again
            assert GAME.tick(state, {}, RNG) == GAME.tick(orjson.loads(orjson.dumps(state)), {}, RNG)
        after = GAME.tick(state, inputs, RNG)
        assert after == fresh, steps
        if steps == 200:  # a leaver: its trail stays taken
            after = GAME.leave(after, 3)
        state, steps = after, steps + 1
    assert steps > 200


def test_bot_games_always_end() -> None:
    lengths = []
    for seed in range(50):
        states = play(seed)
        final = states[-1]
        assert GAME.outcome(final) is not None
        assert sum(1 for c in final["cycles"] if c["out"] == 0) <= 1
        lengths.append(len(states) - 1)
    # While two or more ride, each move fills two cells or more of the 32 x 32 grid's 1020 free ones.
    assert max(lengths) <= START_TICKS + 2 + MOVE_EVERY * (1020 // 2), lengths
    assert sum(lengths) / len(lengths) > START_TICKS + MOVE_EVERY * 60, "bots ride a while"


def test_bots_beat_a_cycle_that_never_turns() -> None:
    for seed in range(5):
        bot_rng = random.Random(seed)
        state = GAME.setup({"players": 2}, RNG)
        while GAME.outcome(state) is None:
            data = simple_bot(GAME, state, 0, bot_rng)
            state = GAME.tick(state, {0: data} if data else {}, RNG)
        assert GAME.outcome(state) == Outcome.ranked([[0], [1]])


def test_states_stay_json_integers_and_small_enough() -> None:
    rng = random.Random(8)
    bot_rng = random.Random(9)
    state = GAME.setup({"players": 8}, Rng(8, 0))
    for n in range(1, 20_000):
        inputs = {}
        for seat in range(8):
            data = simple_bot(GAME, state, seat, bot_rng)
            if rng.random() < 0.01:  # now and then a random turn
                data = {"dir": rng.choice(["up", "down", "left", "right"])}
            if data is not None and GAME.validate_input(state, seat, data) is None:
                inputs[seat] = data
        state = GAME.tick(state, inputs, Rng(8, n))
        if n % 50 == 0:
            assert ints_only(state), state
        if GAME.outcome(state) is not None:
            break
    assert ints_only(state)
    assert GAME.outcome(state) is not None
    assert orjson.loads(orjson.dumps(state)) == state
    assert len(orjson.dumps(state)) < 8 * 40 * 40  # a few bytes per cell of the grid at most
    cells = [tuple(cell) for c in state["cycles"] for cell in c["trail"]]
    assert len(cells) == len(set(cells)), "no two trails share a cell"


# -- the terminal -----------------------------------------------------------------------------------


def test_render() -> None:
    state = state_of(cycle([[1, 1], [1, 2]], DOWN), cycle([[3, 3]], UP, 40))
    lines = GAME.render(state, 0).splitlines()
    assert lines[0] == "red (you): down, 2 cells"
    assert lines[1] == "blue: out, 1 cells"
    grid = lines[3:]
    assert len(grid) == 16 and all(len(row) == 16 for row in grid)
    assert grid[1][1] == "r" and grid[2][1] == "R" and grid[3][3] == "x" and grid[0][0] == "."
    assert GAME.own(state, 1) == state["cycles"][1]
