"""Tic-tac-toe: seat 0 plays X, seat 1 plays O.

On the wire a move is a cell number 0-8, row by row. People see and type the cells as 1-9 (the
terminal and the web page), and refusals name a cell by where it is ("the centre cell").
"""

from __future__ import annotations

import random
from typing import Any

from .base import Game, Outcome, State
from .bots import random_bot

__all__ = ["TicTacToe"]

_LINES = (
    (0, 1, 2), (3, 4, 5), (6, 7, 8),  # rows
    (0, 3, 6), (1, 4, 7), (2, 5, 8),  # columns
    (0, 4, 8), (2, 4, 6),  # diagonals
)  # fmt: skip
_MARKS = ("X", "O")
_PLACES = (
    "top left", "top middle", "top right",
    "middle left", "centre", "middle right",
    "bottom left", "bottom middle", "bottom right",
)  # fmt: skip


def _winner(board: list[str | None]) -> int | None:
    for a, b, c in _LINES:
        mark = board[a]
        if mark is not None and mark == board[b] == board[c]:
            return 0 if mark == "X" else 1
    return None


class TicTacToe(Game):
    name = "tictactoe"
    description = "Three in a row on a 3x3 board."
    web_board = "builtin"
    players = 2

    def setup(self, options: dict[str, Any]) -> State:
        return {"board": [None] * 9}

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        if isinstance(move, bool) or not isinstance(move, int):
            return "a move is a cell number from 0 to 8"
        if not 0 <= move <= 8:
            return f"cell {move} is off the board (cells are 0 to 8)"
        if state["board"][move] is not None:
            return f"the {_PLACES[move]} cell is already taken"
        return None

    def apply(self, state: State, seat: int, move: Any) -> State:
        board = list(state["board"])
        board[move] = _MARKS[seat]
        return {"board": board}

    def outcome(self, state: State) -> Outcome | None:
        board = state["board"]
        winner = _winner(board)
        if winner is not None:
            return Outcome.win(winner)
        if None not in board:
            return Outcome.draw()
        return None

    def next_player(self, state: State, seat: int) -> int:
        return 1 - seat

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        return [i for i, cell in enumerate(state["board"]) if cell is None]

    def seat_label(self, seat: int) -> str:
        return _MARKS[seat]

    def move_text(self, move: Any) -> str:
        """The cell as people number it, 1-9."""
        return str(move + 1) if type(move) is int else super().move_text(move)

    def render(self, view: Any, seat: int | None) -> str:
        """The board with the free cells numbered 1-9, as they are typed."""
        board = view["board"]
        cells = [board[i] or str(i + 1) for i in range(9)]
        rows = [" " + " | ".join(cells[r * 3 : r * 3 + 3]) for r in range(3)]
        return "\n---+---+---\n".join(rows)

    def parse_move(self, text: str) -> Any:
        """A cell typed as 1-9 (as the board shows them) to its move, 0-8."""
        text = text.strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 9:
            raise ValueError("type a cell number from 1 to 9")
        return int(text) - 1


def _minimax(board: list[str | None], to_move: int, memo: dict[tuple[Any, int], int]) -> int:
    """Score from the point of view of ``to_move``: +1 win, 0 draw, -1 loss."""
    key = (tuple(board), to_move)
    if key in memo:
        return memo[key]
    winner = _winner(board)
    if winner is not None:
        score = 1 if winner == to_move else -1
    elif all(cell is not None for cell in board):
        score = 0
    else:
        score = -2
        for i in range(9):
            if board[i] is None:
                board[i] = _MARKS[to_move]
                score = max(score, -_minimax(board, 1 - to_move, memo))
                board[i] = None
    memo[key] = score
    return score


_MEMO: dict[tuple[Any, int], int] = {}


def minimax_bot(game: Game, state: State, seat: int, rng: random.Random) -> int:
    """Perfect play: never loses; picks at random among equally good moves."""
    board = list(state["board"])
    best: list[int] = []
    best_score = -2
    for i in range(9):
        if board[i] is None:
            board[i] = _MARKS[seat]
            score = -_minimax(board, 1 - seat, _MEMO)
            board[i] = None
            if score > best_score:
                best, best_score = [i], score
            elif score == best_score:
                best.append(i)
    return rng.choice(best)


TicTacToe.bots = {"minimax": minimax_bot, "random": random_bot}
