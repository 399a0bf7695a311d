"""Chess: seat 0 plays white, seat 1 black; the rules are python-chess's.

A move is a string in SAN (``"Nf3"``, ``"exd5"``, ``"O-O"``, ``"e8=Q"``) or UCI (``"g1f3"``,
``"e7e8q"``); ``apply`` stores it as UCI. The option ``fen`` starts from another position.

What clients see (the game is public: every seat and spectator gets the state itself)::

    {
      "start": "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1",  # FEN the game began from
      "moves": ["e2e4", "e7e5"],   # every move so far, in UCI
      "san":   ["e4", "e5"],       # the same moves in SAN, for a move list
      "fen":   "rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2",  # the position now
      "turn":  "white",            # the side to move: "white" (seat 0) or "black" (seat 1)
      "check": null,               # the square of the king in check ("e1"), or null
      "last":  {"from": "e7", "to": "e5"},  # the last move's squares (castling: the king's), or null
      "legal": ["a2a3", "a2a4", ...]        # the side to move's legal moves in UCI, sorted; [] once over
    }

A board draws ``fen``, highlights ``last`` and ``check``, and offers the targets in ``legal`` that
start on a clicked square (a promotion is the UCI with a fifth letter: ``e7e8q``).

The game ends by checkmate (reason ``"checkmate"``), stalemate, insufficient material, the
seventy-five-move rule or fivefold repetition, and, claimed by the server at once for both
players, threefold repetition and the fifty-move rule. A claim is made when the repetition or the
hundredth quiet half-move has actually happened, not one move early as python-chess's
``outcome(claim_draw=True)`` allows for a move about to be played. Resigning, draws by agreement and
clocks are the match engine's.

Bots: ``"simple"`` (a quick two-ply search), ``"random"``, and ``"stockfish"`` (an ``EngineBot``
driving a UCI engine, falling back to the simple bot when there is none). ``to_pgn`` writes a game
as PGN.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import re
import shutil
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import chess
import chess.engine
import chess.pgn

from .base import Game, Outcome, State
from .bots import random_bot

__all__ = ["Chess", "EngineBot", "simple_bot", "to_pgn"]

log = logging.getLogger("netplay.games.chess")

_COLORS: Final = ("white", "black")
_SHAPE: Final = "a move is a string in SAN (Nf3) or UCI (g1f3)"
_HINT: Final = "type a move in SAN (Nf3, exd5, O-O, e8=Q) or UCI (g1f3, e7e8q)"
_MOVE_TEXT = re.compile(r"[A-Za-z0-9=+#!?-]{1,12}")
_UCI = re.compile(r"[a-h][1-8][a-h][1-8][qrbn]?")
_LOOSE_UCI = re.compile(r"([a-h][1-8])[-x]?([a-h][1-8])=?([qrbn])?")
_LOOSE_SAN = re.compile(r"([KQRBNkqrn])?([a-hA-H])?([1-8])?([xX])?([a-hA-H][1-8])(?:=?([QRBNqrbn]))?")
_REASONS: Final = {
    chess.Termination.CHECKMATE: "checkmate",
    chess.Termination.STALEMATE: "stalemate",
    chess.Termination.INSUFFICIENT_MATERIAL: "insufficient material",
    chess.Termination.SEVENTYFIVE_MOVES: "seventy-five-move rule",
    chess.Termination.FIVEFOLD_REPETITION: "fivefold repetition",
}

# -- positions: boards rebuilt from a state's moves, cached -------------------------------------


@dataclass(frozen=True, slots=True)
class _Position:
    """A board with its move history and how the game stands there (None: it goes on)."""

    board: chess.Board
    #: (winning seat or None for a draw, reason).
    ending: tuple[int | None, str] | None


#: Boards by (start FEN, moves). python-chess mutates a board while it answers some questions
#: (``san``, repetitions), so every use of a cached board holds ``_LOCK``: bots run in threads.
_CACHE: OrderedDict[tuple[str, tuple[str, ...]], _Position] = OrderedDict()
_CACHE_SIZE: Final = 512
_LOCK = threading.RLock()


def _ending(board: chess.Board) -> tuple[int | None, str] | None:
    """The game's end at ``board``, with threefold repetition and the fifty-move rule claimed."""
    done = board.outcome(claim_draw=False)
    if done is not None:
        winner = None if done.winner is None else (0 if done.winner == chess.WHITE else 1)
        return winner, _REASONS.get(done.termination, done.termination.name.lower().replace("_", " "))
    if board.halfmove_clock >= 100:
        return None, "fifty-move rule"
    if board.is_repetition(3):
        return None, "threefold repetition"
    return None


def _remember(key: tuple[str, tuple[str, ...]], board: chess.Board) -> _Position:
    position = _Position(board, _ending(board))
    _CACHE[key] = position
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return position


def _position(start: str, moves: tuple[str, ...]) -> _Position:
    """The position after ``moves`` from ``start`` (call holding ``_LOCK``; never mutate the board)."""
    key = (start, moves)
    found = _CACHE.get(key)
    if found is not None:
        _CACHE.move_to_end(key)
        return found
    before = _CACHE.get((start, moves[:-1])) if moves else None
    if before is not None:  # the usual case: one move after a cached position
        board = before.board.copy()
        board.push_uci(moves[-1])
    else:  # a state from the store, or one the cache forgot: replay it, checking every move
        board = chess.Board(start)
        for uci in moves:
            board.push_uci(uci)
    return _remember(key, board)


def _of(state: State) -> _Position:
    return _position(state["start"], tuple(state["moves"]))


def _board_copy(state: State) -> chess.Board:
    """A private copy of the board of ``state`` (or a view), with its history, for a bot to search."""
    with _LOCK:
        return _of(state).board.copy()


def _derive(start: str, moves: list[str], san: list[str], position: _Position) -> dict[str, Any]:
    """The state clients see, from the position after ``moves``."""
    board = position.board
    last = None
    if board.move_stack:
        move = board.move_stack[-1]
        last = {"from": chess.square_name(move.from_square), "to": chess.square_name(move.to_square)}
    king = board.king(board.turn) if board.is_check() else None
    legal = [] if position.ending is not None else sorted(m.uci() for m in board.legal_moves)
    return {
        "start": start,
        "moves": moves,
        "san": san,
        "fen": board.fen(),
        "turn": _COLORS[0 if board.turn == chess.WHITE else 1],
        "check": None if king is None else chess.square_name(king),
        "last": last,
        "legal": legal,
    }


# -- reading moves ------------------------------------------------------------------------------


def _read(board: chess.Board, move: Any) -> chess.Move | str:
    """The legal move ``move`` names on ``board``, or why it names none (call holding ``_LOCK``)."""
    if not isinstance(move, str) or len(move) > 40:
        return _SHAPE
    text = move.strip()
    if not _MOVE_TEXT.fullmatch(text):
        return _SHAPE
    text = text.rstrip("!?") or text  # annotations ("Nf3!?") say nothing about the move
    illegal = f"{text} is not a legal move in this position"
    if _UCI.fullmatch(text):
        try:
            return board.parse_uci(text)
        except ValueError:
            if len(text) == 4 and board.is_legal(chess.Move.from_uci(text + "q")):
                return f"{illegal}: say what the pawn becomes ({text}q, {text}r, {text}b or {text}n)"
            return illegal
    try:
        found = board.parse_san(text)
    except chess.AmbiguousMoveError:
        return _ambiguous(board, text)
    except ValueError:
        if "=" not in text and _legal_san(board, text.rstrip("+#!?") + "=Q"):
            square = text.rstrip("+#!?")
            return f"{illegal}: say what the pawn becomes ({square}=Q, {square}=R, {square}=B or {square}=N)"
        return illegal
    return found if found else illegal  # a null move ("--") is never legal here


def _legal_san(board: chess.Board, san: str) -> bool:
    try:
        return bool(board.parse_san(san))
    except ValueError:
        return False


def _ambiguous(board: chess.Board, text: str) -> str:
    """Why ``text`` names several moves, with each of them spelled out."""
    match = _LOOSE_SAN.fullmatch(text.rstrip("+#!?"))
    options: list[str] = []
    if match is not None and match.group(1):
        piece = chess.PIECE_SYMBOLS.index(match.group(1).lower())
        target = chess.parse_square(match.group(5).lower())
        options = sorted(
            board.san(m)
            for m in board.legal_moves
            if m.to_square == target and board.piece_type_at(m.from_square) == piece
        )
    if not options:
        return f"{text} is ambiguous in this position: say which piece moves"
    return f"{text} is ambiguous in this position: {' or '.join(options)}"


# -- the game -----------------------------------------------------------------------------------


class Chess(Game):
    """Chess by the FIDE rules (python-chess), with threefold and fifty-move draws claimed at once."""

    name = "chess"
    description = "Chess: moves in SAN (Nf3, O-O) or UCI (g1f3); option fen starts from a position."
    web_board = "builtin"
    players = 2

    def setup(self, options: dict[str, Any]) -> State:
        """The standard start, or the option ``fen``: any legal position in FEN (ValueError if not)."""
        fen = options.get("fen")
        if fen is None:
            start = chess.STARTING_FEN
        else:
            start = _start_fen(fen)
        with _LOCK:
            return _derive(start, [], [], _position(start, ()))

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        """Why ``move`` is not legal now: not a move's shape, not this seat's turn, or not legal here."""
        if not isinstance(move, str) or len(move) > 40:
            return _SHAPE
        with _LOCK:
            position = _of(state)
            if position.ending is not None:
                return "the game is over"
            to_move = 0 if position.board.turn == chess.WHITE else 1
            if seat != to_move:
                return f"it is {_COLORS[to_move]}'s turn"
            read = _read(position.board, move)
        return read if isinstance(read, str) else None

    def apply(self, state: State, seat: int, move: Any) -> State:
        """The state after the legal ``move``, stored in UCI, with everything clients draw from."""
        moves = tuple(state["moves"])
        with _LOCK:
            before = _of(state)
            read = _read(before.board, move)
            if isinstance(read, str):
                raise ValueError(read)
            san = before.board.san(read)
            after_moves = (*moves, read.uci())
            board = before.board.copy()
            board.push(read)
            after = _remember((state["start"], after_moves), board)
            return _derive(state["start"], list(after_moves), [*state["san"], san], after)

    def outcome(self, state: State) -> Outcome | None:
        """Checkmate wins; stalemate, dead material, repetitions and move rules draw (see the module)."""
        with _LOCK:
            ending = _of(state).ending
        if ending is None:
            return None
        winner, reason = ending
        return Outcome.draw(reason) if winner is None else Outcome.win(winner, reason)

    def first_player(self, state: State) -> int:
        """The side to move in the start position (black, from a FEN with black to move)."""
        return _COLORS.index(state["turn"])

    def next_player(self, state: State, seat: int) -> int:
        """The side to move now."""
        return _COLORS.index(state["turn"])

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        """The legal moves in UCI when ``seat`` is to move, else none; works on a view too."""
        if seat != _COLORS.index(state["turn"]):
            return []
        return list(state["legal"])

    def seat_label(self, seat: int) -> str:
        return _COLORS[seat] if seat in (0, 1) else f"seat {seat}"

    def render(self, view: Any, seat: int | None) -> str:
        """The board from ``seat``'s side (black's upside down), the last move, check and the moves."""
        board = chess.Board(view["fen"])
        flip = seat == 1
        files = "hgfedcba" if flip else "abcdefgh"
        ranks = range(8) if flip else range(7, -1, -1)
        edge = "    " + " ".join(files)
        lines = [edge, "  +-----------------+"]
        for rank in ranks:
            squares = [board.piece_at(chess.square(ord(f) - ord("a"), rank)) for f in files]
            cells = " ".join("." if p is None else p.symbol() for p in squares)
            lines.append(f"{rank + 1} | {cells} | {rank + 1}")
        lines += ["  +-----------------+", edge, "white: capitals, black: small letters"]
        numbered = _numbered(view["start"], view["san"])
        if view["last"] is not None:
            lines.append(f"last move: {numbered[-1]} ({view['moves'][-1]})")
        ending = self.outcome(view)
        if ending is not None:
            result = "draw" if ending.winner is None else f"{_COLORS[ending.winner]} wins"
            lines.append(f"game over: {ending.reason}, {result}")
        else:
            you = " (you)" if seat is not None and _COLORS.index(view["turn"]) == seat else ""
            check = f", in check (king on {view['check']})" if view["check"] else ""
            lines.append(f"{view['turn']}{you} to move{check}")
        if numbered:
            tail = " ".join(_joined(numbered[-12:]))
            lines.append(f"moves: {'... ' if len(numbered) > 12 else ''}{tail}")
        return "\n".join(lines)

    def notation(self, state: State, names: Sequence[str], outcome: Outcome | None) -> str | None:
        """The position now in FEN, then the game in PGN (what ``netplay replay`` shows)."""
        white, black = [*names, "white", "black"][:2]
        pgn = to_pgn(state, white, black, outcome)
        return f"FEN: {state['fen']}\n\n{pgn}"

    def move_text(self, move: Any) -> str:
        """A stored move as it is written: UCI (the state's ``san`` list has the SAN)."""
        return move if isinstance(move, str) else super().move_text(move)

    def parse_move(self, text: str) -> Any:
        """SAN or UCI typed loosely (``nf3``, ``e2-e4``, ``0-0``, ``e8q``); validate judges legality."""
        word = text.strip().rstrip("+#!?")
        low = word.lower()
        if low in ("0-0", "o-o"):
            return "O-O"
        if low in ("0-0-0", "o-o-o"):
            return "O-O-O"
        if m := _LOOSE_UCI.fullmatch(low):
            return m.group(1) + m.group(2) + (m.group(3) or "")
        if m := _LOOSE_SAN.fullmatch(word):
            piece, file, rank, takes, square, promotion = m.groups()
            return (
                (piece or "").upper()
                + (file or "").lower()
                + (rank or "")
                + ("x" if takes else "")
                + square.lower()
                + (f"={promotion.upper()}" if promotion else "")
            )
        raise ValueError(_HINT)


def _start_fen(fen: Any) -> str:
    """The ``fen`` option checked by python-chess and normalised, or ValueError saying what is wrong."""
    example = f"(the start is {chess.STARTING_FEN})"
    if not isinstance(fen, str) or len(fen) > 120:
        raise ValueError(f"fen must be a position in FEN {example}")
    try:
        board = chess.Board(fen)
    except ValueError as exc:
        raise ValueError(f"fen {fen!r} is not a position in FEN: {exc} {example}") from None
    status = board.status()
    if status != chess.STATUS_VALID:
        problems = ", ".join(
            (flag.name or "").lower().replace("_", " ") for flag in chess.Status if flag and flag in status
        )
        raise ValueError(f"fen {fen!r} is not a legal position: {problems}")
    return board.fen()


def _numbered(start: str, san: list[str]) -> list[str]:
    """Each SAN move with its number: ``1. e4``, ``1... e5`` (the number is shown on white's moves)."""
    board = chess.Board(start)
    number, white = board.fullmove_number, board.turn == chess.WHITE
    out = []
    for move in san:
        if white:
            out.append(f"{number}. {move}")
        else:
            out.append(f"{number}... {move}")
            number += 1
        white = not white
    return out


def _joined(numbered: list[str]) -> list[str]:
    """A move list as printed: ``1. e4 e5 2. Nf3`` (black's number only where white's is missing)."""
    out = []
    for n, text in enumerate(numbered):
        if "... " in text and n > 0:
            out.append(text.split("... ", 1)[1])
        else:
            out.append(text)
    return out


def to_pgn(
    state: State, white: str = "white", black: str = "black", result: Outcome | None = None, **headers: Any
) -> str:
    """The game of ``state`` as PGN; ``result`` (default: the rules' outcome) fills Result and Termination.

    Extra ``headers`` (``Event="club night"``, ``Date="2024.05.01"``) are added as tags; a game from
    a ``fen`` option carries SetUp and FEN tags, so ``chess.pgn.read_game`` replays it exactly.
    """
    game = chess.pgn.Game.from_board(_board_copy(state))
    if result is None:
        result = Chess().outcome(state)
    game.headers["Event"] = "netplay"
    game.headers["White"] = white
    game.headers["Black"] = black
    if result is None:
        game.headers["Result"] = "*"
    else:
        if result.winner is not None:
            game.headers["Result"] = "1-0" if result.winner == 0 else "0-1"
        else:
            game.headers["Result"] = "1/2-1/2" if result.is_draw else "*"
        game.headers["Termination"] = {"time": "time forfeit", "forfeit": "abandoned"}.get(
            result.reason, "normal"
        )
    for key, value in headers.items():
        game.headers[key] = str(value)
    return str(game)


# -- the simple bot: two plies and captures, material and piece squares ---------------------------

_VALUE: Final = {chess.PAWN: 100, chess.KNIGHT: 320, chess.BISHOP: 330, chess.ROOK: 500, chess.QUEEN: 900}
# Piece-square tables for white, one string a rank, rank 8 first (the "simplified evaluation function").
_PST_ROWS: Final = {
    chess.PAWN: (
        "  0   0   0   0   0   0   0   0",
        " 50  50  50  50  50  50  50  50",
        " 10  10  20  30  30  20  10  10",
        "  5   5  10  25  25  10   5   5",
        "  0   0   0  20  20   0   0   0",
        "  5  -5 -10   0   0 -10  -5   5",
        "  5  10  10 -20 -20  10  10   5",
        "  0   0   0   0   0   0   0   0",
    ),
    chess.KNIGHT: (
        "-50 -40 -30 -30 -30 -30 -40 -50",
        "-40 -20   0   0   0   0 -20 -40",
        "-30   0  10  15  15  10   0 -30",
        "-30   5  15  20  20  15   5 -30",
        "-30   0  15  20  20  15   0 -30",
        "-30   5  10  15  15  10   5 -30",
        "-40 -20   0   5   5   0 -20 -40",
        "-50 -40 -30 -30 -30 -30 -40 -50",
    ),
    chess.BISHOP: (
        "-20 -10 -10 -10 -10 -10 -10 -20",
        "-10   0   0   0   0   0   0 -10",
        "-10   0   5  10  10   5   0 -10",
        "-10   5   5  10  10   5   5 -10",
        "-10   0  10  10  10  10   0 -10",
        "-10  10  10  10  10  10  10 -10",
        "-10   5   0   0   0   0   5 -10",
        "-20 -10 -10 -10 -10 -10 -10 -20",
    ),
    chess.ROOK: (
        "  0   0   0   0   0   0   0   0",
        "  5  10  10  10  10  10  10   5",
        " -5   0   0   0   0   0   0  -5",
        " -5   0   0   0   0   0   0  -5",
        " -5   0   0   0   0   0   0  -5",
        " -5   0   0   0   0   0   0  -5",
        " -5   0   0   0   0   0   0  -5",
        "  0   0   0   5   5   0   0   0",
    ),
    chess.QUEEN: (
        "-20 -10 -10  -5  -5 -10 -10 -20",
        "-10   0   0   0   0   0   0 -10",
        "-10   0   5   5   5   5   0 -10",
        " -5   0   5   5   5   5   0  -5",
        "  0   0   5   5   5   5   0  -5",
        "-10   5   5   5   5   5   0 -10",
        "-10   0   5   0   0   0   0 -10",
        "-20 -10 -10  -5  -5 -10 -10 -20",
    ),
}
#: The king: in the middle game (stay castled), in the endgame (come to the centre).
_KING_ROWS: Final = (
    (
        "-30 -40 -40 -50 -50 -40 -40 -30",
        "-30 -40 -40 -50 -50 -40 -40 -30",
        "-30 -40 -40 -50 -50 -40 -40 -30",
        "-30 -40 -40 -50 -50 -40 -40 -30",
        "-20 -30 -30 -40 -40 -30 -30 -20",
        "-10 -20 -20 -20 -20 -20 -20 -10",
        " 20  20   0   0   0   0  20  20",
        " 20  30  10   0   0  10  30  20",
    ),
    (
        "-50 -40 -30 -20 -20 -30 -40 -50",
        "-30 -20 -10   0   0 -10 -20 -30",
        "-30 -10  20  30  30  20 -10 -30",
        "-30 -10  30  40  40  30 -10 -30",
        "-30 -10  30  40  40  30 -10 -30",
        "-30 -10  20  30  30  20 -10 -30",
        "-30 -30   0   0   0   0 -30 -30",
        "-50 -30 -30 -30 -30 -30 -30 -50",
    ),
)
_MATE: Final = 1_000_000
_INFINITY: Final = 10 * _MATE
_QUIESCE_PLIES: Final = 6
_CHECK_BONUS: Final = 15
#: Capture-search nodes a move may take (a few hundred is usual): a bound on the time per move.
_NODE_BUDGET: Final = 8000
#: Manhattan distance of each square from the centre (mop-up: drive a lone king to the edge).
_FROM_CENTRE: Final = tuple(
    max(3 - chess.square_file(s), chess.square_file(s) - 4)
    + max(3 - chess.square_rank(s), chess.square_rank(s) - 4)
    for s in chess.SQUARES
)

#: Each side's value of a piece on a square, piece value included: [color][piece type][square].
_Tables = list[list[list[int]]]


def _tables(endgame: bool) -> _Tables:
    rows = {**_PST_ROWS, chess.KING: _KING_ROWS[1 if endgame else 0]}
    black: list[list[int]] = [[0] * 64]
    white: list[list[int]] = [[0] * 64]
    for piece in chess.PIECE_TYPES:
        table = [int(v) for v in " ".join(rows[piece]).split()]
        assert len(table) == 64, piece
        value = _VALUE.get(piece, 0)
        white.append([value + table[s ^ 56] for s in chess.SQUARES])  # the list is rank 8 first
        black.append([value + table[s] for s in chess.SQUARES])  # black's rank 8 is its first
    return [black, white]  # indexed by chess.BLACK (False) and chess.WHITE (True)


_MIDDLE_GAME: Final = _tables(endgame=False)
_ENDGAME: Final = _tables(endgame=True)


class _Search:
    """A fixed two-ply alpha-beta search with a capture search, over a private board."""

    def __init__(self, board: chess.Board) -> None:
        self.board = board
        pieces = {
            color: sum(
                _VALUE[p] * chess.popcount(board.pieces_mask(p, color)) for p in _VALUE if p != chess.PAWN
            )
            for color in chess.COLORS
        }
        self.tables = _ENDGAME if pieces[chess.WHITE] + pieces[chess.BLACK] <= 2600 else _MIDDLE_GAME
        material = {
            c: pieces[c] + 100 * chess.popcount(board.pieces_mask(chess.PAWN, c)) for c in chess.COLORS
        }
        #: The side that should hunt the other's king (it has a lone king, or a king and a minor piece).
        self.hunter: chess.Color | None = None
        for color in chess.COLORS:
            if material[not color] <= 330 and material[color] - material[not color] >= 400:
                self.hunter = color
        score = 0
        for color in chess.COLORS:
            sign = 1 if color == chess.WHITE else -1
            for piece in chess.PIECE_TYPES:
                table = self.tables[color][piece]
                score += sign * sum(table[s] for s in chess.scan_forward(board.pieces_mask(piece, color)))
        #: The static score from white's side; kept up to date move by move (``delta``).
        self.score = score
        #: Capture-search nodes so far: past ``_NODE_BUDGET`` the search only stands pat.
        self.nodes = 0

    def delta(self, move: chess.Move) -> int:
        """How ``move`` changes the static score, from white's side (before it is pushed)."""
        board = self.board
        color = board.turn
        own, other = self.tables[color], self.tables[not color]
        frm, to = move.from_square, move.to_square
        piece = board.piece_type_at(frm) or chess.PAWN
        if move.promotion:
            change = own[move.promotion][to] - own[chess.PAWN][frm]
        else:
            change = own[piece][to] - own[piece][frm]
        taken = board.piece_type_at(to)
        if taken:
            change += other[taken][to]
        elif piece == chess.PAWN and to == board.ep_square and (frm - to) % 8:
            change += other[chess.PAWN][to - 8 if color == chess.WHITE else to + 8]
        elif piece == chess.KING and abs(to - frm) == 2:  # castling moves the rook too
            rook_from, rook_to = (frm + 3, frm + 1) if to > frm else (frm - 4, frm - 1)
            change += own[chess.ROOK][rook_to] - own[chess.ROOK][rook_from]
        return change if color == chess.WHITE else -change

    def static(self, score: int) -> int:
        """The score of the position for the side to move."""
        board = self.board
        value = score if board.turn == chess.WHITE else -score
        hunter = self.hunter
        if hunter is not None:
            prey, own = board.king(not hunter), board.king(hunter)
            if prey is not None and own is not None:
                bonus = 12 * _FROM_CENTRE[prey] + 6 * (7 - chess.square_distance(prey, own))
                value += bonus if board.turn == hunter else -bonus
        return value

    def order(self, moves: list[chess.Move]) -> list[chess.Move]:
        """Captures first (most valuable victim, least valuable attacker), then promotions."""
        board = self.board

        def key(move: chess.Move) -> int:
            taken = board.piece_type_at(move.to_square)
            k = 0
            if taken:
                k -= 10 * _VALUE.get(taken, 0) - _VALUE.get(board.piece_type_at(move.from_square) or 1, 0)
            if move.promotion:
                k -= _VALUE[move.promotion]
            return k

        return sorted(moves, key=key)

    def search(self, depth: int, alpha: int, beta: int, ply: int, score: int) -> int:
        """Negamax over every legal move ``depth`` plies deep, then the capture search."""
        board = self.board
        moves = list(board.generate_legal_moves())
        if not moves:
            return -(_MATE - ply) if board.is_check() else 0
        best = -_INFINITY
        for move in self.order(moves):
            change = self.delta(move)
            board.push(move)
            if depth > 1:
                value = -self.search(depth - 1, -beta, -alpha, ply + 1, score + change)
            else:
                value = -self.quiesce(-beta, -alpha, ply + 1, score + change, _QUIESCE_PLIES)
            board.pop()
            if value > best:
                best = value
                if value > alpha:
                    alpha = value
                    if alpha >= beta:
                        break
        return best

    def quiesce(self, alpha: int, beta: int, ply: int, score: int, left: int) -> int:
        """Captures worth trying, standing pat on the score; every reply to a check on its first ply.

        Right after the full-width plies a check is answered in every way, so a mate is seen; deeper,
        a check only needs some way out, and the capture search goes on as if it were quiet.
        """
        board = self.board
        self.nodes += 1
        spent = self.nodes > _NODE_BUDGET
        in_check = board.is_check()
        if in_check and left == _QUIESCE_PLIES:
            evasions = list(board.generate_legal_moves())
            if not evasions:
                return -(_MATE - ply)
            if spent:
                return self.static(score)
            best = -_INFINITY
            moves = self.order(evasions)
        else:
            if in_check and not any(board.generate_legal_moves()):
                return -(_MATE - ply)
            best = self.static(score)
            if best >= beta or left <= 0 or spent:
                return best
            alpha = max(alpha, best)
            moves = self.captures(alpha - best)
        for move in moves:
            change = self.delta(move)
            board.push(move)
            value = -self.quiesce(-beta, -alpha, ply + 1, score + change, left - 1)
            board.pop()
            if value > best:
                best = value
                if value > alpha:
                    alpha = value
                    if alpha >= beta:
                        break
        return best

    def captures(self, need: int) -> list[chess.Move]:
        """Captures that may gain ``need`` and are not simply losing (a bigger piece takes a guarded one)."""
        board = self.board
        them = not board.turn
        scored = []
        for move in board.generate_legal_captures():
            taken = board.piece_type_at(move.to_square) or chess.PAWN  # None: en passant
            gain = _VALUE[taken] + (_VALUE[move.promotion] - 100 if move.promotion else 0)
            if gain + 200 < need:
                continue
            mover = _VALUE.get(board.piece_type_at(move.from_square) or chess.PAWN, 2000)
            if mover > gain and board.is_attacked_by(them, move.to_square):
                continue
            scored.append((10 * gain - mover, move))
        scored.sort(key=lambda pair: -pair[0])
        return [move for _, move in scored]


def _is_drawn(board: chess.Board) -> bool:
    """A draw now, or a position seen before (shuffling back is as good as a draw)."""
    return board.is_insufficient_material() or board.halfmove_clock >= 100 or board.is_repetition(2)


def simple_bot(game: Game, view: State, seat: int, rng: random.Random) -> str:
    """A quick player: two plies and every capture sequence, material and piece squares.

    It mates in one, sees a mate in one coming, takes free material, wins exchanges, steers a lone
    king to the edge, and prefers a check among equal moves; ties are broken by ``rng``.
    """
    board = _board_copy(view)
    moves = list(board.legal_moves)
    if not moves:
        raise ValueError("no legal move: the game is over")
    if len(moves) == 1:
        return moves[0].uci()
    rng.shuffle(moves)
    search = _Search(board)
    best_move, best = moves[0], -_INFINITY
    for move in search.order(moves):
        bonus = _CHECK_BONUS if board.gives_check(move) else 0
        change = search.delta(move)
        board.push(move)
        if board.is_checkmate():
            value = _MATE
        elif _is_drawn(board):
            value = 0
        else:
            value = -search.search(1, -_INFINITY, -(best - bonus), 1, search.score + change) + bonus
        board.pop()
        if value > best:
            best_move, best = move, value
    return best_move.uci()


# -- the engine bot: a UCI engine such as stockfish ----------------------------------------------


#: Every engine bot, so that their engines are quit at exit.
_BOTS: weakref.WeakSet[EngineBot] = weakref.WeakSet()


def _find_engine() -> str:
    found = shutil.which("stockfish")
    if found:
        return found
    if os.path.exists("/usr/games/stockfish"):
        return "/usr/games/stockfish"
    raise FileNotFoundError("no stockfish on PATH or at /usr/games/stockfish (apt install stockfish)")


class EngineBot:
    """A bot that asks a UCI engine (stockfish by default) for its move, at ``level`` 0-20.

    The level is the engine's "Skill Level"; ``think_time`` is seconds per move. One engine process
    per bot in each process it thinks in (a bot worker, or the server), started at its first move and
    used one move at a time.
    If the engine is missing, crashes or errs, the bot logs one line and the simple bot moves instead;
    the next move starts the engine again.
    """

    def __init__(self, level: int = 5, think_time: float = 0.1, path: str | None = None) -> None:
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 20:
            raise ValueError(f"level must be a whole number from 0 to 20, not {level!r}")
        if (
            isinstance(think_time, bool)
            or not isinstance(think_time, int | float)
            or not 0 < think_time <= 60
        ):
            raise ValueError(f"think_time must be more than 0 and at most 60 seconds, not {think_time!r}")
        self.level = level
        self.think_time = float(think_time)
        self.path = path
        self._engine: chess.engine.SimpleEngine | None = None
        self._lock = threading.Lock()
        self._missing_logged = False
        self._levels: dict[int, EngineBot] = {level: self}
        _BOTS.add(self)

    def __repr__(self) -> str:
        return f"EngineBot(level={self.level}, think_time={self.think_time}, path={self.path!r})"

    def with_level(self, level: int) -> EngineBot:
        """This bot at another strength (same think time and engine); made once per level, then reused."""
        with self._lock:
            bot = self._levels.get(level)
            if bot is None:
                bot = self._levels[level] = EngineBot(level, self.think_time, self.path)
            return bot

    def __call__(self, game: Game, view: State, seat: int, rng: random.Random) -> str:
        """The engine's move for the side to move in ``view`` (UCI), or the simple bot's if it fails."""
        board = _board_copy(view)
        with self._lock:
            try:
                engine = self._engine or self._open()
                played = engine.play(board, chess.engine.Limit(time=self.think_time))
                if played.move is None or not board.is_legal(played.move):
                    raise chess.engine.EngineError(f"the engine answered {played.move} in {board.fen()}")
                return played.move.uci()
            except (FileNotFoundError, PermissionError) as exc:
                if not self._missing_logged:
                    self._missing_logged = True
                    log.warning("chess engine unavailable (%s); the simple bot plays instead", _one_line(exc))
                self._shut()
            except Exception as exc:  # a crash, a timeout, a protocol error: play on without it
                log.warning("chess engine failed (%s); the simple bot plays this move", _one_line(exc))
                self._shut()
        return simple_bot(game, view, seat, rng)

    def _open(self) -> chess.engine.SimpleEngine:
        engine = _popen(self.path or _find_engine())
        self._engine = engine
        if "Skill Level" in engine.options:
            engine.configure({"Skill Level": self.level})
        return engine

    def _shut(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            try:
                engine.quit()
            except Exception:  # already dead: make sure the process is gone
                try:
                    engine.close()
                except Exception:
                    pass

    def close(self) -> None:
        """Stop the engine (this bot's and those ``with_level`` made); a later move starts it again."""
        with self._lock:
            others = [bot for bot in self._levels.values() if bot is not self]
            self._shut()
        for bot in others:
            bot.close()


def _popen(path: str) -> chess.engine.SimpleEngine:
    """Start a UCI engine whose event-loop thread is a daemon, so an unclosed bot never blocks exit.

    python-chess runs each engine on a thread that inherits daemon status from the thread that
    starts it; bots run on the server's worker threads, which are not daemons.
    """
    started: list[chess.engine.SimpleEngine] = []
    failed: list[BaseException] = []

    def start() -> None:
        try:
            started.append(chess.engine.SimpleEngine.popen_uci(path))
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=start, name=f"chess engine {path}", daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return started[0]


@atexit.register
def _close_engines() -> None:
    """Quit every engine still running when the interpreter exits."""
    for bot in list(_BOTS):
        bot.close()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no message"
    return f"{type(exc).__name__}: {text}"


Chess.bots = {"simple": simple_bot, "random": random_bot, "stockfish": EngineBot()}
