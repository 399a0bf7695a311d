"""Battleship: both players hide a fleet on a 10x10 grid at once, then take turns firing at the other's.

Cells. Columns are the letters A-J, rows the numbers 1-10, and a cell is written ``"B7"`` (column
letter in upper case, then the row, no padding) everywhere: in moves, in the state and in views.
A1 is the top left corner; in a ``grid`` the cell is ``grid[row - 1][column index]``, so B7 is
``grid[6][1]``. ``parse_move`` also takes "b7" from a terminal; the wire takes only "B7".

The fleet (``FLEET``): carrier 5, battleship 4, cruiser 3, submarine 3, destroyer 2.

Moves.

- Placement (phase "placement", both seats at once, each once): ``"random"`` (the server places a
  random legal fleet with its own rng), or ``{"ships": [ship, ship, ship, ship, ship]}`` with each
  of the five ships exactly once, in any order, as ``{"ship": "carrier", "at": "A1", "dir": "h"}``
  (from ``at`` rightwards for "h", downwards to higher rows for "v") or as
  ``{"ship": "carrier", "cells": ["A1", "B1", "C1", "D1", "E1"]}`` (side by side in one row or
  column, any order). Ships must stay on the grid and may touch but not overlap.
- Firing (phase "firing", seat 0 first, then in turn): a cell, ``"B7"``, not shot at before.

The state (the server's only): ``{"fleets": [fleet or None, fleet or None], "shots": [[shot, ...],
[shot, ...]], "turn": seat, "last": shot or None}``. A fleet is five ``{"ship", "cells"}`` in
``FLEET`` order, cells from the top or left end; ``shots[s]`` are the shots seat ``s`` fired, oldest
first; ``turn`` is the seat to fire next.

A shot, wherever it appears (``last``, a board's ``shots``), is ``{"by": seat, "at": "B7",
"result": "miss" | "hit" | "sunk", "ship": None or the name of the ship sunk}``. A hit does not say
which ship was hit; a shot that sinks a ship says which.

What each viewer sees (``view``), the same shape for a seat and a spectator::

    {
      "phase": "placement" | "firing" | "over",
      "turn": seat to fire, or None (placement, over),
      "placed": [bool, bool],        # during placement, all anyone learns of the other fleet
      "winner": seat or None,
      "last": shot or None,          # the last shot, for everyone
      "fleet": [{"ship": "carrier", "size": 5}, ...],   # FLEET, for a placement screen
      "boards": [board of seat 0, board of seat 1],
    }

A board is a seat's own waters: its fleet and the opponent's shots at it::

    {
      "grid": 10 rows of 10 cell states, row 1 first, column A first:
              "empty" (not shot, no ship known there), "ship" (a ship cell not hit),
              "miss", "hit" (a hit on a ship not yet sunk), "sunk" (a cell of a sunk ship),
      "ships": [{"ship": name, "cells": [...], "sunk": bool}, ...],   # the ships this viewer may see
      "shots": [shot, ...],          # the shots at this board, oldest first (public)
      "afloat": [name, ...],         # ships not sunk yet, in FLEET order (public)
    }

Hidden information: a seat sees its own fleet in full; of the other fleet it sees only the shots and
their results, and the ships it has sunk (all their cells are hit by then). Spectators see what a
seat sees of the other fleet, for both. No view shows an unhit ship cell of another seat before the
end ("ship" never appears in such a board's grid); once the game is over every view shows both
fleets. ``view_move`` shows a shot to everyone and a placement only to its mover.

Timeouts (``timeout_policy = "bot"``): the first bot, "hunter", plays for a seat out of time. In
placement it asks for a random fleet, placed by the server's rng (the "random" policy would draw
from ``legal_moves``, whose fixed fleets the other side could know); in firing it takes one shot
from that seat's view. The game ends when one seat has sunk the whole other fleet (reason "all
ships sunk"); abandoning or resigning uses the default forfeit.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any, Final, Protocol, TypeVar

from .base import Game, Outcome, State
from .bots import random_bot
from .rng import Rng

__all__ = ["COLUMNS", "FLEET", "SIZE", "Battleship", "cell_name", "hunter_bot", "random_fleet"]

#: Squares on a side of the grid.
SIZE: Final = 10
#: The column letters, left to right.
COLUMNS: Final = "ABCDEFGHIJ"
#: The classic fleet: (ship, length), biggest first; fleets in the state keep this order.
FLEET: Final[tuple[tuple[str, int], ...]] = (
    ("carrier", 5),
    ("battleship", 4),
    ("cruiser", 3),
    ("submarine", 3),
    ("destroyer", 2),
)
_SIZES: Final = dict(FLEET)
_FLEET_TEXT: Final = ", ".join(f"{name} {size}" for name, size in FLEET)
_TYPED_CELL_RE: Final = re.compile(r"([a-j])\s*(10|[1-9])")
_DIRS: Final = {"h": "rightwards", "v": "downwards"}
_TYPED_DIRS: Final = {
    "h": "h",
    "horizontal": "h",
    "right": "h",
    "v": "v",
    "vertical": "v",
    "down": "v",
}

_CELL_HINT: Final = 'a shot is a cell: a column A-J and a row 1-10, such as "B7"'
_SHIP_HINT: Final = '{"ship": NAME, "at": CELL, "dir": "h" or "v"} or {"ship": NAME, "cells": [CELL, ...]}'
_FLEET_HINT: Final = 'a placement is "random" or {"ships": [...]} with the five ships, each ' + _SHIP_HINT
_EXAMPLE_FLEET: Final = "carrier A1 h, battleship A3 h, cruiser A5 h, submarine A7 h, destroyer A9 h"
_PARSE_HINT: Final = (
    'type a cell such as B7, "random" to have your fleet placed for you, or your fleet as '
    f'"{_EXAMPLE_FLEET}" (h: rightwards from the cell, v: downwards)'
)


def cell_name(column: int, row: int) -> str:
    """The name of the cell at 0-based ``column`` and ``row``: ``cell_name(1, 6) == "B7"``."""
    return f"{COLUMNS[column]}{row + 1}"


#: Every cell, row by row (A1, B1, ... J1, A2, ...), and each name's (column, row).
_CELLS: Final = tuple(cell_name(c, r) for r in range(SIZE) for c in range(SIZE))
_POS: Final = {name: (index % SIZE, index // SIZE) for index, name in enumerate(_CELLS)}


def _cell(value: Any) -> tuple[int, int] | None:
    """(column, row) of a cell as the wire writes it ("B7"), or None for anything else."""
    return _POS.get(value) if isinstance(value, str) else None


def _line(column: int, row: int, direction: str, size: int) -> list[str] | None:
    """The cells of a ship from (column, row) going "h" or "v", or None if it leaves the grid."""
    dc, dr = (1, 0) if direction == "h" else (0, 1)
    end_c, end_r = column + dc * (size - 1), row + dr * (size - 1)
    if end_c >= SIZE or end_r >= SIZE:
        return None
    return [cell_name(column + dc * i, row + dr * i) for i in range(size)]


def _all_positions(size: int) -> tuple[tuple[str, ...], ...]:
    """Every place a ship of ``size`` fits on an empty grid, in a fixed order (the rng picks by index)."""
    out = []
    for direction in "hv":
        for row in range(SIZE):
            for column in range(SIZE):
                cells = _line(column, row, direction, size)
                if cells is not None:
                    out.append(tuple(cells))
    return tuple(out)


_POSITIONS: Final = {size: _all_positions(size) for size in set(_SIZES.values())}

T = TypeVar("T")


class _Chooser(Protocol):
    """What ``random_fleet`` needs of a random source: the server's ``Rng`` or a ``random.Random``."""

    def choice(self, seq: Sequence[T]) -> T: ...


def random_fleet(rng: _Chooser) -> list[dict[str, Any]]:
    """A legal fleet in state form: each ship in turn, biggest first, at a random free position."""
    taken: set[str] = set()
    fleet = []
    for name, size in FLEET:
        cells = rng.choice([p for p in _POSITIONS[size] if taken.isdisjoint(p)])
        taken.update(cells)
        fleet.append({"ship": name, "cells": list(cells)})
    return fleet


def _the(names: Iterable[str]) -> str:
    """The names in words: "the cruiser", "the cruiser and the destroyer", "the a, the b and the c"."""
    words = [f"the {n}" for n in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _ship_cells(index: int, item: Any) -> tuple[str, list[str]] | str:
    """(name, cells in order) of the ``index``-th ship of a placement, or why it is not a ship."""
    where = f"ship {index + 1}"
    if not isinstance(item, dict):
        return f"{where} is not a ship: write it as {_SHIP_HINT}"
    name = item.get("ship")
    if not isinstance(name, str):
        return f'{where} has no "ship" name: write it as {_SHIP_HINT}'
    if name not in _SIZES:
        return f'{where}: there is no ship called "{name[:20]}" (the fleet is {_FLEET_TEXT})'
    size = _SIZES[name]
    keys = set(item) - {"ship"}
    if keys == {"at", "dir"}:
        at, direction = _cell(item["at"]), item["dir"]
        if at is None:
            return f'the {name}: "at" must be a cell: a column A-J and a row 1-10, such as "B7"'
        if not isinstance(direction, str) or direction not in _DIRS:
            return f'the {name}: "dir" must be "h" (rightwards) or "v" (downwards)'
        cells = _line(*at, direction, size)
        if cells is None:
            edge = "column J" if direction == "h" else "row 10"
            return (
                f"the {name} from {item['at']} {_DIRS[direction]} runs off the grid: "
                f"{size} cells would go past {edge}"
            )
        return name, cells
    if keys == {"cells"}:
        given = item["cells"]
        if not isinstance(given, list):
            return f'the {name}: "cells" must be a list of cells such as ["A1", "A2"]'
        spots = [_cell(c) for c in given]
        if None in spots:
            bad = repr(given[spots.index(None)])[:20]
            return f"the {name}: {bad} is not a cell on the grid (columns A-J, rows 1-10, such as B7)"
        if len(given) != size:
            return f"the {name} is {size} cells long, not {len(given)}"
        if len(set(given)) != size:
            twice = next(c for c in given if given.count(c) > 1)
            return f"the {name} has the cell {twice} twice"
        places = sorted(spot for spot in spots if spot is not None)
        columns, rows = {c for c, _ in places}, {r for _, r in places}
        if len(columns) > 1 and len(rows) > 1:
            return f"the {name} is bent: {', '.join(given)} are not in one row or one column"
        if len(columns) == 1:
            places.sort(key=lambda spot: spot[1])
        step = [b[0] - a[0] + b[1] - a[1] for a, b in itertools.pairwise(places)]
        if any(s != 1 for s in step):
            return f"the {name} has a gap: {', '.join(given)} are not side by side"
        return name, [cell_name(c, r) for c, r in places]
    return f'the {name}: give "at" and "dir", or "cells" (nothing else): {_SHIP_HINT}'


def _fleet_of(move: Any) -> list[dict[str, Any]] | str:
    """The fleet in state form that a placement move describes, or why it is not a legal fleet."""
    if not isinstance(move, dict) or set(move) != {"ships"} or not isinstance(move["ships"], list):
        return _FLEET_HINT
    by_name: dict[str, list[str]] = {}
    twice: list[str] = []
    for index, item in enumerate(move["ships"]):
        ship = _ship_cells(index, item)
        if isinstance(ship, str):
            return ship
        name, cells = ship
        if name in by_name and name not in twice:
            twice.append(name)
        by_name[name] = cells
    if twice:
        return f"the fleet has {_the(twice)} more than once: each of the five ships goes in exactly once"
    missing = [name for name, _ in FLEET if name not in by_name]
    if missing:
        return f"the fleet is missing {_the(missing)} (the fleet is {_FLEET_TEXT})"
    owner: dict[str, str] = {}
    for name, _ in FLEET:
        for c in by_name[name]:
            if c in owner:
                return f"the {owner[c]} and the {name} overlap at {c} (ships may touch, not overlap)"
            owner[c] = name
    return [{"ship": name, "cells": by_name[name]} for name, _ in FLEET]


def _fixed_fleets() -> list[Any]:
    """Two fixed fleets, one in each wire form (fresh copies: callers may keep or change them)."""
    rows = [{"ship": name, "at": f"A{2 * i + 1}", "dir": "h"} for i, (name, _) in enumerate(FLEET)]
    scattered = {
        "carrier": ["J6", "J7", "J8", "J9", "J10"],
        "battleship": ["C10", "D10", "E10", "F10"],
        "cruiser": ["E2", "E3", "E4"],
        "submarine": ["G5", "H5", "I5"],
        "destroyer": ["B6", "B7"],
    }
    return [
        {"ships": rows},
        {"ships": [{"ship": name, "cells": scattered[name]} for name, _ in FLEET]},
    ]


def _shoot(fleet: list[dict[str, Any]], earlier: list[dict[str, Any]], seat: int, at: str) -> dict[str, Any]:
    """The shot record of ``seat`` firing at ``at`` on ``fleet``, after its ``earlier`` shots."""
    for ship in fleet:
        if at in ship["cells"]:
            hit = {s["at"] for s in earlier} | {at}
            if hit.issuperset(ship["cells"]):
                return {"by": seat, "at": at, "result": "sunk", "ship": ship["ship"]}
            return {"by": seat, "at": at, "result": "hit", "ship": None}
    return {"by": seat, "at": at, "result": "miss", "ship": None}


class Battleship(Game):
    """Place a fleet in secret (both at once), then take turns firing; sink the whole other fleet to win."""

    name = "battleship"
    description = "Hide five ships on a 10x10 grid, then take turns firing at cells such as B7."
    web_board = "builtin"
    players = 2
    timeout_policy = "bot"

    def setup(self, options: dict[str, Any]) -> State:
        """No fleet placed, no shot fired; seat 0 will fire first. There are no options."""
        return {"fleets": [None, None], "shots": [[], []], "turn": 0, "last": None}

    def active(self, state: State) -> Collection[int] | None:
        """Placement: the seats yet to place (both at once); firing: the seat to fire; nobody at the end."""
        fleets = state["fleets"]
        if None in fleets:
            return [seat for seat in (0, 1) if fleets[seat] is None]
        if self.outcome(state) is not None:
            return []
        return [state["turn"]]

    def phase(self, state: State) -> str | None:
        """The stage: "placement" until both fleets are placed, then "firing", then "over"."""
        if None in state["fleets"]:
            return "placement"
        return "firing" if self.outcome(state) is None else "over"

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        """Why the move is illegal: what is wrong with a fleet; a shot out of turn, malformed or repeated."""
        if self.outcome(state) is not None:
            return "the game is over"
        fleets = state["fleets"]
        if None in fleets:
            if fleets[seat] is not None:
                return f"your fleet is placed; wait for {self.seat_label(1 - seat)} to place theirs"
            if move == "random":
                return None
            fleet = _fleet_of(move)
            return fleet if isinstance(fleet, str) else None
        if seat != state["turn"]:
            return f"it is {self.seat_label(state['turn'])}'s turn to fire"
        if _cell(move) is None:
            if move == "random" or (isinstance(move, dict) and "ships" in move):
                return 'the fleets are placed: now fire at a cell, such as "B7"'
            return _CELL_HINT
        for shot in state["shots"][seat]:
            if shot["at"] == move:
                said = f"it sank the {shot['ship']}" if shot["result"] == "sunk" else f"a {shot['result']}"
                return f"you have already fired at {move} ({said}); pick another cell"
        return None

    # The engine passes ``rng`` to an ``apply`` that names it (Game.wants_rng); mypy sees an override.
    def apply(self, state: State, seat: int, move: Any, rng: Rng) -> State:  # type: ignore[override]
        """Place the seat's fleet (a random one from the server's ``rng`` for "random"), or fire a shot."""
        if None in state["fleets"]:
            placed = random_fleet(rng) if move == "random" else _fleet_of(move)
            assert not isinstance(placed, str), placed
            fleets = list(state["fleets"])
            fleets[seat] = placed
            return {**state, "fleets": fleets}
        shot = _shoot(state["fleets"][1 - seat], state["shots"][seat], seat, move)
        shots = list(state["shots"])
        shots[seat] = [*shots[seat], shot]
        return {"fleets": state["fleets"], "shots": shots, "turn": 1 - seat, "last": shot}

    def outcome(self, state: State) -> Outcome | None:
        """The seat that has sunk all five ships of the other wins ("all ships sunk")."""
        for seat in (0, 1):
            if sum(shot["result"] == "sunk" for shot in state["shots"][seat]) == len(FLEET):
                return Outcome.win(seat, "all ships sunk")
        return None

    def view(self, state: State, seat: int | None) -> Any:
        """Own fleet in full, the other's shots and sunk ships only; both fleets once it is over."""
        result = self.outcome(state)
        over = result is not None
        fleets = state["fleets"]
        placing = None in fleets
        return {
            "phase": self.phase(state),
            "turn": None if placing or over else state["turn"],
            "placed": [fleet is not None for fleet in fleets],
            "winner": None if result is None else result.winner,
            "last": None if state["last"] is None else dict(state["last"]),
            "fleet": [{"ship": name, "size": size} for name, size in FLEET],
            "boards": [
                _board(fleets[owner], state["shots"][1 - owner], over or owner == seat) for owner in (0, 1)
            ],
        }

    def view_move(self, seat: int, move: Any, viewer: int | None) -> dict[str, Any]:
        """A shot (a cell) is shown to everyone; a placement only to its mover."""
        if viewer == seat or _cell(move) is not None:
            return {"seat": seat, "move": move}
        return {"seat": seat}

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        """Placement: "random" and two fixed fleets; firing: every cell not fired at. On a state or a view."""
        if "boards" in state:  # a view
            placing, turn = state["phase"] == "placement", state["turn"]
            may_place = placing and not state["placed"][seat]
            fired = state["boards"][1 - seat]["shots"]
        else:
            placing = None in state["fleets"]
            turn = None if self.outcome(state) is not None else state["turn"]
            may_place = placing and state["fleets"][seat] is None
            fired = state["shots"][seat]
        if placing:
            return ["random", *_fixed_fleets()] if may_place else []
        if turn != seat:
            return []
        done = {shot["at"] for shot in fired}
        return [c for c in _CELLS if c not in done]

    def seat_label(self, seat: int) -> str:
        return f"player {seat + 1}"

    def render(self, view: Any, seat: int | None) -> str:
        """Both grids (the viewer's own first), the ships afloat, the last shot and what happens next."""
        order = (0, 1) if seat is None else (seat, 1 - seat)
        titles = [self.seat_label(o) + (" (you)" if o == seat else "") for o in order]
        grids = [_grid_lines(view["boards"][o]["grid"]) for o in order]
        lines = [f"   {titles[0]:<22}    {titles[1]}".rstrip()]
        lines += [f"{a:<22}    {b}" for a, b in zip(*grids, strict=True)]
        lines.append(". sea  # ship  o miss  x hit  X sunk")
        if view["phase"] != "placement":
            for o, title in zip(order, titles, strict=True):
                afloat = view["boards"][o]["afloat"]
                lost = [name for name, _ in FLEET if name not in afloat]
                sunk = f"; sunk: {', '.join(lost)}" if lost else ""
                lines.append(f"{title}: {len(afloat)} of {len(FLEET)} ships afloat{sunk}")
        last = view["last"]
        if last is not None:
            who = self.seat_label(last["by"])
            if last["result"] == "sunk":
                what = f"hit and sunk {self.seat_label(1 - last['by'])}'s {last['ship']}!"
            else:
                what = f"a {last['result']}."
            lines.append(f"{who} fired at {last['at']}: {what}")
        lines += self._next(view, seat)
        return "\n".join(lines)

    def _next(self, view: Any, seat: int | None) -> list[str]:
        """What happens next, in words: who places, who fires, or who won."""
        if view["phase"] == "placement":
            out = []
            for s in (0, 1):
                if s == seat:
                    if view["placed"][s]:
                        out.append(f"your fleet is placed; waiting for {self.seat_label(1 - s)}")
                    else:
                        out.append(
                            f'place your fleet: type "random", or five ships like "{_EXAMPLE_FLEET}" '
                            "(h: rightwards from the cell, v: downwards)"
                        )
                else:
                    status = "has placed" if view["placed"][s] else "is placing"
                    out.append(f"{self.seat_label(s)} {status} their fleet")
            return out
        if view["phase"] == "over":
            winner = view["winner"]
            you = " (you)" if winner == seat else ""
            return [f"{self.seat_label(winner)}{you} sank every ship and wins"]
        if view["turn"] == seat:
            return ["your turn: fire at a cell, such as B7"]
        return [f"{self.seat_label(view['turn'])} to fire"]

    def parse_move(self, text: str) -> Any:
        """Read "random", a cell ("b7") or a fleet ("carrier A1 h, battleship A3 v, ...", "cruiser A1 A2 A3").

        Raises ValueError with a hint.
        """
        typed = text.strip().lower()
        if typed == "random":
            return "random"
        if m := _TYPED_CELL_RE.fullmatch(typed):
            return m.group(1).upper() + m.group(2)
        if not typed:
            raise ValueError(_PARSE_HINT)
        ships: list[dict[str, Any]] = []
        for part in re.split(r"[,;]", typed):
            words = part.split()
            if not words:
                continue
            name = words[0]
            if name not in _SIZES:
                if len(words) == 1 and len(ships) == 0:
                    raise ValueError(_PARSE_HINT)
                raise ValueError(
                    f'there is no ship called "{name}" (the fleet is {_FLEET_TEXT}); {_PARSE_HINT}'
                )
            cells = [_TYPED_CELL_RE.fullmatch(w) for w in words[1:]]
            if len(words) == 3 and cells[0] is not None and words[2] in _TYPED_DIRS:
                at = cells[0].group(1).upper() + cells[0].group(2)
                ships.append({"ship": name, "at": at, "dir": _TYPED_DIRS[words[2]]})
            elif len(words) > 2 and all(c is not None for c in cells):
                ships.append({"ship": name, "cells": [c.group(1).upper() + c.group(2) for c in cells if c]})
            else:
                raise ValueError(
                    f'write the {name} as "{name} CELL h" or "{name} CELL v" (such as "{name} A1 h"); '
                    + _PARSE_HINT
                )
        return {"ships": ships}


def _board(fleet: list[dict[str, Any]] | None, shots: list[dict[str, Any]], full: bool) -> dict[str, Any]:
    """One seat's waters as a viewer sees them: with the whole fleet (``full``) or only its sunk ships."""
    grid = [["empty"] * SIZE for _ in range(SIZE)]
    sunk_names = {shot["ship"] for shot in shots if shot["result"] == "sunk"}
    fired = {shot["at"] for shot in shots}
    ships = []
    for ship in fleet or ():
        sunk = ship["ship"] in sunk_names
        if not (full or sunk):
            continue
        ships.append({"ship": ship["ship"], "cells": list(ship["cells"]), "sunk": sunk})
        for c in ship["cells"]:
            column, row = _POS[c]
            grid[row][column] = "sunk" if sunk else "hit" if c in fired else "ship"
    for shot in shots:
        column, row = _POS[shot["at"]]
        if grid[row][column] == "empty" or grid[row][column] == "ship":
            grid[row][column] = "miss" if shot["result"] == "miss" else "hit"
    return {
        "grid": grid,
        "ships": ships,
        "shots": [dict(shot) for shot in shots],
        "afloat": [name for name, _ in FLEET if name not in sunk_names],
    }


_SYMBOLS: Final = {"empty": ".", "ship": "#", "miss": "o", "hit": "x", "sunk": "X"}


def _grid_lines(grid: list[list[str]]) -> list[str]:
    """A grid as text: a header of column letters, then each row with its number."""
    out = ["   " + " ".join(COLUMNS)]
    for row, cells in enumerate(grid, 1):
        out.append(f"{row:>2} " + " ".join(_SYMBOLS.get(c, "?") for c in cells))
    return out


# --- bots ----------------------------------------------------------------------------------------

_STEPS: Final = ((1, 0), (-1, 0), (0, 1), (0, -1))


def hunter_bot(game: Game, view: State, seat: int, rng: random.Random) -> Any:
    """Place at random; fire on a checkerboard until a hit, then around it, along the line of two hits."""
    if view["phase"] == "placement":
        return "random"
    grid = view["boards"][1 - seat]["grid"]

    def state_at(column: int, row: int) -> str | None:
        return grid[row][column] if 0 <= column < SIZE and 0 <= row < SIZE else None

    hits = [(c, r) for r in range(SIZE) for c in range(SIZE) if grid[r][c] == "hit"]
    along: set[str] = set()
    around: set[str] = set()
    for c, r in hits:
        for dc, dr in _STEPS:
            if state_at(c + dc, r + dr) == "empty":
                around.add(cell_name(c + dc, r + dr))
            if state_at(c - dc, r - dr) == "hit":  # two hits in a line: try the next cell beyond
                k = 1
                while state_at(c + k * dc, r + k * dr) == "hit":
                    k += 1
                if state_at(c + k * dc, r + k * dr) == "empty":
                    along.add(cell_name(c + k * dc, r + k * dr))
    for targets in (along, around):
        if targets:
            return rng.choice(sorted(targets))
    empty = [cell_name(c, r) for r in range(SIZE) for c in range(SIZE) if grid[r][c] == "empty"]
    parity = [name for name in empty if sum(_POS[name]) % 2 == 0]
    if parity or empty:
        return rng.choice(parity or empty)
    return rng.choice(game.legal_moves(view, seat))


Battleship.bots = {"hunter": hunter_bot, "random": random_bot}
