"""Tic-tac-toe rules, invariants under random legal play, the minimax bot, render and parse_move."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplay.games import Bot, Game, Outcome, State, TicTacToe, random_bot
from netplay.games.tictactoe import minimax_bot

LINES = [
    (0, 1, 2), (3, 4, 5), (6, 7, 8),
    (0, 3, 6), (1, 4, 7), (2, 5, 8),
    (0, 4, 8), (2, 4, 6),
]  # fmt: skip


def board(cells: str) -> State:
    """A state from nine characters, row by row: 'X', 'O' or '.' for empty."""
    assert len(cells) == 9
    return {"board": [None if ch == "." else ch for ch in cells]}


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


# --- rules ---------------------------------------------------------------------------------------


def test_setup_is_an_empty_board() -> None:
    game = TicTacToe()
    state = game.setup({})
    assert state == {"board": [None] * 9}
    assert game.outcome(state) is None
    assert game.legal_moves(state, 0) == list(range(9))
    assert game.first_player(state) == 0


def test_metadata_and_bots() -> None:
    assert TicTacToe.name == "tictactoe"
    assert TicTacToe.players == 2
    assert TicTacToe.description
    assert list(TicTacToe.bots) == ["minimax", "random"]
    assert not TicTacToe().has_hidden_information


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("seat", [0, 1])
def test_every_line_wins(line: tuple[int, int, int], seat: int) -> None:
    game = TicTacToe()
    cells: list[str | None] = [None] * 9
    for i in line:
        cells[i] = "XO"[seat]
    assert game.outcome({"board": cells}) == Outcome.win(seat)


def test_win_by_playing_moves() -> None:
    game = TicTacToe()
    state = game.setup({})
    for seat, move in [(0, 0), (1, 3), (0, 1), (1, 4)]:
        state = game.apply(state, seat, move)
        assert game.outcome(state) is None
    state = game.apply(state, 0, 2)
    assert game.outcome(state) == Outcome.win(0)


def test_win_on_the_last_cell_is_a_win_not_a_draw() -> None:
    assert TicTacToe().outcome(board("XOXXOOXXO")) == Outcome.win(0)


def test_full_board_without_a_line_is_a_draw() -> None:
    result = TicTacToe().outcome(board("XOXXOOOXX"))
    assert result == Outcome.draw()
    assert result is not None and result.is_draw


def test_two_in_a_row_is_not_over() -> None:
    assert TicTacToe().outcome(board("XX.OO....")) is None


def test_apply_places_the_seats_mark() -> None:
    game = TicTacToe()
    state = game.apply(game.setup({}), 0, 4)
    assert state["board"][4] == "X"
    state = game.apply(state, 1, 0)
    assert state["board"][0] == "O"


def test_next_player_alternates() -> None:
    game = TicTacToe()
    state = game.setup({})
    assert game.next_player(state, 0) == 1
    assert game.next_player(state, 1) == 0


def test_legal_move() -> None:
    game = TicTacToe()
    for cell in range(9):
        assert game.validate(game.setup({}), 0, cell) is None


def test_occupied_cell_is_refused() -> None:
    game = TicTacToe()
    state = game.apply(game.setup({}), 0, 4)
    assert game.validate(state, 1, 4) == "the centre cell is already taken"
    assert 4 not in game.legal_moves(state, 1)


@pytest.mark.parametrize("move", [-1, 9, 100, -100])
def test_off_board_is_refused(move: int) -> None:
    reason = TicTacToe().validate(board("........."), 0, move)
    assert reason is not None and "off the board" in reason


@pytest.mark.parametrize("move", ["4", 4.0, True, False, None, [1], {"cell": 1}, "", 4.5])
def test_wrong_shape_is_refused(move: Any) -> None:
    assert TicTacToe().validate(board("........."), 0, move) == "a move is a cell number from 0 to 8"


def test_apply_does_not_mutate_the_state() -> None:
    game = TicTacToe()
    state = board("X...O....")
    before = copy.deepcopy(state)
    after = game.apply(state, 0, 8)
    assert state == before
    assert after is not state and after["board"] is not state["board"]


# --- invariants under random legal play ----------------------------------------------------------


def check_invariants(game: TicTacToe, state: State, moves_played: int) -> None:
    """Everything that must hold in any state reachable by legal play."""
    json.loads(json.dumps(state))  # JSON-serialisable
    cells = state["board"]
    assert len(cells) == 9 and set(cells) <= {None, "X", "O"}
    xs, os = cells.count("X"), cells.count("O")
    assert xs - os in (0, 1)  # X moves first, then they alternate
    assert xs + os == moves_played
    lines = {seat for seat in (0, 1) for a, b, c in LINES if cells[a] == cells[b] == cells[c] == "XO"[seat]}
    assert len(lines) <= 1  # play stops at the first line, so only one player can have one
    result = game.outcome(state)
    if lines:
        assert result == Outcome.win(lines.pop())
    elif None not in cells:
        assert result == Outcome.draw()
    else:
        assert result is None
    legal = game.legal_moves(state, 0)
    assert legal == [i for i in range(9) if cells[i] is None]
    for cell in range(9):
        assert (game.validate(state, 0, cell) is None) == (cell in legal)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_legal_play_stays_legal(data: st.DataObject) -> None:
    game = TicTacToe()
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
        assert moves <= 9
    result = game.outcome(state)
    assert result is not None
    assert result.is_draw or result.winner == 1 - seat  # only the player who just moved can win


# --- bots ----------------------------------------------------------------------------------------


def test_two_minimax_bots_always_draw() -> None:
    game = TicTacToe()
    for seed in range(20):
        _, result = play(game, (minimax_bot, minimax_bot), random.Random(seed))
        assert result.is_draw, f"seed {seed}"


@pytest.mark.parametrize("minimax_seat", [0, 1])
def test_minimax_never_loses_to_random(minimax_seat: int) -> None:
    game = TicTacToe()
    wins = 0
    for seed in range(200):
        bots = (minimax_bot, random_bot) if minimax_seat == 0 else (random_bot, minimax_bot)
        _, result = play(game, bots, random.Random(seed))
        assert result.winner in (None, minimax_seat), f"seed {seed}"
        wins += result.winner == minimax_seat
    assert wins > 100  # it also wins most games, not just avoids losing


def test_minimax_takes_a_win_and_blocks_a_loss() -> None:
    game = TicTacToe()
    rng = random.Random(0)
    assert minimax_bot(game, board("XX.OO...."), 0, rng) == 2  # win now
    assert minimax_bot(game, board("XX..O...."), 1, rng) == 2  # block


def test_minimax_does_not_mutate_the_state() -> None:
    state = board("X...O....")
    before = copy.deepcopy(state)
    minimax_bot(TicTacToe(), state, 0, random.Random(0))
    assert state == before


def test_random_bot_plays_a_legal_move() -> None:
    game = TicTacToe()
    state = board("XOXOX.O..")
    rng = random.Random(1)
    for _ in range(20):
        assert random_bot(game, state, 1, rng) in (5, 7, 8)


# --- terminal presentation -----------------------------------------------------------------------


def test_render_shows_marks_and_free_cell_numbers() -> None:
    text = TicTacToe().render(board("X...O...."), 0)
    assert text == " X | 2 | 3\n---+---+---\n 4 | O | 6\n---+---+---\n 7 | 8 | 9"


@pytest.mark.parametrize(("text", "move"), [("1", 0), ("9", 8), (" 5\n", 4)])
def test_parse_move_reads_the_cells_as_people_number_them(text: str, move: int) -> None:
    game = TicTacToe()
    assert game.parse_move(text) == move
    assert game.move_text(move) == text.strip()  # and shows a move the way it is typed


@pytest.mark.parametrize("text", ["", "x", "-1", "0", "10", "4.0", "one", "1 2"])
def test_parse_move_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="type a cell number from 1 to 9"):
        TicTacToe().parse_move(text)
