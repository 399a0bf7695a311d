"""Arena: light cycles for 2 to 8 players. Every cycle leaves a wall behind it; last one riding wins.

The grid is ``size`` x ``size`` cells (x to the right, y downwards). The state is::

    {"tick": 0, "size": 32, "cycles": [{"dir": 0, "out": 0, "trail": [[4, 16]]}, ...]}

one cycle per seat: ``dir`` is where it goes at its next move (0 up, 1 right, 2 down, 3 left),
``out`` the tick it crashed at (0 while it rides; for a player who left, the first tick it missed),
``trail`` every cell it has been on, the head last: the trail grows by one cell a move, which
deltas send as one appended cell. An input is ``{"dir": "up" | "right" | "down" | "left"}``, held
until the next one; a reverse into the cycle's own trail is ignored (at the tick it applies: the
heading may have changed since it was sent).

The rules. Nothing moves for ``START_TICKS`` ticks; then every cycle moves one cell every
``MOVE_EVERY`` ticks (7.5 cells a second at 30 ticks a second), all at once. A cycle crashes when
its next cell is off the grid or on any trail (crashed cycles' trails stay), and two or more that
move into the same cell all crash (head on). The game ends when at most one cycle rides: it comes
first, then the others by how long they lasted, those that crashed at the same tick sharing a place.
A player who leaves is out at once, as if it crashed at the next tick: its trail stays, a wall like
any crashed cycle's, and it ranks below every cycle still riding.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Final

from .base import Outcome, State
from .realtime import RealtimeGame
from .rng import Rng

__all__ = ["COLOURS", "DIRECTIONS", "Arena", "simple_bot"]

#: Input names by direction number: 0 up, 1 right, 2 down, 3 left (turning right adds 1).
DIRECTIONS: Final = ("up", "right", "down", "left")
_STEP: Final = ((0, -1), (1, 0), (0, 1), (-1, 0))
_NUMBER: Final = {name: i for i, name in enumerate(DIRECTIONS)}
COLOURS: Final = ("red", "blue", "green", "yellow", "purple", "orange", "cyan", "white")
#: Ticks per move: one cell every 4 ticks.
MOVE_EVERY: Final = 4
#: Ticks before the first move (about a second to get ready); the first move is at tick 32.
START_TICKS: Final = 30
MIN_SIZE: Final = 16
MAX_SIZE: Final = 64


#: The cells taken (``x * size + y``) in the state each match's last tick made, carried on to the
#: next tick, so a move tick adds the new heads instead of visiting every cell of every trail again
#: (that was a sixth of a server's time for an arena room). Keyed by the state's id, and holding the
#: state itself, so the id cannot be reused while it is here (a live match's state, which its room
#: holds anyway: a match that is over is not kept); a state not found (a match's first move, a
#: state ``leave`` made, a replay, a prediction) has its cells counted afresh. States are never
#: changed in place (the engines' rule), so a set found here is that state's.
_TAKEN: dict[int, tuple[State, set[int]]] = {}
#: At most this many states are kept: past it, all are forgotten (the live matches count theirs
#: again at their next move).
_TAKEN_MAX: Final = 2048


def default_size(players: int) -> int:
    """The grid's side for ``players`` cycles: 24 for two, 32 for three or four, 40 for more."""
    return 24 if players <= 2 else 32 if players <= 4 else 40


def is_move_tick(tick: int) -> bool:
    """Whether the cycles move at tick number ``tick``."""
    return tick >= START_TICKS and tick % MOVE_EVERY == 0


def heading(trail: list[list[int]]) -> int | None:
    """The direction of the cycle's last move (None before its first)."""
    if len(trail) < 2:
        return None
    (px, py), (hx, hy) = trail[-2], trail[-1]
    return _STEP.index((hx - px, hy - py))


def _spawns(size: int) -> list[tuple[int, int, int]]:
    """Eight starting cells and directions around the centre, clockwise from the west, as a pinwheel
    (each one heads clockwise); opposite slots mirror each other through the centre."""
    far = size - 1
    r = (3 * size) // 8
    d = (r * 7) // 10
    a, e, m = size // 2 - r, size // 2 - d, size // 2
    return [
        (a, m, 0),  # west, going up
        (e, e, 1),  # north-west, right
        (far - m, a, 1),  # north, right
        (far - e, e, 2),  # north-east, down
        (far - a, far - m, 2),  # east, down
        (far - e, far - e, 3),  # south-east, left
        (m, far - a, 3),  # south, left
        (e, far - e, 0),  # south-west, up
    ]


def ranking(state: State) -> list[list[int]]:
    """Places, best first: the cycles still riding, then the crashed ones, latest crash first; seats
    that crashed at the same tick share a place."""
    cycles = state["cycles"]
    places = [[s for s, c in enumerate(cycles) if c["out"] == 0]]
    for tick in sorted({c["out"] for c in cycles if c["out"] > 0}, reverse=True):
        places.append([s for s, c in enumerate(cycles) if c["out"] == tick])
    return [place for place in places if place]


def _two_ride(state: State) -> bool:
    """Whether two cycles or more still ride (asked after every tick: it stops at the second)."""
    riding = 0
    for cycle in state["cycles"]:
        if cycle["out"] == 0:
            if riding:
                return True
            riding = 1
    return False


class Arena(RealtimeGame):
    """Light cycles: turn to stay clear of the walls and every trail; the last cycle riding wins."""

    name = "arena"
    web_board = "builtin"
    description = "Light cycles for 2-8: every cycle leaves a wall behind; the last one riding wins."
    players = 4
    tick_rate = 30
    patch_rate = 20
    max_input_bytes = 32

    def seat_count(self, options: dict[str, Any]) -> int:
        """The ``players`` option: 2 to 8, default 4."""
        value = options.get("players", self.players)
        if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 8:
            raise ValueError(f"players must be a whole number from 2 to 8 (default 4), not {value!r}")
        return value

    def setup(self, options: dict[str, Any], rng: Rng) -> State:
        """Cycles spread round the centre; options ``players`` (2-8, default 4) and ``size`` (16-64,
        default 24 for two players, 32 for up to four, 40 for more)."""
        players = self.seat_count(options)
        default = default_size(players)
        size = options.get("size", default)
        if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(
                f"size must be a whole number from {MIN_SIZE} to {MAX_SIZE} "
                f"(default {default} for {players} players), not {size!r}"
            )
        slots = _spawns(size)
        cycles = []
        for seat in range(players):
            x, y, d = slots[seat * 8 // players]
            cycles.append({"dir": d, "out": 0, "trail": [[x, y]]})
        return {"tick": 0, "size": size, "cycles": cycles}

    def validate_input(self, state: State, seat: int, data: Any) -> str | None:
        """Why ``data`` is not ``{"dir": "up" | "right" | "down" | "left"}`` from a cycle still riding."""
        if type(data) is not dict:
            return 'an input is an object such as {"dir": "left"}'
        if set(data) != {"dir"}:
            return f'an input has the one key "dir", not {sorted(map(str, data))}'
        value = data["dir"]
        if type(value) is not str or value not in _NUMBER:
            return f'"dir" must be "up", "right", "down" or "left", not {value!r}'
        cycles = state["cycles"]
        if not 0 <= seat < len(cycles):
            return f"there is no cycle {seat}"
        if cycles[seat]["out"]:
            return "your cycle has crashed"
        return None

    def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
        """Turn the cycles that asked to, then, on a move tick, move every riding cycle one cell and
        crash those that hit something. Never draws from ``rng``: arena_rules.js ports it exactly."""
        tick = state["tick"] + 1
        size = state["size"]
        cycles = list(state["cycles"])
        for seat, data in inputs.items():
            if not 0 <= seat < len(cycles):
                continue
            cycle = cycles[seat]
            want = _NUMBER[data["dir"]]
            last = heading(cycle["trail"])
            if cycle["out"] == 0 and want != cycle["dir"] and (last is None or want != (last + 2) % 4):
                cycles[seat] = {**cycle, "dir": want}
        entry = _TAKEN.pop(id(state), None)
        taken = entry[1] if entry is not None and entry[0] is state else None
        if is_move_tick(tick):
            if taken is None:
                taken = {x * size + y for cycle in cycles for x, y in cycle["trail"]}
            moves: dict[int, tuple[int, int]] = {}
            for seat, cycle in enumerate(cycles):
                if cycle["out"] == 0:
                    hx, hy = cycle["trail"][-1]
                    dx, dy = _STEP[cycle["dir"]]
                    moves[seat] = (hx + dx, hy + dy)
            count: dict[tuple[int, int], int] = {}
            for cell in moves.values():
                count[cell] = count.get(cell, 0) + 1
            heads = []
            for seat, (x, y) in moves.items():
                cycle = cycles[seat]
                if 0 <= x < size and 0 <= y < size and x * size + y not in taken and count[(x, y)] == 1:
                    cycles[seat] = {**cycle, "trail": [*cycle["trail"], [x, y]]}
                    heads.append(x * size + y)
                else:
                    cycles[seat] = {**cycle, "out": tick}
            taken.update(heads)
        after = {"tick": tick, "size": size, "cycles": cycles}
        if taken is not None and _two_ride(after):  # (a match over has no next tick to carry it to)
            if len(_TAKEN) >= _TAKEN_MAX:
                _TAKEN.clear()
            _TAKEN[id(after)] = (after, taken)
        return after

    def outcome(self, state: State) -> Outcome | None:
        """Once at most one cycle rides: everyone ranked by how long they lasted (ties share a place)."""
        if _two_ride(state):
            return None
        return Outcome.ranked(ranking(state))

    def leave(self, state: State, seat: int) -> State:
        """The leaver's cycle is out at once: ``out`` is the next tick (the first it misses, so it
        ranks above the cycles that crashed already and with those that crash at that tick), and
        its trail stays on the grid as a wall. A cycle that has crashed already stays as it is."""
        cycles = state["cycles"]
        if not 0 <= seat < len(cycles) or cycles[seat]["out"]:
            return state
        out = list(cycles)
        out[seat] = {**cycles[seat], "out": state["tick"] + 1}
        return {**state, "cycles": out}

    def forfeit(self, state: State, seat: int, remaining: list[int]) -> Outcome | None:
        """The end condition on the state ``leave`` made: once at most one cycle rides, everyone
        ranked by how long they lasted (reason "forfeit"); otherwise None, and the others play on."""
        if _two_ride(state):
            return None
        return Outcome.ranked(ranking(state), "forfeit")

    def own(self, view: Any, seat: int) -> Any:
        """The part of the view a seat's inputs decide: its cycle."""
        return view["cycles"][seat]

    def seat_label(self, seat: int) -> str:
        return COLOURS[seat] if 0 <= seat < len(COLOURS) else f"player {seat + 1}"

    def render(self, view: Any, seat: int | None) -> str:
        """The grid: each trail in its colour's initial, the head in capitals (``x`` once crashed)."""
        size = view["size"]
        grid = [["."] * size for _ in range(size)]
        for s, cycle in enumerate(view["cycles"]):
            mark = COLOURS[s][0]
            for x, y in cycle["trail"]:
                grid[y][x] = mark
            hx, hy = cycle["trail"][-1]
            grid[hy][hx] = "x" if cycle["out"] else mark.upper()
        lines = []
        for s, cycle in enumerate(view["cycles"]):
            you = " (you)" if s == seat else ""
            state = "out" if cycle["out"] else DIRECTIONS[cycle["dir"]]
            lines.append(f"{COLOURS[s]}{you}: {state}, {len(cycle['trail'])} cells")
        lines.append(f"tick {view['tick']}")
        return "\n".join([*lines, *("".join(row) for row in grid)])


# -- the bot ---------------------------------------------------------------------------------------

#: How far ahead the bot looks along a direction, and how much room it counts behind a turn.
LOOK_AHEAD: Final = 8
ROOM: Final = 80


def _room(grid: bytearray, start: int, steps: tuple[int, ...], limit: int) -> int:
    """How many free cells of ``grid`` can be reached from ``start`` (itself included), up to ``limit``."""
    seen = {start}
    frontier = [start]
    while frontier and len(seen) < limit:
        cell = frontier.pop()
        for step in steps:
            near = cell + step
            if not grid[near] and near not in seen:
                seen.add(near)
                frontier.append(near)
    return min(len(seen), limit)


def simple_bot(game: RealtimeGame, view: State, seat: int, rng: random.Random) -> Any:
    """Steer towards the most room: of the directions that do not reverse, take the one with the
    most free cells reachable behind its first cell (up to ``ROOM``), then the longest straight run
    (up to ``LOOK_AHEAD``), keeping clear of cells other heads could take next; ties keep going
    straight, or now and then turn at random. It only thinks in the two ticks before each move."""
    tick = view["tick"]
    nxt = max(tick + 1, START_TICKS)
    nxt += -nxt % MOVE_EVERY
    cycles = view["cycles"]
    me = cycles[seat]
    if nxt - tick > 2 or me["out"]:
        return None
    # The grid with a wall round it, one byte a cell (1: taken), cell (x, y) at (y + 1) * w + x + 1.
    w = view["size"] + 2
    grid = bytearray([1]) * w + (bytearray([1]) + bytearray(w - 2) + bytearray([1])) * (w - 2)
    grid += bytearray([1]) * w
    for cycle in cycles:
        for x, y in cycle["trail"]:
            grid[(y + 1) * w + x + 1] = 1
    steps = tuple(dy * w + dx for dx, dy in _STEP)
    danger: set[int] = set()
    for s, cycle in enumerate(cycles):
        if s != seat and cycle["out"] == 0:
            x, y = cycle["trail"][-1]
            danger.update((y + 1) * w + x + 1 + step for step in steps)
    x, y = me["trail"][-1]
    head = (y + 1) * w + x + 1
    last = heading(me["trail"])
    best: list[int] = []
    best_score: tuple[int, ...] = ()
    for d, step in enumerate(steps):
        if last is not None and d == (last + 2) % 4:
            continue
        first = head + step
        if grid[first]:
            score: tuple[int, ...] = (0, 0, 0, 0)
        else:
            run = 1
            while run < LOOK_AHEAD and not grid[first + run * step]:
                run += 1
            score = (1, 0 if first in danger else 1, _room(grid, first, steps, ROOM), run)
        if score > best_score:
            best, best_score = [d], score
        elif score == best_score:
            best.append(d)
    if me["dir"] in best and (len(best) == 1 or rng.random() < 0.9):
        return None
    choice = rng.choice(best)
    return None if choice == me["dir"] else {"dir": DIRECTIONS[choice]}


Arena.bots = {"simple": simple_bot}
