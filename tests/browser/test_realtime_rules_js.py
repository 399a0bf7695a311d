"""pong_rules.js and arena_rules.js against the Python rules, in real headless Chromium: 2,000 ticks
of bot-driven play per game (with random inputs mixed in), made in Python from a seed, give the very
same states in JavaScript, tick by tick; and ``validateInput`` accepts and refuses what Python does.

The modules are imported from ``data:`` URLs (no server needed). Each game's cases travel in one
``evaluate`` call: the states as canonical JSON text (orjson's, keys sorted), compared in the page.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from netplay.games.arena import Arena
from netplay.games.pong import Pong
from netplay.games.realtime import RealtimeGame
from netplay.games.rng import Rng

BOARDS = Path(__file__).resolve().parents[2] / "src" / "netplay" / "web" / "boards"
TICKS = 2000

LOAD = """async ([name, source]) => {
  window.rules = window.rules || {};
  window.rules[name] = await import("data:text/javascript;charset=utf-8," + encodeURIComponent(source));
  return Object.keys(window.rules[name]).sort();
}"""

# Runs every segment from its first state through its inputs; the first state that differs, if any.
# Odd ticks pass the inputs as a Map keyed by numbers, even ones as the plain object (string keys).
REPLAY = """([name, segments]) => {
  const { tick } = window.rules[name];
  const canon = (v) => {
    if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
    if (v !== null && typeof v === "object") {
      return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}";
    }
    return JSON.stringify(v);
  };
  let ticks = 0;
  for (const [index, segment] of segments.entries()) {
    let state = JSON.parse(segment.start);
    for (const [step, [inputs, expected]] of segment.steps.entries()) {
      const before = canon(state);
      const given = step % 2 ? new Map(Object.entries(inputs).map(([k, v]) => [Number(k), v])) : inputs;
      const next = tick(state, given);
      if (canon(state) !== before) return { index, step, problem: "tick changed the state it was given" };
      const got = canon(next);
      if (got !== expected) return { index, step, inputs, before, expected, got };
      state = next;
      ticks += 1;
    }
  }
  return { ticks };
}"""

VALIDATE = """([name, cases]) => {
  const { validateInput } = window.rules[name];
  return cases.map(([state, seat, data]) => validateInput(state, seat, data) === null);
}"""


def canonical(state: Any) -> str:
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS).decode()


Noise = Callable[[random.Random, Any, int], Any]


def segment(
    game: RealtimeGame, start: Any, ticks: int, seed: int, noise: Noise, seats: int, bots: bool = True
) -> tuple[dict[str, Any], int]:
    """Up to ``ticks`` ticks from ``start``, each seat's input from its bot (or, now and then, from
    ``noise``), as the page wants them; and how many ticks it took (the game may end sooner)."""
    bot = next(iter(game.bots.values()))
    rng = random.Random(seed)
    state = start
    steps = []
    for n in range(1, ticks + 1):
        inputs = {}
        for seat in range(seats):
            data = bot(game, state, seat, rng) if bots else None
            if bots and rng.random() < 0.04:
                data = noise(rng, state, seat)
            if data is not None and game.validate_input(state, seat, data) is None:
                inputs[str(seat)] = data
        state = game.tick(state, {int(s): d for s, d in inputs.items()}, Rng(seed, n))
        steps.append([inputs, canonical(state)])
        if game.outcome(state) is not None:
            break
    return {"start": canonical(start), "steps": steps}, len(steps)


def pong_noise(rng: random.Random, state: Any, seat: int) -> Any:
    return {"dir": rng.choice((-1, 0, 1))}


@functools.cache
def pong_segments(seed: int) -> list[dict[str, Any]]:
    game = Pong()
    segments = []
    done, n = 0, 0
    while done < TICKS:
        start = game.setup({"points": 1 + (n * 4) % 7}, Rng(seed + n, 0))
        case, ran = segment(game, start, TICKS - done, seed + n, pong_noise, 2)
        segments.append(case)
        done, n = done + ran, n + 1
    # Nobody moves, the ball straight down the middle: a rally until the paddles have shrunk away.
    still = {**game.setup({}, Rng(seed, 0)), "ball": [500, 300, 14, 0], "serve": 0}
    case, _ = segment(game, still, 1500, seed, lambda r, s, i: None, 2, bots=False)
    segments.append(case)
    return segments


def arena_noise(rng: random.Random, state: Any, seat: int) -> Any:
    return {"dir": rng.choice(("up", "right", "down", "left"))}  # reverses too: tick ignores them


@functools.cache
def arena_segments(seed: int) -> list[dict[str, Any]]:
    game = Arena()
    segments = []
    done, n = 0, 0
    while done < TICKS:
        players = 2 + (n * 3) % 7  # 2, 5, 8, 4, 7, ...
        options = {"players": players, "size": 16} if n % 4 == 3 else {"players": players}
        start = game.setup(options, Rng(seed + n, 0))
        case, ran = segment(game, start, TICKS - done, seed + n, arena_noise, players)
        segments.append(case)
        done, n = done + ran, n + 1
    # Head on, nobody steering: into one cell (0 and 1), and through each other (2 and 3).
    rows = [[[2, 4]], [[8, 4]], [[2, 10]], [[7, 10]]]
    cycles = [{"dir": d, "out": 0, "trail": t} for d, t in zip((1, 3, 1, 3), rows, strict=True)]
    case, _ = segment(game, {"tick": 0, "size": 16, "cycles": cycles}, 100, seed, arena_noise, 4, False)
    segments.append(case)
    return segments


@pytest.fixture(scope="module")
def page(browser: Any) -> Any:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("about:blank")
    for name in ("pong", "arena"):
        exported = page.evaluate(LOAD, [name, (BOARDS / f"{name}_rules.js").read_text()])
        assert {"tick", "validateInput"} <= set(exported)
    yield page
    context.close()
    assert not errors, errors


@pytest.mark.parametrize(("name", "make"), [("pong", pong_segments), ("arena", arena_segments)])
def test_javascript_ticks_give_python_states(page: Any, name: str, make: Any) -> None:
    segments = make(2024)
    ticks = sum(len(s["steps"]) for s in segments)
    assert ticks >= TICKS
    result = page.evaluate(REPLAY, [name, segments])
    assert result == {"ticks": ticks}, result


def test_the_replay_covers_the_rules() -> None:
    """The play the JS checks above run through reaches the interesting cases of each game."""
    pong = [orjson.loads(step[1]) for s in pong_segments(2024) for step in s["steps"]]
    assert max(s["hits"] for s in pong) > 20, "the paddles shrink"
    assert sum(1 for a, b in itertools.pairwise(pong) if b["score"] != a["score"]) >= 8
    assert {s["dirs"][0] for s in pong} == {-1, 0, 1}
    arena = [orjson.loads(step[1]) for s in arena_segments(2024) for step in s["steps"]]
    finals = [s for s in arena if Arena().outcome(s) is not None]
    assert len(finals) >= 2 and {len(s["cycles"]) for s in arena} >= {2, 5}
    crashes = {c["out"] for s in finals for c in s["cycles"]}
    assert len(crashes) > 3


SHAPES: list[Any] = [None, 1, "up", [1], {}, {"dir": None}, {"dir": True}, {"dir": False}, {"dir": "1"},
                     {"dir": 1, "x": 0}, {"x": 1}, {"turn": "left"}, {"dir": [1]}, {"dir": {}}]  # fmt: skip


def pong_inputs() -> tuple[RealtimeGame, Any, list[Any]]:
    return Pong(), Pong().setup({}, Rng(1, 0)), [*SHAPES, *({"dir": d} for d in range(-3, 4))]


def arena_inputs() -> tuple[RealtimeGame, Any, list[Any]]:
    state = Arena().setup({"players": 3}, Rng(1, 0))
    state["cycles"][1]["out"] = 32  # crashed: it may send nothing
    names = ("up", "right", "down", "left", "UP", "north", "")
    return Arena(), state, [*SHAPES, *({"dir": d} for d in names)]


@pytest.mark.parametrize(("name", "make"), [("pong", pong_inputs), ("arena", arena_inputs)])
def test_javascript_validates_inputs_as_python_does(page: Any, name: str, make: Any) -> None:
    game, state, samples = make()
    seats = len(state["cycles"]) if "cycles" in state else 2
    cases = [[state, seat, data] for seat in range(seats) for data in samples]
    python = [game.validate_input(state, seat, data) is None for _, seat, data in cases]
    assert any(python) and not all(python)
    assert page.evaluate(VALIDATE, [name, cases]) == python
