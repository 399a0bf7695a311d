"""Battleship: fleets and their faults, shots, the end, hidden information, bots, render, parse_move."""

from __future__ import annotations

import copy
import json
import random
from functools import cache
from typing import Any

import pytest

from netplay.games import Bot, Outcome, Rng, State, random_bot
from netplay.games.battleship import FLEET, Battleship, cell_name, hunter_bot, random_fleet
from netplay.games.engine import Move, Tick
from netplay.testing import (
    Playout,
    check_legal_play_never_raises,
    check_no_leaks,
    check_replay_equals_live,
    play,
)

GAME = Battleship()

#: Every ship along a row, A1, A3, A5, A7, A9, rightwards: the cells each ship covers.
ROWS_FLEET = {
    "carrier": ["A1", "B1", "C1", "D1", "E1"],
    "battleship": ["A3", "B3", "C3", "D3"],
    "cruiser": ["A5", "B5", "C5"],
    "submarine": ["A7", "B7", "C7"],
    "destroyer": ["A9", "B9"],
}
ROWS = {"ships": [{"ship": name, "at": cells[0], "dir": "h"} for name, cells in ROWS_FLEET.items()]}
#: Rows 2, 4, 6, 8 and 10 hold no ship of ROWS.
WATER = [f"{c}{r}" for r in (2, 4, 6, 8, 10) for c in "ABCDEFGHIJ"]


def ships(**changes: Any) -> dict[str, Any]:
    """ROWS with some ships replaced (a dict: that ship's move; None: left out)."""
    out = []
    for ship in ROWS["ships"]:
        change = changes.get(ship["ship"], ship)
        if change is not None:
            out.append(change)
    return {"ships": out}


def placed(first: Any = ROWS, second: Any = ROWS, seed: int = 0) -> State:
    """The state once seat 0 has placed ``first`` and seat 1 ``second`` (each checked legal)."""
    state = GAME.setup({})
    for seat, move in ((0, first), (1, second)):
        assert GAME.validate(state, seat, move) is None
        state = GAME.apply(state, seat, move, rng=Rng(seed, seat))
    return state


def fire(state: State, *shots: str) -> State:
    """The shots in order, by whoever's turn it is, each checked legal."""
    for at in shots:
        seat = state["turn"]
        assert GAME.validate(state, seat, at) is None, at
        state = GAME.apply(state, seat, at, rng=Rng(0))
    return state


def cells_of(fleet: list[dict[str, Any]]) -> set[str]:
    return {c for ship in fleet for c in ship["cells"]}


# --- setup and metadata --------------------------------------------------------------------------


def test_metadata_and_bots() -> None:
    assert GAME.name == "battleship" and GAME.players == 2 and GAME.description
    assert list(GAME.bots) == ["hunter", "random"]
    assert GAME.has_hidden_information and not GAME.round_robin
    assert GAME.wants_rng == (False, True)
    assert GAME.timeout_policy == "bot"
    assert FLEET == (("carrier", 5), ("battleship", 4), ("cruiser", 3), ("submarine", 3), ("destroyer", 2))
    assert cell_name(1, 6) == "B7" and cell_name(9, 9) == "J10"


def test_setup_starts_with_both_seats_placing() -> None:
    state = GAME.setup({})
    assert state == {"fleets": [None, None], "shots": [[], []], "turn": 0, "last": None}
    assert sorted(GAME.active(state) or []) == [0, 1]
    assert GAME.phase(state) == "placement"
    assert GAME.outcome(state) is None


# --- placement -----------------------------------------------------------------------------------


def test_a_fleet_by_start_and_direction_is_stored_cell_by_cell() -> None:
    move = ships(carrier={"ship": "carrier", "at": "J6", "dir": "v"})
    state = GAME.apply(GAME.setup({}), 1, move, rng=Rng(0))
    assert state["fleets"][0] is None
    assert state["fleets"][1] == [
        {"ship": "carrier", "cells": ["J6", "J7", "J8", "J9", "J10"]},
        {"ship": "battleship", "cells": ROWS_FLEET["battleship"]},
        {"ship": "cruiser", "cells": ROWS_FLEET["cruiser"]},
        {"ship": "submarine", "cells": ROWS_FLEET["submarine"]},
        {"ship": "destroyer", "cells": ROWS_FLEET["destroyer"]},
    ]


def test_a_fleet_by_cells_in_any_order_is_the_same_fleet() -> None:
    by_cells = {
        "ships": [
            {"ship": "destroyer", "cells": ["B9", "A9"]},
            {"ship": "submarine", "cells": ["C7", "A7", "B7"]},
            {"ship": "cruiser", "cells": ["A5", "B5", "C5"]},
            {"ship": "carrier", "cells": ["E1", "D1", "C1", "B1", "A1"]},
            {"ship": "battleship", "cells": ["A3", "B3", "C3", "D3"]},
        ]
    }
    assert placed(by_cells, ROWS) == placed(ROWS, ROWS)


def test_touching_ships_and_the_far_edges_are_allowed() -> None:
    packed = {
        "ships": [
            {"ship": "carrier", "at": "F10", "dir": "h"},
            {"ship": "battleship", "at": "J6", "dir": "v"},
            {"ship": "cruiser", "cells": ["I7", "I8", "I9"]},
            {"ship": "submarine", "at": "F9", "dir": "h"},
            {"ship": "destroyer", "at": "A1", "dir": "v"},
        ]
    }
    assert GAME.validate(GAME.setup({}), 0, packed) is None


SHAPE = (
    'a placement is "random" or {"ships": [...]} with the five ships, each '
    '{"ship": NAME, "at": CELL, "dir": "h" or "v"} or {"ship": NAME, "cells": [CELL, ...]}'
)
SHIP = '{"ship": NAME, "at": CELL, "dir": "h" or "v"} or {"ship": NAME, "cells": [CELL, ...]}'
THE_FLEET = "carrier 5, battleship 4, cruiser 3, submarine 3, destroyer 2"


@pytest.mark.parametrize(
    ("move", "reason"),
    [
        # the overall shape
        (None, SHAPE),
        (0, SHAPE),
        (True, SHAPE),
        ("B7", SHAPE),
        ("Random", SHAPE),
        ([], SHAPE),
        ({}, SHAPE),
        ({"ships": "random"}, SHAPE),
        ({"ships": {"carrier": "A1"}}, SHAPE),
        ({**ROWS, "name": "mine"}, SHAPE),
        # each ship's shape
        ({"ships": [None]}, f"ship 1 is not a ship: write it as {SHIP}"),
        (
            {"ships": [*ROWS["ships"][:2], ["carrier", "A1", "h"]]},
            f"ship 3 is not a ship: write it as {SHIP}",
        ),
        ({"ships": [{"at": "A1", "dir": "h"}]}, f'ship 1 has no "ship" name: write it as {SHIP}'),
        ({"ships": [{"ship": 5, "at": "A1", "dir": "h"}]}, f'ship 1 has no "ship" name: write it as {SHIP}'),
        (
            ships(carrier={"ship": "frigate", "at": "A1", "dir": "h"}),
            f'ship 1: there is no ship called "frigate" (the fleet is {THE_FLEET})',
        ),
        (
            ships(carrier={"ship": "Carrier", "at": "A1", "dir": "h"}),
            f'ship 1: there is no ship called "Carrier" (the fleet is {THE_FLEET})',
        ),
        (
            ships(cruiser={"ship": "cruiser", "at": "A5"}),
            f'the cruiser: give "at" and "dir", or "cells" (nothing else): {SHIP}',
        ),
        (
            ships(cruiser={"ship": "cruiser", "at": "A5", "dir": "h", "cells": ["A5", "B5", "C5"]}),
            f'the cruiser: give "at" and "dir", or "cells" (nothing else): {SHIP}',
        ),
        (
            ships(cruiser={"ship": "cruiser", "at": "A5", "dir": "h", "size": 3}),
            f'the cruiser: give "at" and "dir", or "cells" (nothing else): {SHIP}',
        ),
        # start and direction
        (
            ships(cruiser={"ship": "cruiser", "at": "a5", "dir": "h"}),
            'the cruiser: "at" must be a cell: a column A-J and a row 1-10, such as "B7"',
        ),
        (
            ships(cruiser={"ship": "cruiser", "at": [0, 4], "dir": "h"}),
            'the cruiser: "at" must be a cell: a column A-J and a row 1-10, such as "B7"',
        ),
        (
            ships(cruiser={"ship": "cruiser", "at": "K5", "dir": "h"}),
            'the cruiser: "at" must be a cell: a column A-J and a row 1-10, such as "B7"',
        ),
        (
            ships(cruiser={"ship": "cruiser", "at": "A5", "dir": "d"}),
            'the cruiser: "dir" must be "h" (rightwards) or "v" (downwards)',
        ),
        (
            ships(cruiser={"ship": "cruiser", "at": "A5", "dir": ["h"]}),
            'the cruiser: "dir" must be "h" (rightwards) or "v" (downwards)',
        ),
        (
            ships(carrier={"ship": "carrier", "at": "G1", "dir": "h"}),
            "the carrier from G1 rightwards runs off the grid: 5 cells would go past column J",
        ),
        (
            ships(destroyer={"ship": "destroyer", "at": "E10", "dir": "v"}),
            "the destroyer from E10 downwards runs off the grid: 2 cells would go past row 10",
        ),
        # cells
        (
            ships(cruiser={"ship": "cruiser", "cells": "A5 B5 C5"}),
            'the cruiser: "cells" must be a list of cells such as ["A1", "A2"]',
        ),
        (
            ships(cruiser={"ship": "cruiser", "cells": ["H5", "I5", "K5"]}),
            "the cruiser: 'K5' is not a cell on the grid (columns A-J, rows 1-10, such as B7)",
        ),
        (
            ships(destroyer={"ship": "destroyer", "cells": ["A10", "A11"]}),
            "the destroyer: 'A11' is not a cell on the grid (columns A-J, rows 1-10, such as B7)",
        ),
        (
            ships(destroyer={"ship": "destroyer", "cells": ["A0", "A1"]}),
            "the destroyer: 'A0' is not a cell on the grid (columns A-J, rows 1-10, such as B7)",
        ),
        (
            ships(destroyer={"ship": "destroyer", "cells": [[0, 8], [1, 8]]}),
            "the destroyer: [0, 8] is not a cell on the grid (columns A-J, rows 1-10, such as B7)",
        ),
        (
            ships(destroyer={"ship": "destroyer", "cells": [None, "A9"]}),
            "the destroyer: None is not a cell on the grid (columns A-J, rows 1-10, such as B7)",
        ),
        (ships(cruiser={"ship": "cruiser", "cells": ["A5", "B5"]}), "the cruiser is 3 cells long, not 2"),
        (
            ships(cruiser={"ship": "cruiser", "cells": ["A5", "B5", "C5", "D5"]}),
            "the cruiser is 3 cells long, not 4",
        ),
        (ships(cruiser={"ship": "cruiser", "cells": []}), "the cruiser is 3 cells long, not 0"),
        (
            ships(cruiser={"ship": "cruiser", "cells": ["A5", "B5", "A5"]}),
            "the cruiser has the cell A5 twice",
        ),
        (
            ships(cruiser={"ship": "cruiser", "cells": ["F4", "F5", "G5"]}),
            "the cruiser is bent: F4, F5, G5 are not in one row or one column",
        ),
        (
            ships(cruiser={"ship": "cruiser", "cells": ["F4", "G5", "H6"]}),
            "the cruiser is bent: F4, G5, H6 are not in one row or one column",
        ),
        (
            ships(cruiser={"ship": "cruiser", "cells": ["F5", "G5", "I5"]}),
            "the cruiser has a gap: F5, G5, I5 are not side by side",
        ),
        (
            ships(carrier={"ship": "carrier", "cells": ["J1", "J2", "J3", "J4", "J6"]}),
            "the carrier has a gap: J1, J2, J3, J4, J6 are not side by side",
        ),
        # the fleet as a whole
        (
            ships(destroyer=None),
            f"the fleet is missing the destroyer (the fleet is {THE_FLEET})",
        ),
        (
            ships(cruiser=None, submarine=None),
            f"the fleet is missing the cruiser and the submarine (the fleet is {THE_FLEET})",
        ),
        (
            {"ships": []},
            f"the fleet is missing the carrier, the battleship, the cruiser, the submarine and "
            f"the destroyer (the fleet is {THE_FLEET})",
        ),
        (
            {"ships": [*ROWS["ships"], {"ship": "destroyer", "at": "H9", "dir": "h"}]},
            "the fleet has the destroyer more than once: each of the five ships goes in exactly once",
        ),
        (
            ships(destroyer={"ship": "submarine", "at": "H9", "dir": "h"}),
            "the fleet has the submarine more than once: each of the five ships goes in exactly once",
        ),
        (
            ships(battleship={"ship": "battleship", "at": "D1", "dir": "v"}),
            "the carrier and the battleship overlap at D1 (ships may touch, not overlap)",
        ),
        (
            ships(destroyer={"ship": "destroyer", "cells": ["C6", "C7"]}),
            "the submarine and the destroyer overlap at C7 (ships may touch, not overlap)",
        ),
    ],
)
def test_an_illegal_fleet_is_refused_with_its_fault(move: Any, reason: str) -> None:
    for state in (GAME.setup({}), GAME.apply(GAME.setup({}), 1, ROWS, rng=Rng(0))):
        assert GAME.validate(state, 0, move) == reason


def test_random_placement_is_legal_and_reproducible() -> None:
    start = GAME.setup({})
    assert GAME.validate(start, 0, "random") is None
    fleets = []
    for stream in range(40):
        state = GAME.apply(start, 0, "random", rng=Rng(7, stream))
        fleet = state["fleets"][0]
        as_move = {"ships": [{"ship": s["ship"], "cells": s["cells"]} for s in fleet]}
        assert GAME.validate(start, 0, as_move) is None  # every ship straight, on the grid, no overlap
        assert [s["ship"] for s in fleet] == [name for name, _ in FLEET]
        assert len(cells_of(fleet)) == 17
        assert GAME.apply(start, 0, "random", rng=Rng(7, stream)) == state  # the same rng, the same fleet
        fleets.append(json.dumps(fleet))
    assert len(set(fleets)) == 40
    assert random_fleet(Rng(1, 2)) == random_fleet(Rng(1, 2)) != random_fleet(Rng(1, 3))
    assert len(cells_of(random_fleet(random.Random(5)))) == 17


def test_seats_place_in_either_order_then_seat_0_fires() -> None:
    state = GAME.apply(GAME.setup({}), 1, "random", rng=Rng(0, 0))
    assert list(GAME.active(state) or []) == [0] and GAME.phase(state) == "placement"
    assert GAME.validate(state, 1, ROWS) == "your fleet is placed; wait for player 1 to place theirs"
    state = GAME.apply(state, 0, ROWS, rng=Rng(0, 1))
    assert list(GAME.active(state) or []) == [0] and GAME.phase(state) == "firing"
    assert state["turn"] == 0 and state["last"] is None


def test_a_shot_before_the_fleets_are_placed_is_refused() -> None:
    assert GAME.validate(GAME.setup({}), 0, "B7") == SHAPE


# --- firing --------------------------------------------------------------------------------------


def test_a_miss_a_hit_and_a_sunk_ship_are_announced() -> None:
    state = placed()
    state = fire(state, "J10")
    assert state["last"] == {"by": 0, "at": "J10", "result": "miss", "ship": None}
    assert state["turn"] == 1 and list(GAME.active(state) or []) == [1]
    state = fire(state, "A9")
    assert state["last"] == {"by": 1, "at": "A9", "result": "hit", "ship": None}
    state = fire(state, "A2", "B9")
    assert state["last"] == {"by": 1, "at": "B9", "result": "sunk", "ship": "destroyer"}
    assert state["shots"][1] == [
        {"by": 1, "at": "A9", "result": "hit", "ship": None},
        {"by": 1, "at": "B9", "result": "sunk", "ship": "destroyer"},
    ]
    assert GAME.outcome(state) is None
    for viewer in (0, 1, None):
        assert GAME.view(state, viewer)["last"] == state["last"]


def test_firing_at_a_cell_twice_is_refused() -> None:
    state = fire(placed(), "C3", "J1", "D4")
    assert GAME.validate(state, 1, "J1") == "you have already fired at J1 (a miss); pick another cell"
    state = fire(state, "J2")
    assert GAME.validate(state, 0, "C3") == "you have already fired at C3 (a hit); pick another cell"
    assert GAME.validate(state, 0, "J1") is None  # the other seat's shot there does not count
    state = fire(state, "A9", "J3", "B9", "J4")  # seat 0 sinks the destroyer
    assert GAME.validate(state, 0, "B9") == (
        "you have already fired at B9 (it sank the destroyer); pick another cell"
    )
    assert "C3" not in GAME.legal_moves(state, 0) and "J1" in GAME.legal_moves(state, 0)


def test_firing_out_of_turn_is_refused() -> None:
    state = placed()
    assert GAME.validate(state, 1, "A1") == "it is player 1's turn to fire"
    state = fire(state, "A1")
    assert GAME.validate(state, 0, "B1") == "it is player 2's turn to fire"
    assert GAME.legal_moves(state, 0) == []


@pytest.mark.parametrize("move", ["b7", "B 7", "K1", "A11", "A0", "", None, 17, [1, 6], {"at": "B7"}, True])
def test_a_malformed_shot_is_refused(move: Any) -> None:
    assert GAME.validate(placed(), 0, move) == 'a shot is a cell: a column A-J and a row 1-10, such as "B7"'


@pytest.mark.parametrize("move", ["random", ROWS])
def test_a_placement_while_firing_is_refused(move: Any) -> None:
    assert GAME.validate(placed(), 0, move) == 'the fleets are placed: now fire at a cell, such as "B7"'


def test_sinking_the_whole_fleet_wins() -> None:
    state = placed(ROWS, ROWS)
    targets = [c for cells in ROWS_FLEET.values() for c in cells]
    for n, at in enumerate(targets):
        assert GAME.outcome(state) is None
        state = fire(state, at)
        if n < len(targets) - 1:
            state = fire(state, WATER[n])
    assert state["last"] == {"by": 0, "at": "B9", "result": "sunk", "ship": "destroyer"}
    result = GAME.outcome(state)
    assert result == Outcome.win(0, "all ships sunk")
    assert list(GAME.active(state) or []) == [] and GAME.phase(state) == "over"
    assert GAME.validate(state, 1, "J10") == "the game is over"
    assert GAME.legal_moves(state, 0) == GAME.legal_moves(state, 1) == []
    for viewer in (0, 1, None):
        view = GAME.view(state, viewer)
        assert view["phase"] == "over" and view["winner"] == 0 and view["turn"] is None
        assert [len(board["ships"]) for board in view["boards"]] == [5, 5]  # both fleets revealed
        assert view["boards"][0]["grid"][0][:5] == ["ship"] * 5  # seat 0's carrier, never hit
        assert view["boards"][1]["afloat"] == [] and len(view["boards"][0]["afloat"]) == 5


def test_a_whole_game_through_the_engine() -> None:
    targets = [c for cells in ROWS_FLEET.values() for c in cells]
    script: list[tuple[int, Any]] = [(1, ROWS), (0, "random")]
    for n, at in enumerate(targets):
        script.append((0, at))
        if n < len(targets) - 1:
            script.append((1, WATER[n]))
    playout = play(GAME, script, seed=3)
    assert playout.outcome is not None and playout.outcome.winner == 0
    assert playout.outcome.reason == "all ships sunk"
    check_replay_equals_live(GAME, playout)


def test_apply_never_changes_the_state_it_is_given() -> None:
    start = GAME.setup({})
    for seat, move in ((0, "random"), (1, ROWS)):
        before = copy.deepcopy(start)
        start = GAME.apply(start, seat, move, rng=Rng(2, seat))
        assert before != start
    for at in ("A1", "A1", "B1", "J10"):
        before = copy.deepcopy(start)
        after = GAME.apply(start, start["turn"], at, rng=Rng(0))
        assert start == before and after is not start
        start = after


# --- what each viewer sees -----------------------------------------------------------------------


ALL_CELLS = [cell_name(c, r) for r in range(10) for c in range(10)]


def grid_cells(board: dict[str, Any], state: str) -> set[str]:
    """The cells of a board's grid in ``state`` ("ship", "hit"...)."""
    return {cell_name(c, r) for r, row in enumerate(board["grid"]) for c, s in enumerate(row) if s == state}


def test_the_view_during_placement_says_only_who_has_placed() -> None:
    state = GAME.apply(GAME.setup({}), 0, ROWS, rng=Rng(0))
    mine = GAME.view(state, 0)
    assert mine["phase"] == "placement" and mine["placed"] == [True, False] and mine["turn"] is None
    assert mine["fleet"] == [{"ship": name, "size": size} for name, size in FLEET]
    assert grid_cells(mine["boards"][0], "ship") == cells_of(state["fleets"][0])
    for viewer in (1, None):
        view = GAME.view(state, viewer)
        assert view["placed"] == [True, False]
        assert view["boards"][0] == {
            "grid": [["empty"] * 10 for _ in range(10)],
            "ships": [],
            "shots": [],
            "afloat": [name for name, _ in FLEET],
        }
        assert view == GAME.view(GAME.apply(GAME.setup({}), 0, "random", rng=Rng(9)), viewer)


def test_a_seat_sees_its_fleet_and_only_shots_and_sunk_ships_of_the_other() -> None:
    other = {
        "ships": [
            {"ship": "carrier", "at": "F1", "dir": "v"},
            {"ship": "battleship", "at": "A10", "dir": "h"},
            {"ship": "cruiser", "at": "H8", "dir": "h"},
            {"ship": "submarine", "at": "J1", "dir": "v"},
            {"ship": "destroyer", "at": "C5", "dir": "v"},
        ]
    }
    state = fire(placed(ROWS, other), "C5", "A1", "C6", "J9", "F1", "C3")
    # seat 0 sank the destroyer (C5, C6) and hit the carrier at F1; seat 1 hit A1 and C3, missed J9
    mine, theirs = GAME.view(state, 0), GAME.view(state, 1)
    own, target = mine["boards"][0], mine["boards"][1]
    assert grid_cells(own, "hit") == {"A1", "C3"} and grid_cells(own, "miss") == {"J9"}
    assert grid_cells(own, "ship") == cells_of(state["fleets"][0]) - {"A1", "C3"}
    assert [s["ship"] for s in own["ships"]] == [name for name, _ in FLEET]
    assert grid_cells(target, "sunk") == {"C5", "C6"} and grid_cells(target, "hit") == {"F1"}
    assert grid_cells(target, "ship") == set() and grid_cells(target, "miss") == set()
    assert target["ships"] == [{"ship": "destroyer", "cells": ["C5", "C6"], "sunk": True}]
    assert target["afloat"] == ["carrier", "battleship", "cruiser", "submarine"]
    assert [s["at"] for s in target["shots"]] == ["C5", "C6", "F1"]
    assert mine["turn"] == 0 and mine["phase"] == "firing" and mine["winner"] is None
    # the other seat sees the mirror image, and a spectator sees both boards as the opponents do
    their_own, their_target = theirs["boards"][1], theirs["boards"][0]
    assert grid_cells(their_own, "ship") == cells_of(state["fleets"][1]) - {"C5", "C6", "F1"}
    assert grid_cells(their_own, "sunk") == {"C5", "C6"} and len(their_own["ships"]) == 5
    assert grid_cells(their_target, "hit") == {"A1", "C3"} and grid_cells(their_target, "miss") == {"J9"}
    assert grid_cells(their_target, "ship") == set() and their_target["ships"] == []
    assert theirs["turn"] == 0 and theirs["last"] == {"by": 1, "at": "C3", "result": "hit", "ship": None}
    spectator = GAME.view(state, None)
    assert spectator["boards"] == [theirs["boards"][0], mine["boards"][1]]


def test_view_move_shows_shots_to_everyone_and_a_placement_only_to_its_mover() -> None:
    for viewer in (0, 1, None):
        assert GAME.view_move(0, "B7", viewer) == {"seat": 0, "move": "B7"}
    for move in ("random", ROWS):
        assert GAME.view_move(1, move, 1) == {"seat": 1, "move": move}
        assert GAME.view_move(1, move, 0) == {"seat": 1}
        assert GAME.view_move(1, move, None) == {"seat": 1}


@cache
def playouts() -> tuple[Playout, ...]:
    """Random legal games from 40 seeds, shared by the checks below (each is checked as it is played)."""
    return tuple(check_legal_play_never_raises(GAME, range(40)))


def test_random_play_never_raises_and_always_ends_with_a_fleet_sunk() -> None:
    for playout in playouts():
        assert playout.outcome is not None and playout.outcome.reason == "all ships sunk"
        assert not playout.refusals


def test_random_games_replay_exactly() -> None:
    for playout in playouts()[:15]:
        check_replay_equals_live(GAME, playout)


def test_no_placement_can_be_told_from_another_while_the_other_seat_places() -> None:
    compared = sum(check_no_leaks(GAME, playout) for playout in playouts())
    assert compared == 2 * len(playouts())  # the first placement of each game against its 2 others


def named_for_the_other_waters(state: State, owner: int, viewer: int | None) -> set[str]:
    """Cells a view may name for the waters of the seat that is not ``owner`` (the grids share cell
    names): the owner's shots there, and that seat's ships this viewer may see (all of them for the
    seat itself, the sunk ones for a spectator)."""
    other = 1 - owner
    shots = state["shots"][owner]
    sunk = {shot["ship"] for shot in shots if shot["result"] == "sunk"}
    visible = [ship for ship in state["fleets"][other] or () if viewer == other or ship["ship"] in sunk]
    return {shot["at"] for shot in shots} | cells_of(visible)


def test_no_view_shows_an_unhit_ship_cell_of_another_seat_before_the_end() -> None:
    checked = 0
    for playout in playouts():
        for match in playout.matches:
            state = match.state
            if match.last is not None and (match.last[1] == "random" or isinstance(match.last[1], dict)):
                mover = match.last[0]
                for viewer in (1 - mover, None):
                    assert GAME.view_move(mover, match.last[1], viewer) == {"seat": mover}
            if match.over:
                continue
            views = {viewer: GAME.view(state, viewer) for viewer in (0, 1, None)}
            texts = {viewer: json.dumps(view) for viewer, view in views.items()}
            for owner in (0, 1):
                fleet = state["fleets"][owner]
                if fleet is None:
                    continue
                fired = {shot["at"] for shot in state["shots"][1 - owner]}
                unhit = cells_of(fleet) - fired
                for viewer in (1 - owner, None):
                    view, text = views[viewer], texts[viewer]
                    elsewhere = named_for_the_other_waters(state, owner, viewer)
                    leaked = sorted(c for c in unhit - elsewhere if f'"{c}"' in text)
                    assert not leaked, f"{GAME.seat_label(owner)}'s {leaked} shown to {viewer}"
                    board = view["boards"][owner]
                    assert grid_cells(board, "empty") == set(ALL_CELLS) - fired
                    assert grid_cells(board, "ship") == set()
                    assert all(ship["sunk"] for ship in board["ships"])
                    checked += 1
    assert checked > 10_000


def test_a_timeout_places_a_random_fleet_then_fires_for_the_seat() -> None:
    playout = play(GAME, [(1, ROWS), Tick(31.0)], clock="30/move")
    match = playout.match
    auto = [a for a in playout.recorded if isinstance(a, Move) and a.auto]
    assert [(a.seat, a.move) for a in auto] == [(0, "random")]
    fleet = match.state["fleets"][0]
    assert fleet is not None and len(cells_of(fleet)) == 17
    assert list(match.active) == [0] and match.outcome is None
    match = play(GAME, [(1, ROWS), (0, ROWS), Tick(40.0)], clock="30/move").match
    assert len(match.state["shots"][0]) == 1 and list(match.active) == [1]  # the hunter fired for seat 0


# --- legal moves and bots ------------------------------------------------------------------------


def test_legal_moves_in_placement_are_random_and_two_fixed_fleets() -> None:
    state = GAME.setup({})
    for data in (state, GAME.view(state, 0)):
        moves = GAME.legal_moves(data, 0)
        assert moves[0] == "random" and len(moves) == 3
        assert all(GAME.validate(state, 0, m) is None for m in moves)
        moves[1]["ships"].clear()  # the caller's own copy
    assert len(GAME.legal_moves(state, 0)[1]["ships"]) == 5
    once = GAME.apply(state, 0, "random", rng=Rng(0))
    assert GAME.legal_moves(once, 0) == GAME.legal_moves(GAME.view(once, 0), 0) == []


def test_legal_moves_in_firing_are_the_cells_not_fired_at_on_a_state_or_a_view() -> None:
    state = fire(placed(), "A1", "J10", "B2")
    moves = GAME.legal_moves(state, 1)
    assert len(moves) == 99 and "J10" not in moves and moves[0] == "A1"
    assert GAME.legal_moves(GAME.view(state, 1), 1) == moves
    assert GAME.legal_moves(GAME.view(state, None), 1) == moves
    assert len(GAME.legal_moves(state, 0)) == 0


def on_the_checkerboard(cell: str) -> bool:
    """Whether a cell is on the hunter's parity: A1, C1, B2... (column and row numbers add up even)."""
    return ("ABCDEFGHIJ".index(cell[0]) + 1 + int(cell[1:])) % 2 == 0


def hunter_shot(state: State, seat: int, seed: int = 0) -> str:
    shot = hunter_bot(GAME, GAME.view(state, seat), seat, random.Random(seed))
    assert GAME.validate(state, seat, shot) is None
    return str(shot)


def test_hunter_places_at_random_and_hunts_on_a_checkerboard() -> None:
    assert hunter_bot(GAME, GAME.view(GAME.setup({}), 0), 0, random.Random(0)) == "random"
    state = placed()
    shots = {hunter_shot(state, 0, seed) for seed in range(30)}
    assert len(shots) > 10 and all(on_the_checkerboard(shot) for shot in shots)


def test_after_a_hit_the_hunter_fires_next_to_it() -> None:
    state = fire(placed(), "J10", "D3")  # seat 1 hits seat 0's battleship at D3
    state = fire(state, "J9")
    for seed in range(20):
        assert hunter_shot(state, 1, seed) in {"C3", "E3", "D2", "D4"}


def test_after_two_hits_in_a_line_the_hunter_follows_it() -> None:
    state = fire(placed(), "J10", "B3", "J9", "C3", "J8")  # seat 1 hits B3 and C3 of the battleship
    for seed in range(20):
        assert hunter_shot(state, 1, seed) in {"A3", "D3"}
    state = fire(state, "A3", "J7")  # A3 hits too: the line can only go on to the right
    assert {hunter_shot(state, 1, seed) for seed in range(10)} == {"D3"}


def test_the_hunter_goes_back_to_hunting_once_the_ship_is_sunk() -> None:
    state = fire(placed(), "J10", "A9", "J9", "B9", "J8")  # seat 1 sinks the destroyer A9-B9
    shots = {hunter_shot(state, 1, seed) for seed in range(30)}
    assert len(shots) > 10 and all(on_the_checkerboard(shot) for shot in shots)


def duel(bots: tuple[Bot, Bot], seed: int) -> tuple[State, Outcome]:
    """A game between two bots, each moving from its own view; the server's rng is Rng(seed, n)."""
    state = GAME.setup({})
    rng = random.Random(seed)
    n = 0
    while (result := GAME.outcome(state)) is None:
        seat = min(GAME.active(state) or [])
        move = bots[seat](GAME, GAME.view(state, seat), seat, rng)
        assert GAME.validate(state, seat, move) is None, move
        state = GAME.apply(state, seat, move, rng=Rng(seed, n))
        n += 1
    return state, result


def test_the_hunter_beats_the_random_bot_in_most_games() -> None:
    wins = 0
    for seed in range(20):
        hunter = seed % 2  # each goes first in half the games
        bots = (random_bot, hunter_bot) if hunter else (hunter_bot, random_bot)
        _, result = duel(bots, seed)
        wins += result.winner == hunter
    assert wins >= 17  # 20 with these seeds: the hunter needs about 55 shots, random play about 95


def test_both_bots_only_make_legal_moves() -> None:
    for seed in range(3):
        for bots in ((hunter_bot, hunter_bot), (random_bot, random_bot)):
            _, result = duel(bots, seed)  # duel checks every move the bots make
            assert result.reason == "all ships sunk"


# --- terminal ------------------------------------------------------------------------------------


def test_seat_labels() -> None:
    assert [GAME.seat_label(0), GAME.seat_label(1)] == ["player 1", "player 2"]


EMPTY_ROWS = [f"{n:>2} . . . . . . . . . ." for n in range(1, 11)]


def test_render_during_placement() -> None:
    state = GAME.apply(GAME.setup({}), 1, ROWS, rng=Rng(0))
    text = GAME.render(GAME.view(state, 0), 0)
    lines = text.split("\n")
    assert lines[0] == "   player 1 (you)            player 2"
    assert lines[1] == "   A B C D E F G H I J       A B C D E F G H I J"
    assert lines[2:12] == [f"{row:<22}    {row}" for row in EMPTY_ROWS]
    assert lines[12:] == [
        ". sea  # ship  o miss  x hit  X sunk",
        'place your fleet: type "random", or five ships like "carrier A1 h, battleship A3 h, cruiser A5 h, '
        'submarine A7 h, destroyer A9 h" (h: rightwards from the cell, v: downwards)',
        "player 2 has placed their fleet",
    ]
    theirs = GAME.render(GAME.view(state, 1), 1).split("\n")
    assert theirs[0] == "   player 2 (you)            player 1"
    assert theirs[2] == " 1 # # # # # . . . . .     1 . . . . . . . . . ."
    assert theirs[-2:] == ["player 1 is placing their fleet", "your fleet is placed; waiting for player 1"]
    spectator = GAME.render(GAME.view(state, None), None).split("\n")
    assert spectator[-2:] == ["player 1 is placing their fleet", "player 2 has placed their fleet"]
    assert "#" not in "\n".join(spectator[2:12])


def test_render_while_firing() -> None:
    state = fire(placed(), "A9", "J10", "B9")
    assert GAME.render(GAME.view(state, 1), 1) == "\n".join(
        [
            "   player 2 (you)            player 1",
            "   A B C D E F G H I J       A B C D E F G H I J",
            " 1 # # # # # . . . . .     1 . . . . . . . . . .",
            " 2 . . . . . . . . . .     2 . . . . . . . . . .",
            " 3 # # # # . . . . . .     3 . . . . . . . . . .",
            " 4 . . . . . . . . . .     4 . . . . . . . . . .",
            " 5 # # # . . . . . . .     5 . . . . . . . . . .",
            " 6 . . . . . . . . . .     6 . . . . . . . . . .",
            " 7 # # # . . . . . . .     7 . . . . . . . . . .",
            " 8 . . . . . . . . . .     8 . . . . . . . . . .",
            " 9 X X . . . . . . . .     9 . . . . . . . . . .",
            "10 . . . . . . . . . .    10 . . . . . . . . . o",
            ". sea  # ship  o miss  x hit  X sunk",
            "player 2 (you): 4 of 5 ships afloat; sunk: destroyer",
            "player 1: 5 of 5 ships afloat",
            "player 1 fired at B9: hit and sunk player 2's destroyer!",
            "your turn: fire at a cell, such as B7",
        ]
    )
    state = fire(state, "C3")
    text = GAME.render(GAME.view(state, None), None).split("\n")
    assert text[4] == " 3 . . x . . . . . . .     3 . . . . . . . . . ."
    assert text[-2:] == ["player 2 fired at C3: a hit.", "player 1 to fire"]
    state = fire(state, "E3")
    assert GAME.render(GAME.view(state, 0), 0).split("\n")[-2] == "player 1 fired at E3: a miss."


def test_render_at_the_end_shows_both_fleets_and_the_winner() -> None:
    state, result = duel((hunter_bot, random_bot), 4)
    assert result.winner == 0
    text = GAME.render(GAME.view(state, None), None)
    assert text.endswith("player 1 sank every ship and wins")
    assert "#" in text  # seat 0's unhit ships, shown once it is over
    assert GAME.render(GAME.view(state, 0), 0).endswith("player 1 (you) sank every ship and wins")


@pytest.mark.parametrize(
    ("text", "move"),
    [
        ("random", "random"),
        (" Random\n", "random"),
        ("b7", "B7"),
        ("B7", "B7"),
        (" j10 ", "J10"),
        ("a 1", "A1"),
        (
            "carrier A1 h, battleship A3 v, cruiser c5 H, submarine E7 horizontal; destroyer H9 down",
            {
                "ships": [
                    {"ship": "carrier", "at": "A1", "dir": "h"},
                    {"ship": "battleship", "at": "A3", "dir": "v"},
                    {"ship": "cruiser", "at": "C5", "dir": "h"},
                    {"ship": "submarine", "at": "E7", "dir": "h"},
                    {"ship": "destroyer", "at": "H9", "dir": "v"},
                ]
            },
        ),
        ("Cruiser a5 b5 c5,", {"ships": [{"ship": "cruiser", "cells": ["A5", "B5", "C5"]}]}),
    ],
)
def test_parse_move(text: str, move: Any) -> None:
    assert GAME.parse_move(text) == move


def test_a_typed_fleet_is_checked_by_the_rules() -> None:
    move = GAME.parse_move("carrier A1 h, battleship A3 h, cruiser A5 h, submarine A7 h, destroyer A9 h")
    assert move == ROWS
    assert GAME.validate(GAME.setup({}), 0, GAME.parse_move("carrier A1 h, cruiser A5 h")) == (
        f"the fleet is missing the battleship, the submarine and the destroyer (the fleet is {THE_FLEET})"
    )


HINT = 'type a cell such as B7, "random" to have your fleet placed for you, or your fleet as'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", HINT),
        ("k1", HINT),
        ("a11", HINT),
        ("fire", HINT),
        ("frigate A1 h", 'there is no ship called "frigate"'),
        ("carrier A1 h, frigate A3 h", 'there is no ship called "frigate"'),
        ("carrier A1", 'write the carrier as "carrier CELL h" or "carrier CELL v"'),
        ("carrier A1 x", 'write the carrier as "carrier CELL h" or "carrier CELL v"'),
        ("carrier", 'write the carrier as "carrier CELL h"'),
        ("carrier A1 h, cruiser K5 h", 'write the cruiser as "cruiser CELL h"'),
    ],
)
def test_parse_move_rejects_bad_text_with_a_hint(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="(?s)" + message.replace("(", r"\(").replace(")", r"\)")) as info:
        GAME.parse_move(text)
    assert HINT in str(info.value)
