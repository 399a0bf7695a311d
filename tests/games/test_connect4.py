"""Connect Four rules, invariants under random legal play, the negamax bot, terminal I/O."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplay.games import Bot, ConnectFour, Game, Outcome, State, random_bot
from netplay.games.connect4 import negamax_bot

ROWS, COLUMNS = 6, 7
DIRECTIONS = {
    "horizontal": (0, 1),
    "vertical": (1, 0),
    "diagonal \\": (1, 1),
    "diagonal /": (1, -1),
}


def lines() -> list[tuple[str, list[tuple[int, int]]]]:
    """Every four-in-a-row on the board as (direction, [(row, column), ...]); 69 in all."""
    found = []
    for direction, (dr, dc) in DIRECTIONS.items():
        for r in range(ROWS):
            for c in range(COLUMNS):
                cells = [(r + i * dr, c + i * dc) for i in range(4)]
                if all(0 <= rr < ROWS and 0 <= cc < COLUMNS for rr, cc in cells):
                    found.append((direction, cells))
    return found


LINES = lines()


def board(*rows: str) -> State:
    """A state from six strings of seven characters, top row first: 'X', 'O' or '.' for empty."""
    assert len(rows) == ROWS and all(len(row) == COLUMNS for row in rows)
    return {"board": [[None if ch == "." else ch for ch in row] for row in rows]}


def drop(*moves: int) -> State:
    """The state after the given columns were played in turn, starting with seat 0."""
    game = ConnectFour()
    state = game.setup({})
    for i, move in enumerate(moves):
        assert game.validate(state, i % 2, move) is None
        state = game.apply(state, i % 2, move)
    return state


def play(game: Game, bots: tuple[Bot, Bot], rng: random.Random) -> tuple[State, Outcome]:
    """Play one match between two bots, checking every move they make, to the end."""
    state = game.setup({})
    seat = game.first_player(state)
    while (result := game.outcome(state)) is None:
        move = bots[seat](game, game.view(state, seat), seat, rng)
        assert game.validate(state, seat, move) is None
        state = game.apply(state, seat, move)
        seat = game.next_player(state, seat)
    return state, result


EMPTY = board(*["......."] * ROWS)

# Full, 21 pieces each, and no four in a row anywhere: rows of pairs, in the order A A B A B B.
DRAWN = board(
    "XXOOXXO",
    "XXOOXXO",
    "OOXXOOX",
    "XXOOXXO",
    "OOXXOOX",
    "OOXXOOX",
)


# --- rules ---------------------------------------------------------------------------------------


def test_setup_is_an_empty_board() -> None:
    game = ConnectFour()
    state = game.setup({})
    assert state == EMPTY
    assert game.outcome(state) is None
    assert game.legal_moves(state, 0) == list(range(COLUMNS))
    assert game.first_player(state) == 0


def test_metadata_and_bots() -> None:
    assert ConnectFour.name == "connect4"
    assert ConnectFour.players == 2
    assert ConnectFour.description and "\n" not in ConnectFour.description
    assert list(ConnectFour.bots) == ["negamax", "random"]
    assert ConnectFour.bots["random"] is random_bot
    assert not ConnectFour().has_hidden_information


def test_there_are_69_lines() -> None:
    assert len(LINES) == 69
    assert {d for d, _ in LINES} == set(DIRECTIONS)


@pytest.mark.parametrize("seat", [0, 1])
@pytest.mark.parametrize(("direction", "cells"), LINES, ids=[f"{d}{c[0]}" for d, c in LINES])
def test_every_line_wins(direction: str, cells: list[tuple[int, int]], seat: int) -> None:
    state = copy.deepcopy(EMPTY)
    for r, c in cells:
        state["board"][r][c] = "XO"[seat]
    assert ConnectFour().outcome(state) == Outcome.win(seat)


@pytest.mark.parametrize(
    ("moves", "direction"),
    [
        ((0, 0, 1, 1, 2, 2, 3), "horizontal"),
        ((3, 4, 3, 4, 3, 4, 3), "vertical"),
        ((0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3), "diagonal /"),
        ((6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3), "diagonal \\"),
    ],
)
def test_four_in_a_row_by_playing(moves: tuple[int, ...], direction: str) -> None:
    game = ConnectFour()
    assert game.outcome(drop(*moves[:-1])) is None
    assert game.outcome(drop(*moves)) == Outcome.win(0), direction


def test_three_in_a_row_is_not_over() -> None:
    assert ConnectFour().outcome(drop(0, 0, 1, 1, 2, 2)) is None


def test_four_of_one_colour_broken_by_the_other_is_not_a_win() -> None:
    state = board(".......", ".......", ".......", ".......", ".......", "XXOXXX.")
    assert ConnectFour().outcome(state) is None


def test_full_board_without_four_is_a_draw() -> None:
    game = ConnectFour()
    result = game.outcome(DRAWN)
    assert result == Outcome.draw()
    assert result is not None and result.is_draw
    assert game.legal_moves(DRAWN, 0) == []


def test_win_on_a_full_board_is_a_win() -> None:
    state = copy.deepcopy(DRAWN)
    state["board"][1][2:6] = ["X", "X", "X", "X"]
    assert ConnectFour().outcome(state) == Outcome.win(0)


def test_pieces_fall_to_the_bottom_and_stack() -> None:
    game = ConnectFour()
    state = game.apply(game.setup({}), 0, 3)
    assert state["board"][5][3] == "X"
    state = game.apply(state, 1, 3)
    assert state["board"][4][3] == "O"
    assert state["board"][5][3] == "X"
    assert sum(cell is not None for row in state["board"] for cell in row) == 2


def test_next_player_alternates() -> None:
    game = ConnectFour()
    assert game.next_player(EMPTY, 0) == 1
    assert game.next_player(EMPTY, 1) == 0


def test_full_column_is_refused() -> None:
    game = ConnectFour()
    state = drop(2, 2, 2, 2, 2, 2)
    assert game.validate(state, 0, 2) == "column 3 is full"
    assert game.legal_moves(state, 0) == [0, 1, 3, 4, 5, 6]
    assert game.validate(drop(2, 2, 2, 2, 2), 0, 2) is None


@pytest.mark.parametrize("move", [-1, 7, 100, -100])
def test_off_board_is_refused(move: int) -> None:
    reason = ConnectFour().validate(EMPTY, 0, move)
    assert reason == f"column {move} is off the board (columns are 0 to 6)"


@pytest.mark.parametrize("move", ["3", 3.0, True, False, None, [3], {"column": 3}, "", 2.5])
def test_wrong_shape_is_refused(move: Any) -> None:
    assert ConnectFour().validate(EMPTY, 0, move) == "a move is a column number from 0 to 6"


def test_apply_does_not_mutate_the_state() -> None:
    game = ConnectFour()
    state = drop(3, 3, 4)
    before = copy.deepcopy(state)
    after = game.apply(state, 1, 4)
    assert state == before
    assert after["board"] is not state["board"]
    assert all(a is not b for a, b in zip(after["board"], state["board"], strict=True))


# --- invariants under random legal play ----------------------------------------------------------


def winners(cells: list[list[str | None]]) -> set[int]:
    """Seats that have four in a row, found the slow obvious way."""
    found = set()
    for _, line in LINES:
        marks = {cells[r][c] for r, c in line}
        if len(marks) == 1 and None not in marks:
            found.add("XO".index(marks.pop() or ""))
    return found


def check_invariants(game: ConnectFour, state: State, moves_played: int) -> None:
    """Everything that must hold in any state reachable by legal play."""
    assert json.loads(json.dumps(state)) == state  # JSON-serialisable, and round-trips
    cells = state["board"]
    assert len(cells) == ROWS and all(len(row) == COLUMNS for row in cells)
    flat = [cell for row in cells for cell in row]
    assert set(flat) <= {None, "X", "O"}
    xs, os = flat.count("X"), flat.count("O")
    assert xs - os in (0, 1)
    assert xs + os == moves_played
    for r in range(ROWS - 1):  # gravity: no piece floats above an empty cell
        for c in range(COLUMNS):
            assert cells[r][c] is None or cells[r + 1][c] is not None
    won = winners(cells)
    assert len(won) <= 1
    result = game.outcome(state)
    if won:
        assert result == Outcome.win(won.pop())
    elif None not in flat:
        assert result == Outcome.draw()
    else:
        assert result is None
    legal = game.legal_moves(state, 0)
    assert legal == [c for c in range(COLUMNS) if cells[0][c] is None]
    for column in range(COLUMNS):
        assert (game.validate(state, 0, column) is None) == (column in legal)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_legal_play_stays_legal(data: st.DataObject) -> None:
    game = ConnectFour()
    state = game.setup({})
    seat = game.first_player(state)
    moves = 0
    check_invariants(game, state, moves)
    while game.outcome(state) is None:
        move = data.draw(st.sampled_from(game.legal_moves(state, seat)))
        before = copy.deepcopy(state)
        new = game.apply(state, seat, move)
        assert state == before
        state, moves = new, moves + 1
        check_invariants(game, state, moves)
        seat = game.next_player(state, seat)
        assert moves <= ROWS * COLUMNS
    result = game.outcome(state)
    assert result is not None
    assert result.is_draw or result.winner == 1 - seat  # only the player who just moved can win


# --- bots ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("negamax_seat", [0, 1])
def test_negamax_beats_random(negamax_seat: int) -> None:
    game = ConnectFour()
    bots = (negamax_bot, random_bot) if negamax_seat == 0 else (random_bot, negamax_bot)
    wins = sum(play(game, bots, random.Random(seed))[1].winner == negamax_seat for seed in range(30))
    assert wins >= 28


def test_two_negamax_bots_finish_a_game() -> None:
    _, result = play(ConnectFour(), (negamax_bot, negamax_bot), random.Random(7))
    assert result.reason == "rules"


def test_negamax_takes_an_immediate_win() -> None:
    state = board(".......", ".......", ".......", "....O..", "....O..", ".XXX.O.")
    for seed in range(5):
        assert negamax_bot(ConnectFour(), state, 0, random.Random(seed)) in (0, 4)
    # Winning beats blocking: O also threatens column 4 here, X must still win at once.
    state = board(".......", ".......", ".......", "....O..", "....O..", "OXXX.O.")
    assert negamax_bot(ConnectFour(), state, 0, random.Random(0)) == 4


def test_negamax_takes_a_vertical_win() -> None:
    state = board(".......", ".......", "...O...", "...O...", "...OXX.", "..XOXX.")
    assert negamax_bot(ConnectFour(), state, 1, random.Random(0)) == 3


def test_negamax_blocks_an_immediate_loss() -> None:
    state = board(".......", ".......", ".......", ".......", "...O...", "XXX.O..")
    for seed in range(5):
        assert negamax_bot(ConnectFour(), state, 1, random.Random(seed)) == 3


def test_negamax_blocks_a_diagonal() -> None:
    state = board(".......", ".......", ".......", "..XO...", ".XOO...", "XOOX..X")
    assert negamax_bot(ConnectFour(), state, 1, random.Random(0)) == 3
    assert ConnectFour().outcome(ConnectFour().apply(state, 0, 3)) == Outcome.win(0)


def test_negamax_prefers_the_centre_on_an_empty_board() -> None:
    assert negamax_bot(ConnectFour(), EMPTY, 0, random.Random(0)) == 3


def test_negamax_does_not_mutate_the_state() -> None:
    state = drop(3, 3, 2)
    before = copy.deepcopy(state)
    negamax_bot(ConnectFour(), state, 1, random.Random(0))
    assert state == before


def test_negamax_is_reproducible_with_a_seed() -> None:
    game = ConnectFour()
    first, _ = play(game, (negamax_bot, random_bot), random.Random(42))
    second, _ = play(game, (negamax_bot, random_bot), random.Random(42))
    assert first == second


# --- terminal presentation -----------------------------------------------------------------------


def test_render_shows_columns_and_marks() -> None:
    text = ConnectFour().render(drop(3, 3, 0), 0)
    assert text == "\n".join(
        [
            "  1 2 3 4 5 6 7",
            "| . . . . . . . |",
            "| . . . . . . . |",
            "| . . . . . . . |",
            "| . . . . . . . |",
            "| . . . O . . . |",
            "| X . . X . . . |",
            "+---------------+",
            "  1 2 3 4 5 6 7",
        ]
    )


@pytest.mark.parametrize(("text", "move"), [("1", 0), ("7", 6), (" 4\n", 3)])
def test_parse_move_reads_the_columns_as_people_number_them(text: str, move: int) -> None:
    game = ConnectFour()
    assert game.parse_move(text) == move
    assert game.move_text(move) == text.strip()


@pytest.mark.parametrize("text", ["", "x", "-1", "0", "8", "10", "3.0", "three", "1 2", "²"])
def test_parse_move_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="type a column number from 1 to 7"):
        ConnectFour().parse_move(text)
