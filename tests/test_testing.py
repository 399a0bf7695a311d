"""netplay.testing, the game author's harness: scripts, random playouts, and the invariant checks.

The built-in games must pass every check; games broken on purpose must fail each one with a message
that says what is wrong. Everything runs on the engine directly: no server, no loop, no clock.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from typing import Any

import pytest
from hypothesis import given, settings

from netplay.games import ConnectFour, Game, Outcome, Pig, RockPaperScissors, State, TicTacToe
from netplay.games.engine import DeclineDraw, Move, OfferDraw, Rematch, Resign, Tick, Timeout
from netplay.testing import (
    Playout,
    check_legal_play_never_raises,
    check_no_leaks,
    check_replay_equals_live,
    play,
    playouts,
    random_playout,
)

GAMES = [TicTacToe(), ConnectFour(), RockPaperScissors(), Pig()]


# -- play: a script ---------------------------------------------------------------------------


def test_play_runs_a_script_through_the_engine() -> None:
    playout = play(TicTacToe(), [(0, 4), (1, 0), (0, 3), (1, 6), (0, 5)])
    assert playout.outcome == Outcome(0, "rules", ((0,), (1,)))
    assert [m.version for m in playout.matches] == [1, 2, 3, 4, 5, 6]
    assert playout.recorded == tuple(
        Move(seat, cell, float(n + 1))
        for n, (seat, cell) in enumerate([(0, 4), (1, 0), (0, 3), (1, 6), (0, 5)])
    )
    assert playout.match.state["board"][3:6] == ["X", "X", "X"]
    assert playout.refusals == ()


def test_play_refuses_loudly_unless_told_not_to() -> None:
    with pytest.raises(AssertionError, match=r"script item 1 .* refused: not_your_turn: it is O's turn"):
        play(TicTacToe(), [(0, 4), (0, 5)])
    kept = play(TicTacToe(), [(0, 4), (0, 5), (1, 4), (1, 5)], strict=False)
    assert [(n, r.code) for n, r in kept.refusals] == [(1, "not_your_turn"), (2, "invalid_move")]
    assert kept.match.version == 3 and kept.match.last == (1, 5)


def test_play_takes_engine_actions_options_and_a_clock() -> None:
    timed = play(TicTacToe(), [(0, 4), Tick(100.0)], clock="30+0")
    assert timed.recorded[-1] == Timeout(1, 31.0)  # seat 1's turn began at 1 s
    assert timed.outcome is not None and timed.outcome.reason == "time"

    pig = play(Pig(), [(0, "roll"), Resign(1, 5.0)], options={"players": 3}, seed=4)
    assert pig.match.seats == 3
    assert pig.outcome is not None and pig.outcome.ranking == ((0, 2), (1,))


# -- random playouts ------------------------------------------------------------------------------


def test_a_random_playout_is_a_function_of_its_seed() -> None:
    first, again, other = (random_playout(Pig(), seed) for seed in (11, 11, 12))
    assert first.recorded == again.recorded and first.match.state == again.match.state
    assert first.recorded != other.recorded
    assert first.outcome is not None
    assert isinstance(first, Playout) and len(first.matches) == len(first.steps) + 1


def test_a_random_playout_stops_after_max_actions() -> None:
    short = random_playout(Pig(), 3, max_actions=5)
    assert len(short.fed) == 5 and short.outcome is None


def test_a_random_playout_plays_every_game_to_its_end_with_legal_moves() -> None:
    for game in GAMES:
        playout = random_playout(game, 1)
        assert playout.outcome is not None, game.name
        assert all(type(a) is Move and not a.auto for a in playout.recorded)


class ListsTooMuch(TicTacToe):
    """legal_moves forgets that taken cells are taken."""

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        return list(range(9))


class RaisesInLegalMoves(TicTacToe):
    def legal_moves(self, state: State, seat: int) -> list[Any]:
        if state["board"][4] is not None:
            raise KeyError("centre")
        return super().legal_moves(state, seat)


def test_random_playouts_report_rules_that_contradict_legal_moves() -> None:
    def playouts(game: Game) -> None:  # one of twenty seeds meets the fault, whichever it is
        for seed in range(20):
            random_playout(game, seed)

    with pytest.raises(
        AssertionError,
        match=r"move \d, from legal_moves, was refused: invalid_move: the [a-z ]+ cell is already taken",
    ):
        playouts(ListsTooMuch())
    with pytest.raises(AssertionError, match=r"legal_moves\(state, \d\) raised KeyError\('centre'\)"):
        playouts(RaisesInLegalMoves())


# -- legal play never raises ----------------------------------------------------------------------


@pytest.mark.parametrize("game", GAMES, ids=lambda g: g.name)
def test_the_builtin_games_never_fail_on_legal_play(game: Game) -> None:
    played = check_legal_play_never_raises(game, range(100))
    assert len(played) == 100 and all(p.outcome is not None for p in played)


def test_legal_play_on_four_pig_players() -> None:
    played = check_legal_play_never_raises(Pig(), range(30), options={"players": 4, "target": 30})
    for playout in played:
        assert playout.outcome is not None and playout.outcome.ranking is not None
        assert sorted(s for place in playout.outcome.ranking for s in place) == [0, 1, 2, 3]


class BadView(RockPaperScissors):
    """A view that breaks for seat 1 once a round has been played."""

    def view(self, state: State, seat: int | None) -> Any:
        if seat == 1 and state["history"]:
            return {"history": state["history"][0]["no such key"]}
        return super().view(state, seat)


class SetView(RockPaperScissors):
    """A view that cannot be sent: a set is not JSON."""

    def view(self, state: State, seat: int | None) -> Any:
        return {"chosen": {c is not None for c in state["pending"]}}


def test_legal_play_reports_a_view_that_raises_or_is_not_json() -> None:
    with pytest.raises(
        AssertionError, match=r"rps, seed 0, after action \d+: view\(state, 1\) raised KeyError"
    ):
        check_legal_play_never_raises(BadView(), range(5))
    with pytest.raises(AssertionError, match=r"view\(state, 0\) raised TypeError"):
        check_legal_play_never_raises(SetView(), range(1))


# -- replay equals live ---------------------------------------------------------------------------


@pytest.mark.parametrize("game", [Pig(), RockPaperScissors()], ids=lambda g: g.name)
def test_a_thousand_random_games_replay_to_the_same_match(game: Game) -> None:
    outcomes = set()
    for seed in range(1000):
        playout = random_playout(game, seed)
        replayed = check_replay_equals_live(game, playout)
        assert replayed.outcome == playout.outcome and replayed.state == playout.match.state
        outcomes.add(playout.outcome.winner if playout.outcome else None)
    assert outcomes >= {0, 1}  # both seats win some: the games really differ


@pytest.mark.parametrize("game", [TicTacToe(), ConnectFour()], ids=lambda g: g.name)
def test_board_games_replay_to_the_same_match(game: Game) -> None:
    for seed in range(200):
        check_replay_equals_live(game, random_playout(game, seed))


@settings(max_examples=40)
@given(playouts(Pig(), options={"players": 3, "target": 40}))
def test_hypothesis_playouts_of_pig_replay(playout: Playout) -> None:
    assert playout.outcome is not None
    check_replay_equals_live(Pig(), playout)


def test_replay_covers_timeouts_draw_offers_and_forgets_only_rematch_votes() -> None:
    script: list[Any] = [(0, 4), OfferDraw(1, 2.5), DeclineDraw(0, 3.0), (1, 0), Tick(10.0), Rematch(0, 11.0)]
    playout = play(TicTacToe(), script, clock="5+1")
    assert [type(a).__name__ for a in playout.recorded] == [
        "Move",
        "OfferDraw",
        "DeclineDraw",
        "Move",
        "Timeout",
    ]
    assert playout.recorded[-1] == Timeout(0, 9.0)  # seat 0's turn began at 4 s with 5 s left
    assert playout.match.rematch == {0}
    check_replay_equals_live(TicTacToe(), playout)


class Noisy(TicTacToe):
    """Stamps Python's global random into its state instead of using the engine's rng: not replayable."""

    def apply(self, state: State, seat: int, move: Any) -> State:
        return {**super().apply(state, seat, move), "noise": random.random()}


class TupleMoves(TicTacToe):
    """Moves are (row, column) tuples, which come back from the store as lists."""

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        if not isinstance(move, tuple) or len(move) != 2:
            return "a move is (row, column)"
        return super().validate(state, seat, 3 * move[0] + move[1])

    def apply(self, state: State, seat: int, move: Any) -> State:
        return super().apply(state, seat, 3 * move[0] + move[1])


def test_replay_reports_where_a_game_is_not_replayable() -> None:
    noisy = play(Noisy(), [(0, 4), (1, 0)])
    with pytest.raises(AssertionError) as caught:
        check_replay_equals_live(Noisy(), noisy)
    message = str(caught.value)
    assert message.startswith(
        "tictactoe: the replay differs from the live match (from recorded action 0, Move(seat=0, move=4"
    )
    assert "state['noise']: live 0." in message and ", replayed 0." in message

    tuples = play(TupleMoves(), [(0, (1, 1)), (1, (0, 0))])
    with pytest.raises(
        AssertionError, match=r"the record does not replay: recorded action 0 .* a move is \(row"
    ):
        check_replay_equals_live(TupleMoves(), tuples)


# -- hidden information -----------------------------------------------------------------------------


def test_rock_paper_scissors_keeps_each_choice_secret_until_the_round_is_over() -> None:
    compared = 0
    for seed in range(1000):
        compared += check_no_leaks(RockPaperScissors(), random_playout(RockPaperScissors(), seed))
    assert compared > 1000  # the first choice of every round was swapped for both others


@pytest.mark.parametrize("game", [TicTacToe(), ConnectFour(), Pig()], ids=lambda g: g.name)
def test_games_without_simultaneous_choices_have_nothing_to_compare(game: Game) -> None:
    assert check_no_leaks(game, random_playout(game, 0)) == 0


class TellsTheOpponent(RockPaperScissors):
    """Shows each seat the other's pending choice."""

    def view(self, state: State, seat: int | None) -> Any:
        view = super().view(state, seat)
        return view if seat is None else {**view, "theirs": state["pending"][1 - seat]}


class ShowsTheMove(RockPaperScissors):
    """Hides the state, but every viewer's ``last`` shows the move just made."""

    def view_move(self, seat: int, move: Any, viewer: int | None) -> dict[str, Any]:
        return {"seat": seat, "move": move}


class TellsSpectators(RockPaperScissors):
    """Spectators see the pending choices (and one of them may be the opponent's friend)."""

    def view(self, state: State, seat: int | None) -> Any:
        view = super().view(state, seat)
        return {**view, "pending": state["pending"]} if seat is None else view


@pytest.mark.parametrize(
    ("game", "message"),
    [
        (
            TellsTheOpponent(),
            "rps: seat 1 can tell seat 0's move 'rock' from 'paper' at version 2 while seat 1 has yet to "
            "act: ['view']['theirs'] is 'rock' after 'rock' but 'paper' after 'paper'",
        ),
        (
            ShowsTheMove(),
            "rps: seat 1 can tell seat 0's move 'rock' from 'paper' at version 2 while seat 1 has yet to "
            "act: ['last']['move'] is 'rock' after 'rock' but 'paper' after 'paper'",
        ),
        (
            TellsSpectators(),
            "rps: a spectator can tell seat 0's move 'rock' from 'paper' at version 2 while seat 1 has "
            "yet to act: ['view']['pending'][0] is 'rock' after 'rock' but 'paper' after 'paper'",
        ),
    ],
    ids=["to the opponent", "in the last move", "to spectators"],
)
def test_a_leaky_rock_paper_scissors_is_caught(game: Game, message: str) -> None:
    with pytest.raises(AssertionError) as caught:
        check_no_leaks(game, play(game, [(0, "rock"), (1, "paper")]))
    assert str(caught.value) == message
    with pytest.raises(AssertionError, match="can tell seat"):  # random play finds it too
        check_no_leaks(game, random_playout(game, 0))


class Sealed(Game):
    """Three seats each write down a number; the numbers are shown once all three have written."""

    name = "sealed"
    players = 3

    def setup(self, options: dict[str, Any]) -> State:
        return {"bids": [None, None, None]}

    def active(self, state: State) -> Collection[int] | None:
        return [s for s, bid in enumerate(state["bids"]) if bid is None]

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        return None if move in (1, 2, 3) else "bid 1, 2 or 3"

    def apply(self, state: State, seat: int, move: Any) -> State:
        bids = list(state["bids"])
        bids[seat] = move
        return {"bids": bids}

    def outcome(self, state: State) -> Outcome | None:
        bids = state["bids"]
        return None if None in bids else Outcome.by_score(bids)

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        return [1, 2, 3]

    def view(self, state: State, seat: int | None) -> Any:
        bids = state["bids"]
        if None not in bids:
            return {"bids": bids}
        return {"bids": [b if s == seat else b is not None for s, b in enumerate(bids)]}


class PeekAfterBidding(Sealed):
    """A seat that has bid may see the others' bids: it can tell the one still bidding."""

    def view(self, state: State, seat: int | None) -> Any:
        if seat is not None and state["bids"][seat] is not None:
            return {"bids": state["bids"]}
        return super().view(state, seat)


def test_a_seat_that_already_chose_must_not_see_the_choices_still_being_made() -> None:
    script = [(0, 2), (1, 3), (2, 1)]
    assert check_no_leaks(Sealed(), play(Sealed(), script)) == 2 + 2  # seats 0 and 1 chose with others due
    check_replay_equals_live(Sealed(), play(Sealed(), script))
    with pytest.raises(AssertionError, match=r"sealed: seat 0 can tell seat 1's move 3 from 1 at version 3"):
        check_no_leaks(PeekAfterBidding(), play(PeekAfterBidding(), script))
