"""Connect Four: seat 0 plays X, seat 1 plays O; a move is a column number 0-6.

The state is ``{"board": rows}``: six rows of seven cells, top row first, each cell None, "X"
or "O". A piece drops to the lowest empty cell of its column.
"""

from __future__ import annotations

import random
from typing import Any

from .base import Game, Outcome, State
from .bots import random_bot

__all__ = ["COLUMNS", "ROWS", "ConnectFour", "negamax_bot"]

COLUMNS = 7
ROWS = 6
_MARKS = ("X", "O")
_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))  # (row step, column step): -, |, \, /


def _winner(board: list[list[str | None]]) -> int | None:
    """The seat with four in a row on ``board``, or None."""
    for r in range(ROWS):
        for c in range(COLUMNS):
            mark = board[r][c]
            if mark is None:
                continue
            for dr, dc in _DIRECTIONS:
                end_r, end_c = r + 3 * dr, c + 3 * dc
                if not (0 <= end_r < ROWS and 0 <= end_c < COLUMNS):
                    continue
                if all(board[r + i * dr][c + i * dc] == mark for i in range(1, 4)):
                    return _MARKS.index(mark)
    return None


class ConnectFour(Game):
    """Four in a row on a 7-column, 6-row board where pieces fall to the bottom."""

    name = "connect4"
    description = "Drop pieces to get four in a row on a 7x6 board."
    web_board = "builtin"
    players = 2

    def setup(self, options: dict[str, Any]) -> State:
        """An empty board."""
        return {"board": [[None] * COLUMNS for _ in range(ROWS)]}

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        """Why the move is illegal: wrong shape (it came from the network), off the board, full."""
        if isinstance(move, bool) or not isinstance(move, int):
            return "a move is a column number from 0 to 6"
        if not 0 <= move < COLUMNS:
            return f"column {move} is off the board (columns are 0 to 6)"
        if state["board"][0][move] is not None:
            return f"column {move + 1} is full"  # as people number them, 1-7 from the left
        return None

    def apply(self, state: State, seat: int, move: Any) -> State:
        """Drop ``seat``'s piece into column ``move``; returns a new state."""
        board = [list(row) for row in state["board"]]
        for r in range(ROWS - 1, -1, -1):
            if board[r][move] is None:
                board[r][move] = _MARKS[seat]
                break
        return {"board": board}

    def outcome(self, state: State) -> Outcome | None:
        """A win for four in a row, a draw on a full board, else None."""
        board = state["board"]
        winner = _winner(board)
        if winner is not None:
            return Outcome.win(winner)
        if all(cell is not None for cell in board[0]):
            return Outcome.draw()
        return None

    def next_player(self, state: State, seat: int) -> int:
        """Players alternate."""
        return 1 - seat

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        """Every column that is not full."""
        return [c for c in range(COLUMNS) if state["board"][0][c] is None]

    def seat_label(self, seat: int) -> str:
        return _MARKS[seat]

    def render(self, view: Any, seat: int | None) -> str:
        """The board with column numbers above and below, X and O for pieces, '.' for empty."""
        numbers = "  " + " ".join(str(c + 1) for c in range(COLUMNS))
        rows = ["| " + " ".join(cell or "." for cell in row) + " |" for row in view["board"]]
        return "\n".join([numbers, *rows, "+" + "-" * (2 * COLUMNS + 1) + "+", numbers])

    def move_text(self, move: Any) -> str:
        """The column as people number it, 1-7 from the left."""
        return str(move + 1) if type(move) is int else super().move_text(move)

    def parse_move(self, text: str) -> Any:
        """A column typed as 1-7 (as the board shows them) to its move, 0-6."""
        text = text.strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= COLUMNS:
            raise ValueError("type a column number from 1 to 7")
        return int(text) - 1


# --- Bot -----------------------------------------------------------------------------------------
# Bitboards: bit (column * 7 + row) is the cell at ``row`` (0 = bottom) of ``column``; each column
# has one spare bit on top so that shifts used to find lines never wrap into the next column.

_H = ROWS + 1
_SHIFTS = (1, _H, _H - 1, _H + 1)  # vertical, horizontal, one diagonal, the other
_WIN = 1_000_000
_DEPTH = 5
_ORDER = (3, 2, 4, 1, 5, 0, 6)  # centre first: better cut-offs and a better default


def _bit(col: int, row: int) -> int:
    return 1 << (col * _H + row)


def _windows() -> list[int]:
    """Masks of every four-cell line on the board (69 of them)."""
    masks = []
    for col in range(COLUMNS):
        for row in range(ROWS):
            for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
                cells = [(col + i * dc, row + i * dr) for i in range(4)]
                if all(0 <= c < COLUMNS and 0 <= r < ROWS for c, r in cells):
                    masks.append(sum(_bit(c, r) for c, r in cells))
    return masks


_WINDOWS = _windows()
_CENTRE = sum(_bit(3, r) for r in range(ROWS))
_CENTRE_WEIGHT = 3
#: Worth of an open line (no enemy piece in it) by how many of its four cells are already taken.
_LINE_SCORES = (0, 1, 5, 50)


def _has_four(pieces: int) -> bool:
    """True when ``pieces`` contains four in a row in any direction."""
    for s in _SHIFTS:
        m = pieces & (pieces >> s)
        if m & (m >> (2 * s)):
            return True
    return False


def _evaluate(me: int, them: int) -> int:
    """Heuristic score for ``me``: lines still open to each side, and the centre column."""
    score = _CENTRE_WEIGHT * ((me & _CENTRE).bit_count() - (them & _CENTRE).bit_count())
    for w in _WINDOWS:
        mine, theirs = w & me, w & them
        if not theirs:
            score += _LINE_SCORES[mine.bit_count()]
        elif not mine:
            score -= _LINE_SCORES[theirs.bit_count()]
    return score


def _negamax(me: int, them: int, heights: list[int], depth: int, alpha: int, beta: int) -> int:
    """Alpha-beta score for ``me`` to move; the last move (by ``them``) did not win."""
    moves = [c for c in _ORDER if heights[c] < ROWS]
    if not moves:
        return 0
    for c in moves:
        if _has_four(me | _bit(c, heights[c])):
            return _WIN + depth  # a faster win scores higher
    if depth == 0:
        return _evaluate(me, them)
    best = -_WIN * 2
    for c in moves:
        bit = _bit(c, heights[c])
        heights[c] += 1
        score = -_negamax(them, me | bit, heights, depth - 1, -beta, -alpha)
        heights[c] -= 1
        if score > best:
            best = score
        if best > alpha:
            alpha = best
        if alpha >= beta:
            break
    return best


def _bitboards(state: State, seat: int) -> tuple[int, int, list[int]]:
    """Convert a state to (my pieces, their pieces, column heights)."""
    board = state["board"]
    me = them = 0
    heights = [0] * COLUMNS
    for c in range(COLUMNS):
        for row in range(ROWS):
            mark = board[ROWS - 1 - row][c]
            if mark is None:
                break
            if mark == _MARKS[seat]:
                me |= _bit(c, row)
            else:
                them |= _bit(c, row)
            heights[c] = row + 1
    return me, them, heights


def negamax_bot(game: Game, state: State, seat: int, rng: random.Random) -> int:
    """Depth-limited alpha-beta: win now, else block a loss, else search; ties broken by rng."""
    me, them, heights = _bitboards(state, seat)
    moves = [c for c in _ORDER if heights[c] < ROWS]
    for c in moves:
        if _has_four(me | _bit(c, heights[c])):
            return c
    threats = [c for c in moves if _has_four(them | _bit(c, heights[c]))]
    if threats:
        return threats[0]  # with two threats the game is lost anyway; block one
    best: list[int] = []
    best_score = -_WIN * 4
    for c in moves:
        bit = _bit(c, heights[c])
        heights[c] += 1
        # The window stops one below the best so far: equally good moves get exact scores.
        score = -_negamax(them, me | bit, heights, _DEPTH - 1, -_WIN * 4, -(best_score - 1))
        heights[c] -= 1
        if score > best_score:
            best, best_score = [c], score
        elif score == best_score:
            best.append(c)
    return rng.choice(best)


ConnectFour.bots = {"negamax": negamax_bot, "random": random_bot}
