"""Pong: setup, inputs, paddles, bounces, points, serves, the end of a game, bots, the terminal."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from netplay.games.base import Outcome, State
from netplay.games.pong import (
    BALL_R,
    HEIGHT,
    MAX_SPEED,
    PADDLE_HALF,
    PADDLE_SPEED,
    PADDLE_X,
    SERVE_DELAY,
    SERVE_SPEED,
    SERVE_VY,
    WIDTH,
    Pong,
    paddle_half,
    simple_bot,
)
from netplay.games.rng import Rng

GAME = Pong()
RNG = Rng(0, 0)  # tick never draws from it


def state_of(**changes: Any) -> State:
    """A state in play (no serve wait), the ball at the centre going right, changed by ``changes``."""
    state = {
        "tick": 100,
        "points": 5,
        "score": [0, 0],
        "paddles": [HEIGHT // 2, HEIGHT // 2],
        "dirs": [0, 0],
        "ball": [WIDTH // 2, HEIGHT // 2, SERVE_SPEED, 0],
        "hits": 0,
        "serve": 0,
    }
    state.update(changes)
    return state


def run(state: State, ticks: int, inputs: dict[int, Any] | None = None) -> State:
    for n in range(ticks):
        state = GAME.tick(state, (inputs or {}) if n == 0 else {}, RNG)
    return state


def play(seed: int, bots: tuple[Any, Any] = (simple_bot, simple_bot), **options: Any) -> list[State]:
    """A bot-vs-bot game (bot rng seeded by ``seed``): every state on the way."""
    bot_rng = random.Random(seed)
    state = GAME.setup(dict(options), Rng(seed, 0))
    states = [state]
    while GAME.outcome(state) is None:
        inputs = {}
        for seat in (0, 1):
            data = bots[seat](GAME, GAME.view(state, seat), seat, bot_rng)
            if data is not None:
                assert GAME.validate_input(state, seat, data) is None
                inputs[seat] = data
        state = GAME.tick(state, inputs, Rng(seed, len(states)))
        states.append(state)
        assert len(states) < 20_000, "the game does not end"
    return states


def ints_only(value: Any) -> bool:
    """Whether every number in ``value`` is an int (no bool, no float) and it is JSON's shape."""
    if type(value) is dict:
        return all(type(k) is str and ints_only(v) for k, v in value.items())
    if type(value) is list:
        return all(ints_only(v) for v in value)
    return type(value) is int or type(value) is str


# -- setup and options ----------------------------------------------------------------------------


def test_metadata() -> None:
    assert GAME.name == "pong" and GAME.players == 2 and GAME.description
    assert (GAME.tick_rate, GAME.patch_rate) == (30, 20)
    assert list(GAME.bots) == ["simple"]
    assert GAME.seat_count({}) == 2
    assert (GAME.seat_label(0), GAME.seat_label(1)) == ("left", "right")
    assert not GAME.has_hidden_information


def test_setup_shape() -> None:
    state = GAME.setup({}, Rng(1, 0))
    assert set(state) == {"tick", "points", "score", "paddles", "dirs", "ball", "hits", "serve"}
    assert state["tick"] == 0 and state["points"] == 5 and state["score"] == [0, 0]
    assert state["paddles"] == [HEIGHT // 2] * 2 and state["dirs"] == [0, 0]
    x, y, vx, vy = state["ball"]
    assert (x, y) == (WIDTH // 2, HEIGHT // 2) and abs(vx) == SERVE_SPEED and vy in SERVE_VY
    assert state["hits"] == 0 and state["serve"] == SERVE_DELAY
    assert ints_only(state) and GAME.outcome(state) is None
    serves = {tuple(GAME.setup({}, Rng(seed, 0))["ball"][2:]) for seed in range(40)}
    assert {vx for vx, _ in serves} == {-SERVE_SPEED, SERVE_SPEED}, "the first serve goes either way"
    assert GAME.setup({"points": 21}, Rng(1, 0))["points"] == 21


@pytest.mark.parametrize("points", [0, 22, -1, True, 2.0, "5", None])
def test_points_option_is_checked(points: Any) -> None:
    with pytest.raises(ValueError, match="points must be a whole number from 1 to 21"):
        GAME.setup({"points": points}, Rng(1, 0))


# -- inputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (None, "an object"),
        ([1], "an object"),
        ("up", "an object"),
        (1, "an object"),
        ({}, 'one key "dir"'),
        ({"dir": 1, "extra": 0}, 'one key "dir"'),
        ({"direction": 1}, 'one key "dir"'),
        ({"dir": True}, "integer"),
        ({"dir": False}, "integer"),
        ({"dir": 1.0}, "integer"),
        ({"dir": "1"}, "integer"),
        ({"dir": None}, "integer"),
        ({"dir": 2}, "-1 (up), 0 (still) or 1 (down)"),
        ({"dir": -2}, "-1 (up), 0 (still) or 1 (down)"),
    ],
)
def test_validate_input_refuses(data: Any, says: str) -> None:
    reason = GAME.validate_input(state_of(), 0, data)
    assert reason is not None and says in reason


def test_validate_input_accepts() -> None:
    for d in (-1, 0, 1):
        assert GAME.validate_input(state_of(), 1, {"dir": d}) is None


# -- paddles --------------------------------------------------------------------------------------


def test_a_direction_is_held_until_changed_and_paddles_stop_at_the_walls() -> None:
    state = GAME.tick(state_of(), {0: {"dir": -1}, 1: {"dir": 1}}, RNG)
    assert state["dirs"] == [-1, 1]
    assert state["paddles"] == [HEIGHT // 2 - PADDLE_SPEED, HEIGHT // 2 + PADDLE_SPEED]
    state = GAME.tick(state, {}, RNG)
    assert state["paddles"] == [HEIGHT // 2 - 2 * PADDLE_SPEED, HEIGHT // 2 + 2 * PADDLE_SPEED]
    state = run(state, 40)
    assert state["paddles"] == [PADDLE_HALF, HEIGHT - PADDLE_HALF]
    state = GAME.tick(state, {0: {"dir": 0}}, RNG)
    assert state["dirs"] == [0, 1] and state["paddles"] == [PADDLE_HALF, HEIGHT - PADDLE_HALF]


def test_tick_leaves_its_state_alone() -> None:
    state = state_of(ball=[40, 300, -14, 3])
    before = orjson.dumps(state)
    GAME.tick(state, {0: {"dir": 1}, 1: {"dir": -1}}, RNG)
    assert orjson.dumps(state) == before


# -- the ball -------------------------------------------------------------------------------------


def test_the_ball_waits_for_the_serve() -> None:
    state = state_of(serve=3)
    for left in (2, 1, 0):
        state = GAME.tick(state, {}, RNG)
        assert state["serve"] == left and state["ball"] == [WIDTH // 2, HEIGHT // 2, SERVE_SPEED, 0]
    state = GAME.tick(state, {}, RNG)
    assert state["ball"][0] == WIDTH // 2 + SERVE_SPEED


def test_bounce_off_the_walls() -> None:
    state = GAME.tick(state_of(ball=[500, 12, 14, -10]), {}, RNG)
    assert state["ball"] == [514, 2 * BALL_R - 2, 14, 10]
    state = GAME.tick(state_of(ball=[500, HEIGHT - 12, 14, 10]), {}, RNG)
    assert state["ball"] == [514, 2 * (HEIGHT - BALL_R) - (HEIGHT - 2), 14, -10]


def test_bounce_off_a_paddle_speeds_up_and_takes_its_angle_from_where_it_hit() -> None:
    face = PADDLE_X
    # Straight into the middle of the left paddle: straight back, one faster.
    state = GAME.tick(state_of(ball=[face + BALL_R + 5, 300, -14, 0]), {}, RNG)
    assert state["ball"] == [2 * (face + BALL_R) - (face + BALL_R + 5 - 14), 300, 15, 0]
    assert state["hits"] == 1
    # Low on the right paddle: back and downwards; high: upwards (floored, as in JS).
    right = WIDTH - PADDLE_X
    low = GAME.tick(state_of(ball=[right - BALL_R - 5, 340, 14, 0]), {}, RNG)
    high = GAME.tick(state_of(ball=[right - BALL_R - 5, 260, 14, 0]), {}, RNG)
    assert low["ball"][2] == -15 and low["ball"][3] == (40 * 15 * 3) // (4 * 58) == 7
    assert high["ball"][2] == -15 and high["ball"][3] == (-40 * 15 * 3) // (4 * 58) == -8
    # The very edge sends it steepest: 3/4 of the speed.
    edge = GAME.tick(state_of(ball=[right - BALL_R - 5, 300 + 58, 14, 0]), {}, RNG)
    assert edge["ball"][3] == (58 * 15 * 3) // (4 * 58)


def test_speed_is_bounded() -> None:
    state = GAME.tick(state_of(ball=[PADDLE_X + BALL_R + 5, 300, -MAX_SPEED, 0]), {}, RNG)
    assert state["ball"][2] == MAX_SPEED


def test_a_missed_ball_scores_and_serves_towards_the_loser() -> None:
    # The left paddle is at the top: the ball goes by at the bottom.
    state = state_of(paddles=[PADDLE_HALF, 300], ball=[PADDLE_X + BALL_R + 2, 500, -14, 0])
    state = run(state, 3)
    assert state["score"] == [0, 1] and state["hits"] == 0 and state["serve"] == SERVE_DELAY
    x, y, vx, vy = state["ball"]
    assert (x, y, vx) == (WIDTH // 2, HEIGHT // 2, -SERVE_SPEED) and vy in SERVE_VY
    state = state_of(paddles=[300, PADDLE_HALF], ball=[WIDTH - PADDLE_X - BALL_R - 2, 500, 14, 0])
    state = run(state, 3)
    assert state["score"] == [1, 0] and state["ball"][2] == SERVE_SPEED


def test_first_to_the_points_wins() -> None:
    state = state_of(points=3, score=[2, 2], paddles=[300, PADDLE_HALF], ball=[WIDTH - 20, 500, 14, 0])
    assert GAME.outcome(state) is None
    state = run(state, 3)
    assert state["score"] == [3, 2]
    assert GAME.outcome(state) == Outcome.win(0)
    assert GAME.outcome(state_of(score=[1, 5])) == Outcome.win(1)


def test_paddles_shrink_in_a_long_rally_until_it_ends() -> None:
    assert paddle_half(0) == paddle_half(20) == PADDLE_HALF
    assert paddle_half(21) == PADDLE_HALF - 6 and paddle_half(29) == 0 and paddle_half(500) == 0
    # A ball straight along the middle, paddles in the middle: they hit it until they are gone.
    state = state_of()
    for _ in range(5000):
        state = GAME.tick(state, {}, RNG)
        if state["score"] != [0, 0]:
            break
    assert sum(state["score"]) == 1
    assert state["tick"] - 100 < 2000


@pytest.mark.parametrize("seed", range(6))
def test_a_game_nobody_plays_still_ends(seed: int) -> None:
    states = play(seed, (lambda *_: None, lambda *_: None))
    assert max(states[-1]["score"]) == 5 and len(states) < 10_000


def test_a_game_where_the_paddles_sit_anywhere_ends() -> None:
    for top in range(PADDLE_HALF, HEIGHT - PADDLE_HALF + 1, 37):
        state = state_of(paddles=[top, HEIGHT - top], ball=[500, 300, 14, 2])
        for _ in range(3000):
            state = GAME.tick(state, {}, RNG)
            if sum(state["score"]):
                break
        assert sum(state["score"]) == 1, top


# -- determinism, bots, JSON ----------------------------------------------------------------------


def test_same_inputs_same_states() -> None:
    first, second = play(11), play(11)
    assert first == second
    assert play(12) != first


def test_tick_does_not_use_the_rng() -> None:
    bot_rng = random.Random(5)
    state = GAME.setup({}, Rng(5, 0))
    for n in range(1, 400):
        inputs = {s: d for s in (0, 1) if (d := simple_bot(GAME, state, s, bot_rng)) is not None}
        assert GAME.tick(state, inputs, Rng(999, n)) == GAME.tick(state, inputs, Rng(1, 2))
        state = GAME.tick(state, inputs, Rng(0, n))


def test_bot_games_end_in_reasonable_time() -> None:
    lengths = []
    for seed in range(50):
        states = play(seed)
        outcome = GAME.outcome(states[-1])
        assert outcome is not None and outcome.winner in (0, 1)
        assert max(states[-1]["score"]) == 5
        lengths.append(len(states) - 1)
    assert max(lengths) < 90 * GAME.tick_rate, lengths  # 90 s of game time
    assert max(max(s["hits"] for s in play(seed)) for seed in range(3)) >= 3, "bots do rally"


def test_bots_beat_a_still_paddle() -> None:
    states = play(3, (simple_bot, lambda *_: None))
    assert GAME.outcome(states[-1]) == Outcome.win(0)


def test_states_stay_json_integers_and_small() -> None:
    rng = random.Random(4)
    state = GAME.setup({"points": 21}, Rng(4, 0))
    for n in range(1, 5000):
        inputs = {s: {"dir": rng.choice((-1, 0, 1))} for s in (0, 1) if rng.random() < 0.2}
        state = GAME.tick(state, inputs, Rng(4, n))
        assert ints_only(state), state
        x, y, vx, vy = state["ball"]
        assert -MAX_SPEED <= x <= WIDTH + MAX_SPEED and BALL_R <= y <= HEIGHT - BALL_R
        assert abs(vx) <= MAX_SPEED and abs(vy) <= MAX_SPEED
        if GAME.outcome(state) is not None:
            break
    assert orjson.loads(orjson.dumps(state)) == state
    assert len(orjson.dumps(state)) < 200


# -- forfeit and the terminal ---------------------------------------------------------------------


def test_forfeit_the_other_side_wins() -> None:
    assert GAME.forfeit(state_of(), 0, [1]) == Outcome.win(1, "forfeit")


def test_render() -> None:
    text = GAME.render(state_of(score=[2, 3], serve=10), 1)
    lines = text.splitlines()
    assert lines[0].startswith("left 2 : 3 right (you)") and "serving" in lines[0]
    assert len(lines) == 18 and all(len(line) == 52 for line in lines[1:])
    assert sum(line.count("o") for line in lines[1:]) == 1
    assert sum(line.count("|") for line in lines[2:-1]) > 2 * 16  # the borders and both paddles
    assert GAME.own(state_of(), 1) == [HEIGHT // 2, 0]
