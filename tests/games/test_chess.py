"""Chess: the rules through python-chess, every way a game ends, the engine, PGN, terminal, bots."""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import random
import shutil
import signal
from typing import Any

import chess
import chess.pgn
import pytest

from netplay.games import Bot, Outcome, State, random_bot
from netplay.games import chess as chess_game
from netplay.games.chess import Chess, EngineBot, simple_bot, to_pgn
from netplay.games.engine import OfferDraw, Resign, Tick, clock_view
from netplay.testing import check_legal_play_never_raises, check_replay_equals_live, play

SHAPE = "a move is a string in SAN (Nf3) or UCI (g1f3)"
STOCKFISH = shutil.which("stockfish") or (
    "/usr/games/stockfish" if os.path.exists("/usr/games/stockfish") else None
)
needs_stockfish = pytest.mark.skipif(
    STOCKFISH is None, reason="stockfish is not installed (apt install stockfish)"
)


def played(*moves: str, fen: str | None = None) -> State:
    """The state after ``moves`` (SAN or UCI) from the start or ``fen``, each checked legal first."""
    game = Chess()
    state = game.setup({} if fen is None else {"fen": fen})
    for move in moves:
        seat = game.first_player(state)
        assert game.validate(state, seat, move) is None, (move, game.validate(state, seat, move))
        state = game.apply(state, seat, move)
    return state


def seat_to_move(state: State) -> int:
    """The seat whose turn it is in ``state``."""
    return Chess().first_player(state)


# --- setup and what clients see ------------------------------------------------------------------


def test_metadata() -> None:
    game = Chess()
    assert game.name == "chess" and game.players == 2 and game.description
    assert [game.seat_label(0), game.seat_label(1)] == ["white", "black"]
    assert list(game.bots) == ["simple", "random", "stockfish"]
    assert game.bots["random"] is random_bot
    assert isinstance(game.bots["stockfish"], EngineBot) and game.bots["stockfish"].level == 5
    assert not game.has_hidden_information and game.round_robin
    assert game.timeout_policy == "lose"


def test_the_start() -> None:
    game = Chess()
    state = game.setup({})
    legal = sorted(m.uci() for m in chess.Board().legal_moves)
    assert state == {
        "start": chess.STARTING_FEN,
        "moves": [],
        "san": [],
        "fen": chess.STARTING_FEN,
        "turn": "white",
        "check": None,
        "last": None,
        "legal": legal,
    }
    assert len(legal) == 20
    assert game.outcome(state) is None
    assert game.first_player(state) == 0
    assert game.legal_moves(state, 0) == legal and game.legal_moves(state, 1) == []
    assert game.view(state, 1) == state
    json.loads(json.dumps(state))


def test_a_move_shows_the_new_position_the_last_move_and_the_replies() -> None:
    state = played("e4", "c7c5", "Nf3")
    board = chess.Board()
    for uci in ("e2e4", "c7c5", "g1f3"):
        board.push_uci(uci)
    assert state["moves"] == ["e2e4", "c7c5", "g1f3"]
    assert state["san"] == ["e4", "c5", "Nf3"]
    assert state["fen"] == board.fen()
    assert state["turn"] == "black" and state["check"] is None
    assert state["last"] == {"from": "g1", "to": "f3"}
    assert state["legal"] == sorted(m.uci() for m in board.legal_moves)
    assert Chess().legal_moves(state, 1) == state["legal"] and Chess().legal_moves(state, 0) == []


def test_check_names_the_king_square() -> None:
    state = played("e4", "f6", "Qh5+")
    assert state["check"] == "e8" and state["turn"] == "black"
    assert sorted(state["legal"]) == ["g7g6"]


def test_apply_does_not_mutate_the_state() -> None:
    game = Chess()
    state = played("e4", "e5")
    before = copy.deepcopy(state)
    after = game.apply(state, 0, "Nf3")
    assert state == before
    assert after["moves"] is not state["moves"] and after["san"] is not state["san"]


def test_a_start_position_from_fen() -> None:
    fen = "4k3/8/8/8/8/8/4P3/4K3 b - - 3 40"
    game = Chess()
    state = game.setup({"fen": fen})
    assert state["start"] == fen and state["fen"] == fen and state["turn"] == "black"
    assert game.first_player(state) == 1
    assert game.validate(state, 0, "e4") == "it is black's turn"
    after = game.apply(state, 1, "Kd7")
    assert game.next_player(after, 1) == 0 and after["moves"] == ["e8d7"]


@pytest.mark.parametrize(
    ("fen", "message"),
    [
        ("nonsense", "fen 'nonsense' is not a position in FEN"),
        ("8/8/8/8/8/8/8/8 w - - 0 1", "is not a legal position: no white king, no black king"),
        ("KK6/8/8/8/8/8/8/k7 w - - 0 1", "is not a legal position: too many kings"),
        ("4k3/8/8/8/8/8/8/4K2R b - - 0 1 extra", "is not a position in FEN"),
        ("4k3/4Q3/8/8/8/8/8/4K3 w - - 0 1", "is not a legal position: opposite check"),
        (42, "fen must be a position in FEN"),
        ("8" * 500, "fen must be a position in FEN"),
    ],
)
def test_a_bad_fen_is_refused_with_a_hint(fen: Any, message: str) -> None:
    with pytest.raises(ValueError, match="fen") as caught:
        Chess().setup({"fen": fen})
    assert message in str(caught.value)


# --- every way a game ends -----------------------------------------------------------------------


def test_fools_mate_through_the_engine() -> None:
    game = Chess()
    playout = play(game, [(0, "f3"), (1, "e5"), (0, "g4"), (1, "Qh4#")])
    assert playout.outcome is not None
    assert (playout.outcome.winner, playout.outcome.reason) == (1, "checkmate")
    state = playout.match.state
    assert state["moves"] == ["f2f3", "e7e5", "g2g4", "d8h4"]
    assert state["check"] == "e1" and state["legal"] == []
    assert game.legal_moves(state, 0) == [] and game.legal_moves(state, 1) == []
    assert game.validate(state, 0, "e4") == "the game is over"


def test_stalemate() -> None:
    game = Chess()
    state = played(fen="7k/8/8/8/8/8/6Q1/K7 w - - 0 1")
    assert game.outcome(state) is None
    state = game.apply(state, 0, "Qg6")
    assert game.outcome(state) == Outcome.draw("stalemate")
    assert state["legal"] == [] and state["check"] is None


def test_insufficient_material() -> None:
    game = Chess()
    state = played("Kxb2", fen="7k/8/8/8/8/8/1r6/K7 w - - 0 1")
    assert game.outcome(state) == Outcome.draw("insufficient material")
    assert state["legal"] == []


def test_threefold_repetition_is_claimed_once_it_happens() -> None:
    game = Chess()
    shuffle = ["Nf3", "Nf6", "Ng1", "Ng8"] * 2
    state = played(*shuffle[:7])
    # The start position has been seen twice; Ng8 would make three, but it has not happened yet.
    assert game.outcome(state) is None and "f6g8" in state["legal"]
    state = game.apply(state, 1, "Ng8")
    assert game.outcome(state) == Outcome.draw("threefold repetition")
    assert state["legal"] == []


def test_a_position_seen_three_times_apart_is_also_a_repetition() -> None:
    state = played("Nf3", "Nf6", "Ng1", "Ng8", "Nc3", "Nc6", "Nb1", "Nb8")
    assert Chess().outcome(state) == Outcome.draw("threefold repetition")


def test_fifty_move_rule() -> None:
    game = Chess()
    quiet = played(fen="7k/8/8/8/8/8/8/R6K w - - 99 80")
    assert game.outcome(quiet) is None
    after = game.apply(quiet, 0, "Ra2")
    assert game.outcome(after) == Outcome.draw("fifty-move rule")
    assert after["legal"] == []


def test_a_capture_resets_the_fifty_move_count() -> None:
    state = played("Rxa2", fen="7k/8/8/8/8/8/r7/R6K w - - 99 80")
    assert Chess().outcome(state) is None and state["fen"].split()[4] == "0"


def test_mate_on_the_hundredth_quiet_move_still_wins() -> None:
    state = played("Ra8#", fen="7k/8/6K1/8/8/8/8/R7 w - - 99 80")
    assert Chess().outcome(state) == Outcome.win(0, "checkmate")


def test_the_seventy_five_move_rule_ends_a_game_at_once() -> None:
    state = played(fen="7k/8/8/8/8/8/8/R6K w - - 150 120")
    assert Chess().outcome(state) == Outcome.draw("seventy-five-move rule")


def test_a_game_rebuilt_from_its_moves_alone_ends_the_same() -> None:
    """What a restored server sees: no cached board, only the state's moves."""
    state = played("Nf3", "Nf6", "Ng1", "Ng8", "Nf3", "Nf6", "Ng1")
    chess_game._CACHE.clear()
    assert Chess().validate(state, 1, "Ng8") is None
    chess_game._CACHE.clear()
    assert Chess().outcome(Chess().apply(state, 1, "Ng8")) == Outcome.draw("threefold repetition")


# --- moves: SAN, UCI, special moves, refusals ----------------------------------------------------


@pytest.mark.parametrize(("move", "uci", "san"), [("a8=Q", "a7a8q", "a8=Q"), ("a7a8n", "a7a8n", "a8=N")])
def test_promotion_in_san_and_uci(move: str, uci: str, san: str) -> None:
    state = played(move, fen="8/P6k/8/8/8/8/8/K7 w - - 0 1")
    assert state["moves"] == [uci] and state["san"] == [san]
    assert state["fen"].startswith(("Q7/", "N7/"))


@pytest.mark.parametrize(
    ("move", "hint"),
    [("a8", "(a8=Q, a8=R, a8=B or a8=N)"), ("a7a8", "(a7a8q, a7a8r, a7a8b or a7a8n)")],
)
def test_a_promotion_must_say_what_the_pawn_becomes(move: str, hint: str) -> None:
    state = played(fen="8/P6k/8/8/8/8/8/K7 w - - 0 1")
    assert Chess().validate(state, 0, move) == (
        f"{move} is not a legal move in this position: say what the pawn becomes {hint}"
    )


def test_castling_both_ways_in_san_and_uci() -> None:
    fen = "r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"
    state = played("O-O", "0-0-0", fen=fen)
    assert state["moves"] == ["e1g1", "e8c8"] and state["san"] == ["O-O", "O-O-O"]
    assert state["fen"].split()[0] == "2kr3r/8/8/8/8/8/8/R4RK1"
    assert state["last"] == {"from": "e8", "to": "c8"}
    assert played("e1c1", fen=fen)["san"] == ["O-O-O"]
    assert played("e1h1", fen=fen)["moves"] == ["e1g1"]  # king takes rook, as some GUIs send it


def test_no_castling_through_an_attacked_square() -> None:
    state = played(fen="3k1r2/8/8/8/8/8/8/R3K2R w KQ - 0 1")
    game = Chess()
    assert game.validate(state, 0, "O-O") == "O-O is not a legal move in this position"
    assert game.validate(state, 0, "e1g1") == "e1g1 is not a legal move in this position"
    assert game.validate(state, 0, "O-O-O") is None


def test_en_passant_in_san_and_uci() -> None:
    for capture in ("exd6", "e5d6"):
        state = played("e4", "a6", "e5", "d5", capture)
        assert state["moves"][-1] == "e5d6" and state["san"][-1] == "exd6"
        assert chess.Board(state["fen"]).piece_at(chess.D5) is None


def test_en_passant_only_straight_away() -> None:
    state = played("e4", "a6", "e5", "d5", "h3", "h6")
    assert Chess().validate(state, 0, "exd6") == "exd6 is not a legal move in this position"


@pytest.mark.parametrize(
    "move",
    [42, 4.5, True, None, ["e4"], {"move": "e4"}, "", "   ", "e 4", "e4;", "héllo", "x" * 10_000, "Nf3" * 20],
)
def test_a_move_of_the_wrong_shape_is_refused(move: Any) -> None:
    assert Chess().validate(Chess().setup({}), 0, move) == SHAPE


@pytest.mark.parametrize("move", ["Nf9", "e5", "Ke2", "e2e5", "O-O", "0000", "--", "e2e4q", "Z0", "hello"])
def test_an_illegal_move_is_refused_by_name(move: str) -> None:
    assert Chess().validate(Chess().setup({}), 0, move) == f"{move} is not a legal move in this position"


@pytest.mark.parametrize("move", ["e4", "e2e4", " e4 ", "Nf3", "Nf3!?", "g1f3", "Ng1f3", "Ng1-f3", "Nc3"])
def test_legal_moves_in_many_spellings_are_accepted(move: str) -> None:
    assert Chess().validate(Chess().setup({}), 0, move) is None


def test_an_ambiguous_move_names_the_choices() -> None:
    state = played(fen="4k3/8/8/8/8/8/8/1N2KN2 w - - 0 1")
    assert Chess().validate(state, 0, "Nd2") == "Nd2 is ambiguous in this position: Nbd2 or Nfd2"
    assert played("Nfd2", fen="4k3/8/8/8/8/8/8/1N2KN2 w - - 0 1")["moves"] == ["f1d2"]


def test_only_the_side_to_move_may_move() -> None:
    game = Chess()
    assert game.validate(game.setup({}), 1, "e5") == "it is white's turn"
    assert game.validate(played("e4"), 0, "d4") == "it is black's turn"
    assert game.validate(played("e4"), 1, "e5") is None


def test_apply_stores_uci_whatever_was_sent() -> None:
    assert played("Nf3", "d7d5", "g2g3", "Nc6")["moves"] == ["g1f3", "d7d5", "g2g3", "b8c6"]


# --- through the match engine: clocks, resigning, draws, random play -----------------------------


def test_a_clock_that_runs_out_loses() -> None:
    game = Chess()
    playout = play(game, [(0, "e4"), Tick(300.5)], clock="5m+3")  # e4 at 1 s: black's clock runs
    assert playout.outcome is None
    assert clock_view(playout.match, 300.5) == {
        "control": "300+3",
        "remaining": [302.0, 0.5],
        "running": [1],
    }
    playout = play(game, [(0, "e4"), Tick(301.0)], clock="5m+3")
    assert playout.outcome is not None
    assert (playout.outcome.winner, playout.outcome.reason) == (0, "time")


def test_resigning() -> None:
    playout = play(Chess(), [(0, "e4"), (1, "e5"), Resign(1, 3.0)])
    assert playout.outcome is not None and (playout.outcome.winner, playout.outcome.reason) == (0, "resign")


def test_a_draw_offer_accepted() -> None:
    playout = play(Chess(), [(0, "d4"), OfferDraw(1, 2.0), OfferDraw(0, 3.0)])
    assert playout.outcome is not None
    assert playout.outcome.is_draw and playout.outcome.reason == "agreed"


def test_random_play_never_fails_and_replays_exactly() -> None:
    game = Chess()
    playouts = check_legal_play_never_raises(game, range(4), max_actions=250)
    for playout in playouts:
        check_replay_equals_live(game, playout)
    assert any(p.outcome is not None for p in check_legal_play_never_raises(game, [11], max_actions=2000))


# --- PGN -----------------------------------------------------------------------------------------


def read_pgn(text: str) -> chess.pgn.Game:
    game = chess.pgn.read_game(io.StringIO(text))
    assert game is not None and not game.errors
    return game


def test_pgn_of_a_finished_game() -> None:
    state = played("f3", "e5", "g4", "Qh4#")
    text = to_pgn(state, "ann", "bob", Event="club night")
    assert "1. f3 e5 2. g4 Qh4# 0-1" in text
    game = read_pgn(text)
    assert [m.uci() for m in game.mainline_moves()] == state["moves"]
    headers = game.headers
    assert (headers["White"], headers["Black"], headers["Result"]) == ("ann", "bob", "0-1")
    assert (headers["Event"], headers["Termination"]) == ("club night", "normal")


def test_pgn_round_trip_of_a_long_game() -> None:
    (playout,) = check_legal_play_never_raises(Chess(), [3], max_actions=120)
    state = playout.match.state
    game = read_pgn(to_pgn(state))
    assert [m.uci() for m in game.mainline_moves()] == state["moves"]
    assert game.end().board().fen() == state["fen"]
    assert playout.outcome is None and game.headers["Result"] == "*"


def test_pgn_from_a_fen_start_and_a_result_from_the_match() -> None:
    fen = "4k3/8/8/8/8/8/4P3/4K3 w - - 0 1"
    state = played("e4", "Kd7", fen=fen)
    game = read_pgn(to_pgn(state, result=Outcome.win(1, "time")))
    assert game.headers["FEN"] == fen and game.headers["SetUp"] == "1"
    assert (game.headers["Result"], game.headers["Termination"]) == ("0-1", "time forfeit")
    assert game.end().board().fen() == state["fen"]
    assert read_pgn(to_pgn(state, result=Outcome.draw("agreed"))).headers["Result"] == "1/2-1/2"


# --- terminal ------------------------------------------------------------------------------------


def test_render_from_whites_side() -> None:
    text = Chess().render(played("e4"), 0)
    lines = text.splitlines()
    assert lines[0] == "    a b c d e f g h"
    assert lines[2] == "8 | r n b q k b n r | 8"
    assert lines[6] == "4 | . . . . P . . . | 4"
    assert lines[9] == "1 | R N B Q K B N R | 1"
    assert "last move: 1. e4 (e2e4)" in lines
    assert "black to move" in lines
    assert "moves: 1. e4" in lines


def test_render_from_blacks_side_is_upside_down() -> None:
    lines = Chess().render(played("e4", "f6", "Qh5+"), 1).splitlines()
    assert lines[0] == "    h g f e d c b a"
    assert lines[2] == "1 | R N B K . B N R | 1"
    assert lines[9] == "8 | r n b k q b n r | 8"
    assert "last move: 2. Qh5+ (d1h5)" in lines
    assert "black (you) to move, in check (king on e8)" in lines


def test_render_of_a_finished_game_and_a_long_move_list() -> None:
    text = Chess().render(played("f3", "e5", "g4", "Qh4#"), None)
    assert "game over: checkmate, black wins" in text
    knights = ["Nf3", "Nf6", "Nc3", "Nc6", "Nb1", "Nb8", "Ng1", "Ng8"]
    long = played(*knights, "e4", "e5", "d4", "d5", "c4")
    tail = "moves: ... 1... Nf6 2. Nc3 Nc6 3. Nb1 Nb8 4. Ng1 Ng8 5. e4 e5 6. d4 d5 7. c4"
    assert tail in Chess().render(long, 0).splitlines()


@pytest.mark.parametrize(
    ("typed", "move"),
    [
        ("Nf3", "Nf3"),
        ("nf3", "Nf3"),
        ("  e2e4  ", "e2e4"),
        ("e2-e4", "e2e4"),
        ("E7E8Q", "e7e8q"),
        ("e7e8=q", "e7e8q"),
        ("e8q", "e8=Q"),
        ("exd5", "exd5"),
        ("bxc3", "bxc3"),
        ("Bxc3", "Bxc3"),
        ("NBD7", "Nbd7"),
        ("Qh4#", "Qh4"),
        ("0-0", "O-O"),
        ("o-o", "O-O"),
        ("0-0-0", "O-O-O"),
        ("O-O-O+", "O-O-O"),
    ],
)
def test_parse_move_reads_loose_typing(typed: str, move: str) -> None:
    assert Chess().parse_move(typed) == move


@pytest.mark.parametrize("typed", ["", "   ", "hello world", "zz", "e9", "resign please"])
def test_parse_move_refuses_what_is_not_a_move_with_a_hint(typed: str) -> None:
    with pytest.raises(
        ValueError, match=r"type a move in SAN \(Nf3, exd5, O-O, e8=Q\) or UCI \(g1f3, e7e8q\)"
    ):
        Chess().parse_move(typed)


def test_a_parsed_move_is_accepted_by_validate() -> None:
    game = Chess()
    state = played("e4", "e5", "Nf3", "Nc6", "Bc4", "Nf6")
    assert game.validate(state, 0, game.parse_move("o-o")) is None
    assert game.validate(state, 0, game.parse_move("ng5")) is None


# --- the simple bot ------------------------------------------------------------------------------


def bot_moves(fen: str, bot: Bot = simple_bot, seeds: int = 8) -> set[str]:
    """Every move ``bot`` picks in the position ``fen`` over a few seeds."""
    state = played(fen=fen)
    seat = seat_to_move(state)
    return {bot(Chess(), Chess().view(state, seat), seat, random.Random(seed)) for seed in range(seeds)}


def test_the_simple_bot_takes_a_free_queen() -> None:
    assert bot_moves("4k3/8/8/3q4/8/8/3R4/4K3 w - - 0 1") == {"d2d5"}


def test_the_simple_bot_wins_the_exchange_and_keeps_its_queen() -> None:
    assert bot_moves("4k3/8/2p5/3r4/8/4N3/8/4K3 w - - 0 1") == {"e3d5"}  # knight for rook
    assert "d2d5" not in bot_moves("4k3/8/2p5/3p4/8/8/3Q4/4K3 w - - 0 1")  # Qxd5 cxd5


def test_the_simple_bot_mates_in_one() -> None:
    assert bot_moves("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1") == {"a1a8"}
    assert bot_moves(played("f3", "e5", "g4")["fen"]) == {"d8h4"}


def mates(board: chess.Board) -> list[str]:
    """The replies that mate the side that just moved."""
    found = []
    for reply in list(board.legal_moves):
        board.push(reply)
        if board.is_checkmate():
            found.append(reply.uci())
        board.pop()
    return found


def test_the_simple_bot_does_not_allow_a_mate_in_one() -> None:
    fen = "4r1k1/3n1ppp/8/8/8/8/5PPP/3R2K1 w - - 0 1"  # the knight is bait: Rxd7?? Re1#
    bait = chess.Board(fen)
    bait.push_uci("d1d7")
    assert mates(bait) == ["e8e1"]
    for move in bot_moves(fen):
        board = chess.Board(fen)
        board.push_uci(move)
        assert mates(board) == [], move


def test_the_simple_bot_promotes() -> None:
    assert bot_moves("8/P6k/8/8/8/8/8/K7 w - - 0 1") == {"a7a8q"}


def test_the_simple_bot_plays_from_a_view_and_varies_with_the_seed() -> None:
    state = Chess().setup({})
    moves = {simple_bot(Chess(), Chess().view(state, 0), 0, random.Random(seed)) for seed in range(30)}
    assert moves <= set(state["legal"]) and len(moves) >= 2


def duel(white: Bot, black: Bot, seed: int, max_plies: int = 400) -> Outcome | None:
    """One game between two bots through the rules; None if it was still going after ``max_plies``."""
    game = Chess()
    state = game.setup({})
    rng = random.Random(seed)
    bots = (white, black)
    while (outcome := game.outcome(state)) is None and len(state["moves"]) < max_plies:
        seat = seat_to_move(state)
        move = bots[seat](game, game.view(state, seat), seat, rng)
        assert game.validate(state, seat, move) is None
        state = game.apply(state, seat, move)
    return outcome


def test_the_simple_bot_beats_the_random_bot() -> None:
    wins = 0
    for seed in range(20):
        simple = seed % 2
        white, black = (simple_bot, random_bot) if simple == 0 else (random_bot, simple_bot)
        outcome = duel(white, black, seed)
        wins += outcome is not None and outcome.winner == simple
    assert wins >= 19


# --- the engine bot ------------------------------------------------------------------------------


def test_engine_bot_levels() -> None:
    bot = EngineBot(level=5, think_time=0.05)
    stronger = bot.with_level(12)
    assert (stronger.level, stronger.think_time, stronger.path) == (12, 0.05, None)
    assert bot.with_level(12) is stronger and bot.with_level(5) is bot
    for level in (-1, 21, 2.5, "5", True):
        with pytest.raises(ValueError, match="level must be a whole number from 0 to 20"):
            EngineBot(level=level)  # type: ignore[arg-type]
    for think_time in (0, -1.0, 61, "fast"):
        with pytest.raises(ValueError, match="think_time must be more than 0"):
            EngineBot(think_time=think_time)  # type: ignore[arg-type]


def test_a_missing_engine_falls_back_to_the_simple_bot(caplog: pytest.LogCaptureFixture) -> None:
    game = Chess()
    state = played("e4", "e5")
    bot = EngineBot(path="/nonexistent/stockfish")
    with caplog.at_level(logging.WARNING, logger="netplay.games.chess"):
        first = bot(game, game.view(state, 0), 0, random.Random(7))
        second = bot(game, game.view(state, 0), 0, random.Random(7))
    assert first == second == simple_bot(game, state, 0, random.Random(7))
    warnings = [r for r in caplog.records if r.name == "netplay.games.chess"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING  # said once, not every move
    assert "chess engine unavailable" in warnings[0].getMessage()
    assert "/nonexistent/stockfish" in warnings[0].getMessage()
    bot.close()


def test_an_engine_that_dies_at_once_falls_back_every_time(caplog: pytest.LogCaptureFixture) -> None:
    false = shutil.which("false")
    if false is None:
        pytest.skip("no false command to stand in for a crashing engine")
    game = Chess()
    state = game.setup({})
    bot = EngineBot(path=false)
    with caplog.at_level(logging.WARNING, logger="netplay.games.chess"):
        moves = [bot(game, state, 0, random.Random(1)) for _ in range(2)]
    assert moves == [simple_bot(game, state, 0, random.Random(1))] * 2
    messages = [r.getMessage() for r in caplog.records if r.name == "netplay.games.chess"]
    assert len(messages) == 2 and all("chess engine failed" in m for m in messages)
    assert all("\n" not in m for m in messages)


@needs_stockfish
def test_the_engine_bot_beats_the_simple_bot() -> None:
    engine = EngineBot(level=20, think_time=0.02)
    try:
        for seed in range(10):
            colour = seed % 2
            white, black = (engine, simple_bot) if colour == 0 else (simple_bot, engine)
            outcome = duel(white, black, seed, max_plies=300)
            assert outcome is not None and outcome.winner == colour, (seed, outcome)
    finally:
        engine.close()


@needs_stockfish
def test_the_engine_bot_restarts_after_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    game = Chess()
    state = played("e4")
    bot = EngineBot(level=1, think_time=0.01)
    try:
        assert bot(game, state, 1, random.Random(0)) in state["legal"]
        engine = bot._engine
        assert engine is not None
        os.kill(engine.transport.get_pid(), signal.SIGKILL)  # the engine this test started
        with caplog.at_level(logging.WARNING, logger="netplay.games.chess"):
            fallback = bot(game, state, 1, random.Random(0))
        assert fallback == simple_bot(game, state, 1, random.Random(0))
        assert any("chess engine failed" in r.getMessage() for r in caplog.records)
        assert bot(game, state, 1, random.Random(0)) in state["legal"]
        assert bot._engine is not None and bot._engine is not engine
    finally:
        bot.close()
    assert bot._engine is None


@needs_stockfish
def test_the_registered_stockfish_bot_plays() -> None:
    game = Chess()
    state = played("d4", "d5")
    bot = game.bots["stockfish"]
    try:
        assert bot(game, game.view(state, 0), 0, random.Random(0)) in state["legal"]
    finally:
        assert isinstance(bot, EngineBot)
        bot.close()


def test_notation_is_the_position_in_fen_and_the_game_in_pgn() -> None:
    game = Chess()
    state = game.setup({})
    for seat, move in enumerate(["f3", "e5", "g4", "Qh4#"]):
        state = game.apply(state, seat % 2, move)
    text = game.notation(state, ["Ann", "Bob"], game.outcome(state))
    assert text is not None
    fen, _, pgn = text.partition("\n\n")
    assert fen == f"FEN: {state['fen']}"
    read = chess.pgn.read_game(io.StringIO(pgn))
    assert read is not None and read.headers["White"] == "Ann" and read.headers["Result"] == "0-1"
    assert [m.uci() for m in read.mainline_moves()] == state["moves"]
