"""Pong for two: paddles on the left and right, one ball, first to ``points`` wins.

Everything is integers in fixed point, so that the browser's port (``web/boards/pong_rules.js``)
computes the very same states. The field is ``WIDTH`` x ``HEIGHT`` units (1000 x 600), y grows
downwards. The state is::

    {"tick": 0, "points": 5, "score": [0, 0], "paddles": [300, 300], "dirs": [0, 0],
     "ball": [500, 300, -12, 4], "hits": 0, "serve": 30}

``paddles`` are the paddles' centres (y), ``dirs`` the direction each seat holds (-1 up, 0 still,
1 down: an input changes it until the next one), ``ball`` is ``[x, y, vx, vy]`` (centre, units per
tick), ``hits`` the paddle hits of this rally and ``serve`` the ticks left before the ball moves.
An input is ``{"dir": -1 | 0 | 1}``.

The rules. A paddle moves ``PADDLE_SPEED`` a tick. The ball bounces off the top and bottom walls;
off a paddle it comes back one unit a tick faster (up to ``MAX_SPEED``), at an angle set by where
it met the paddle (the edge sends it steepest). A ball past a paddle is a point for the other side,
and the next serve, after ``SERVE_DELAY`` ticks, goes towards the side that lost the point. After
``SHRINK_AFTER`` hits in one rally the paddles shrink with every hit until they are gone, so every
rally ends, even one where nobody moves.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Final

from .base import Outcome, State
from .realtime import RealtimeGame
from .rng import Rng

__all__ = ["Pong", "simple_bot"]

WIDTH: Final = 1000
HEIGHT: Final = 600
#: Half the ball's side (the ball is a square 16 units wide).
BALL_R: Final = 8
#: Half a paddle's length, at the start of a rally.
PADDLE_HALF: Final = 50
#: How far each paddle's face is from its own end of the field (the paddle is 10 units thick).
PADDLE_X: Final = 30
PADDLE_SPEED: Final = 14
SERVE_SPEED: Final = 14
MAX_SPEED: Final = 28
#: Ticks the ball waits at the centre before a serve (one second at 30 ticks a second).
SERVE_DELAY: Final = 30
#: Paddle hits in one rally before the paddles start to shrink, and by how much per hit.
SHRINK_AFTER: Final = 20
SHRINK: Final = 6
#: The vertical speeds a serve can take; which one follows from the tick and the score.
SERVE_VY: Final = (-6, -4, -2, 2, 4, 6)

_FACE_LEFT: Final = PADDLE_X
_FACE_RIGHT: Final = WIDTH - PADDLE_X
_REACH: Final = PADDLE_HALF + BALL_R


def paddle_half(hits: int) -> int:
    """Half a paddle's length after ``hits`` hits in the rally: full, then shrinking to nothing."""
    return max(PADDLE_HALF - SHRINK * max(hits - SHRINK_AFTER, 0), 0)


def _serve_ball(toward: int, tick: int, score: list[int]) -> list[int]:
    """The ball at the centre, to be served towards seat ``toward``, its angle picked from the state."""
    vy = SERVE_VY[(tick + 7 * score[0] + 13 * score[1]) % len(SERVE_VY)]
    return [WIDTH // 2, HEIGHT // 2, -SERVE_SPEED if toward == 0 else SERVE_SPEED, vy]


def _bounce(dy: int, speed: int) -> int:
    """The vertical speed off a paddle met ``dy`` units from its centre: up to 3/4 of ``speed``."""
    return (dy * speed * 3) // (4 * _REACH)


class Pong(RealtimeGame):
    """Classic pong: seat 0 on the left, seat 1 on the right, first to ``points`` (default 5)."""

    name = "pong"
    web_board = "builtin"
    description = "Real-time pong for two: keep the ball in play, first to 5 points wins."
    players = 2
    tick_rate = 30
    patch_rate = 20
    max_input_bytes = 32

    def setup(self, options: dict[str, Any], rng: Rng) -> State:
        """Paddles centred, the first serve in a random direction; option ``points`` (1-21, default 5)."""
        points = options.get("points", 5)
        if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= 21:
            raise ValueError(f"points must be a whole number from 1 to 21 (default 5), not {points!r}")
        vx = rng.choice((-SERVE_SPEED, SERVE_SPEED))
        return {
            "tick": 0,
            "points": points,
            "score": [0, 0],
            "paddles": [HEIGHT // 2, HEIGHT // 2],
            "dirs": [0, 0],
            "ball": [WIDTH // 2, HEIGHT // 2, vx, rng.choice(SERVE_VY)],
            "hits": 0,
            "serve": SERVE_DELAY,
        }

    def validate_input(self, state: State, seat: int, data: Any) -> str | None:
        """Why ``data`` is not ``{"dir": -1 | 0 | 1}``."""
        if type(data) is not dict:
            return 'an input is an object: {"dir": -1}, {"dir": 0} or {"dir": 1}'
        if set(data) != {"dir"}:
            return f'an input has the one key "dir", not {sorted(map(str, data))}'
        value = data["dir"]
        if type(value) is not int:
            return f'"dir" must be the integer -1, 0 or 1, not {type(value).__name__}'
        if value not in (-1, 0, 1):
            return f'"dir" must be -1 (up), 0 (still) or 1 (down), not {value}'
        return None

    def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
        """Paddles, then the ball, one tick on. Never draws from ``rng`` (the serve's angle comes from
        the state), so a client predicts with the same function, and pong_rules.js ports it."""
        dirs = list(state["dirs"])
        for seat, data in inputs.items():
            if seat in (0, 1):
                dirs[seat] = data["dir"]
        paddles = [
            min(max(y + d * PADDLE_SPEED, PADDLE_HALF), HEIGHT - PADDLE_HALF)
            for y, d in zip(state["paddles"], dirs, strict=True)
        ]
        tick = state["tick"] + 1
        score, hits, serve = state["score"], state["hits"], state["serve"]
        ball = state["ball"]
        if serve > 0:
            serve -= 1
        else:
            x, y, vx, vy = ball
            old_x = x
            x += vx
            y += vy
            if y < BALL_R:
                y, vy = 2 * BALL_R - y, -vy
            elif y > HEIGHT - BALL_R:
                y, vy = 2 * (HEIGHT - BALL_R) - y, -vy
            half = paddle_half(hits)
            if vx < 0 and old_x - BALL_R >= _FACE_LEFT > x - BALL_R:
                dy = y - paddles[0]
                if half > 0 and -half - BALL_R <= dy <= half + BALL_R:
                    vx = min(-vx + 1, MAX_SPEED)
                    x, vy, hits = 2 * (_FACE_LEFT + BALL_R) - x, _bounce(dy, vx), hits + 1
            elif vx > 0 and old_x + BALL_R <= _FACE_RIGHT < x + BALL_R:
                dy = y - paddles[1]
                if half > 0 and -half - BALL_R <= dy <= half + BALL_R:
                    speed = min(vx + 1, MAX_SPEED)
                    x, vx, vy, hits = 2 * (_FACE_RIGHT - BALL_R) - x, -speed, _bounce(dy, speed), hits + 1
            if x < 0 or x > WIDTH:
                loser = 0 if x < 0 else 1
                score = list(score)
                score[1 - loser] += 1
                ball, hits, serve = _serve_ball(loser, tick, score), 0, SERVE_DELAY
            else:
                ball = [x, y, vx, vy]
        return {
            "tick": tick,
            "points": state["points"],
            "score": score,
            "paddles": paddles,
            "dirs": dirs,
            "ball": ball,
            "hits": hits,
            "serve": serve,
        }

    def outcome(self, state: State) -> Outcome | None:
        """The first seat to ``points`` wins."""
        for seat, points in enumerate(state["score"]):
            if points >= state["points"]:
                return Outcome.win(seat)
        return None

    def own(self, view: Any, seat: int) -> Any:
        """The part of the view a seat's inputs decide: its paddle and the direction it holds."""
        return [view["paddles"][seat], view["dirs"][seat]]

    def seat_label(self, seat: int) -> str:
        return ("left", "right")[seat] if seat in (0, 1) else f"player {seat + 1}"

    def render(self, view: Any, seat: int | None) -> str:
        """The field in 50 x 15 characters under a score line: paddles ``|``, the ball ``o``."""
        cols, rows = 50, 15
        grid = [[" "] * cols for _ in range(rows)]
        half = paddle_half(view["hits"])
        for side, column in ((0, 1), (1, cols - 2)):
            centre = view["paddles"][side]
            for r in range(rows):
                mid = (2 * r + 1) * HEIGHT // (2 * rows)
                if half > 0 and abs(mid - centre) <= half:
                    grid[r][column] = "|"
        x, y = view["ball"][0], view["ball"][1]
        grid[min(max(y * rows // HEIGHT, 0), rows - 1)][min(max(x * cols // WIDTH, 0), cols - 1)] = "o"
        you = [" (you)" if seat == side else "" for side in (0, 1)]
        left, right = view["score"]
        head = f"left{you[0]} {left} : {right} right{you[1]}   first to {view['points']}"
        if view["serve"] > 0:
            head += "   serving..."
        border = "+" + "-" * cols + "+"
        return "\n".join([head, border, *("|" + "".join(row) + "|" for row in grid), border])


def _intercept(x: int, y: int, vx: int, vy: int, face: int) -> int:
    """Where the ball's centre will be, in y, when it reaches x = ``face`` (folding in wall bounces)."""
    ticks = abs(face - x) // max(abs(vx), 1)
    low, span = BALL_R, HEIGHT - 2 * BALL_R
    raw = (y + vy * ticks - low) % (2 * span)
    return low + (raw if raw <= span else 2 * span - raw)


def simple_bot(game: RealtimeGame, view: State, seat: int, rng: random.Random) -> Any:
    """Follow the ball: move to where it will meet the paddle, give or take an error that grows with
    its speed, and now and then react a tick late (keep the direction held). Back to the middle
    while the ball goes away."""
    if rng.random() < 0.25:  # reaction lag: keep doing what the paddle does
        return None
    x, y, vx, vy = view["ball"]
    speed = abs(vx)
    toward = vx < 0 if seat == 0 else vx > 0
    if toward:
        face = _FACE_LEFT + BALL_R if seat == 0 else _FACE_RIGHT - BALL_R
        target = _intercept(x, y, vx, vy, face)
        # A misjudgement that stays put for one flight (wall bounces flip vy, not its size).
        wobble = (speed * 7 + abs(vy) * 13 + view["hits"] * 5 + seat * 3) % 17 - 8
        target += wobble * (speed - 7)
    else:
        target = HEIGHT // 2
    gap = target - view["paddles"][seat]
    want = 0 if abs(gap) <= PADDLE_SPEED // 2 else (1 if gap > 0 else -1)
    return None if want == view["dirs"][seat] else {"dir": want}


Pong.bots = {"simple": simple_bot}
