"""Crazy Eights: the deal, matching and wild 8s, the drawing rule, the stock, the end and its ranking,
hidden hands, random play through the engine, bots, terminal."""

from __future__ import annotations

import copy
import functools
import json
import random
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplay.games import Bot, Outcome, State, random_bot
from netplay.games.crazy_eights import (
    CARDS,
    MAX_RESHUFFLES,
    CrazyEights,
    hand_size,
    penalty,
    sensible_bot,
)
from netplay.games.engine import Move, Tick
from netplay.games.rng import Rng
from netplay.testing import check_legal_play_never_raises, check_replay_equals_live, play

GAME = CrazyEights()
CARD_TOKEN = re.compile(r'"([A2-9TJQK][CDHS])"')
VIEW_KEYS = {
    "players",
    "seat",
    "turn",
    "hand",
    "drawn",
    "drew",
    "counts",
    "top",
    "suit",
    "stock",
    "pile",
    "reshuffles_left",
    "passes",
    "last",
    "hands",
    "scores",
}


def make(
    hands: list[list[str]],
    pile: Sequence[str],
    *,
    suit: str | None = None,
    stock: Sequence[str] | None = None,
    turn: int = 0,
    drawn: str | None = None,
    passes: int = 0,
    reshuffles: int = 0,
    last: dict[str, Any] | None = None,
) -> State:
    """A state from hands and a pile (top last); the stock is every other card, in deck order, by default."""
    stock = [c for c in CARDS if c not in {*pile, *(c for h in hands for c in h)}] if stock is None else stock
    return {
        "hands": [sorted(hand, key=CARDS.index) for hand in hands],
        "stock": list(stock),
        "pile": list(pile),
        "suit": suit or pile[-1][1],
        "turn": turn,
        "drawn": drawn,
        "passes": passes,
        "reshuffles": reshuffles,
        "last": last,
    }


def move(state: State, seat: int, m: Any, stream: int = 0) -> State:
    """Play a move that must be legal, checking the state given is left alone."""
    assert GAME.validate(state, seat, m) is None, GAME.validate(state, seat, m)
    before = copy.deepcopy(state)
    after = GAME.apply(state, seat, m, rng=Rng(99, stream))
    assert state == before
    return after


def playthrough(
    bots: Sequence[Bot], seed: int, players: int
) -> tuple[list[State], list[tuple[int, Any]], Outcome]:
    """A game between bots, each moving from its own view; the deal and shuffles from ``Rng(seed, i)``.

    Returns every state, the (seat, move) that made each state after the first, and the outcome.
    """
    state = GAME.setup({"players": players}, rng=Rng(seed, 0))
    states, moves = [state], []
    bot_rng = random.Random(seed)
    while (result := GAME.outcome(state)) is None:
        seat = state["turn"]
        m = bots[seat](GAME, GAME.view(state, seat), seat, bot_rng)
        assert GAME.validate(state, seat, m) is None, (m, GAME.validate(state, seat, m))
        state = GAME.apply(state, seat, m, rng=Rng(seed, len(states)))
        states.append(state)
        moves.append((seat, m))
        assert len(states) < 2000
    return states, moves, result


def every_card(state: State) -> list[str]:
    """Every card of the state, wherever it is, sorted."""
    return sorted([*(c for hand in state["hands"] for c in hand), *state["stock"], *state["pile"]])


@functools.cache
def random_games() -> dict[int, list[tuple[list[State], list[tuple[int, Any]], Outcome]]]:
    """A hundred games between random bots for each number of players, played once for several tests."""
    return {
        players: [playthrough([random_bot] * players, seed, players) for seed in range(100)]
        for players in range(2, 7)
    }


# --- options, metadata and the deal --------------------------------------------------------------


def test_metadata_and_bots() -> None:
    assert GAME.name == "crazy8" and " " not in GAME.name and GAME.description
    assert GAME.players == 2 and GAME.seat_count({}) == 2
    assert list(GAME.bots) == ["sensible", "random"]
    assert GAME.has_hidden_information
    assert GAME.round_robin
    assert GAME.wants_rng == (True, True)
    assert GAME.timeout_policy == "bot"
    assert [GAME.seat_label(s) for s in range(6)] == [f"player {n}" for n in range(1, 7)]


@pytest.mark.parametrize("players", [0, 1, 7, -2, "3", 3.0, True, None])
def test_bad_players_is_refused(players: Any) -> None:
    message = f"players must be a whole number from 2 to 6 (default 2), not {players!r}"
    with pytest.raises(ValueError, match=re.escape(message)):
        GAME.seat_count({"players": players})
    with pytest.raises(ValueError, match=re.escape(message)):
        GAME.setup({"players": players}, rng=Rng(0))


@pytest.mark.parametrize("players", [2, 3, 4, 5, 6])
def test_the_deal_is_a_real_deck_dealt_from_the_rngs_shuffle(players: int) -> None:
    size = 7 if players == 2 else 5
    assert hand_size(players) == size
    for seed in range(20):
        state = GAME.setup({"players": players}, rng=Rng(seed))
        assert state == GAME.setup({"players": players}, rng=Rng(seed))  # reproducible
        assert every_card(state) == sorted(CARDS) and len(set(CARDS)) == 52
        deck = Rng(seed).shuffled(CARDS)  # one card at a time to each seat in turn, then the stock
        dealt = deck[: size * players]
        for seat, hand in enumerate(state["hands"]):
            assert hand == sorted(dealt[seat::players], key=CARDS.index)
        assert len(state["stock"]) == 52 - size * players - 1
        assert state["pile"][0][0] != "8" and state["suit"] == state["pile"][0][1]
        assert (state["turn"], state["drawn"], state["passes"], state["reshuffles"], state["last"]) == (
            0,
            None,
            0,
            0,
            None,
        )
    assert GAME.setup({"players": players}, rng=Rng(1)) != GAME.setup({"players": players}, rng=Rng(2))


def test_the_starter_is_the_top_of_the_stock_and_an_8_goes_to_the_bottom() -> None:
    plain = eights = 0
    for seed in range(400):
        state = GAME.setup({}, rng=Rng(seed))
        rest = Rng(seed).shuffled(CARDS)[14:]
        leading = next(n for n, c in enumerate(rest) if c[0] != "8")
        assert state["pile"] == [rest[leading]]
        assert state["stock"] == [*rest[leading + 1 :], *rest[:leading]]
        plain += leading == 0
        eights += leading > 0
    assert plain and eights  # both cases were seen


def test_the_view_at_the_start() -> None:
    state = make([["2C", "9C", "KH"], ["3D", "4D"], ["5S"]], ["7H"], stock=["AS", "6D"])
    mine = GAME.view(state, 0)
    assert set(mine) == VIEW_KEYS
    assert mine == {
        "players": 3,
        "seat": 0,
        "turn": 0,
        "hand": ["2C", "9C", "KH"],
        "drawn": None,
        "drew": False,
        "counts": [3, 2, 1],
        "top": "7H",
        "suit": "H",
        "stock": 2,
        "pile": 1,
        "reshuffles_left": MAX_RESHUFFLES,
        "passes": 0,
        "last": None,
        "hands": None,
        "scores": None,
    }
    assert GAME.view(state, 2) == {**mine, "seat": 2, "hand": ["5S"]}
    assert GAME.view(state, None) == {**mine, "seat": None, "hand": None}


# --- playing cards -------------------------------------------------------------------------------


def test_a_card_must_match_the_suit_or_the_rank_or_be_an_8() -> None:
    state = make([["7C", "2H", "KS", "8D", "QD"], ["3C"]], ["4D", "7H"])
    assert GAME.legal_moves(state, 0) == [
        {"play": "7C"},
        {"play": "8D", "suit": "C"},
        {"play": "8D", "suit": "D"},
        {"play": "8D", "suit": "H"},
        {"play": "8D", "suit": "S"},
        {"play": "2H"},
    ]
    assert GAME.validate(state, 0, {"play": "7C"}) is None  # the rank
    assert GAME.validate(state, 0, {"play": "2H"}) is None  # the suit
    assert GAME.validate(state, 0, {"play": "KS"}) == "KS does not go on 7H: play a heart, a 7 or an 8"
    assert GAME.validate(state, 0, {"play": "QD"}) == "QD does not go on 7H: play a heart, a 7 or an 8"
    assert GAME.validate(state, 0, {"play": "9H"}) == "you do not hold 9H"
    after = move(state, 0, {"play": "7C"})
    assert after["hands"][0] == ["8D", "QD", "2H", "KS"]
    assert after["pile"] == ["4D", "7H", "7C"] and after["suit"] == "C" and after["turn"] == 1
    assert after["last"] == {"seat": 0, "action": "play", "card": "7C", "suit": "C"}
    assert GAME.view(after, 1)["last"] == after["last"] and GAME.view(after, None)["top"] == "7C"
    assert GAME.validate(make([["KS", "2C"], ["3C"]], ["TH"]), 0, {"play": "KS"}) == (
        "KS does not go on TH: play a heart, a 10 or an 8"
    )


def test_an_8_names_the_suit_the_next_player_must_follow() -> None:
    state = make([["8D", "2H"], ["5D", "3S", "8H", "4C"], ["KD"]], ["7H"])
    after = move(state, 0, {"play": "8D", "suit": "S"})
    assert after["suit"] == "S" and after["pile"][-1] == "8D" and after["turn"] == 1
    assert after["last"] == {"seat": 0, "action": "play", "card": "8D", "suit": "S"}
    view = GAME.view(after, 1)
    assert (view["top"], view["suit"]) == ("8D", "S")
    # Spades now: not diamonds, though the 8 on top is a diamond; another 8 always goes.
    assert GAME.validate(after, 1, {"play": "5D"}) == "5D does not go on 8D: play a spade or an 8"
    assert GAME.validate(after, 1, {"play": "4C"}) == "4C does not go on 8D: play a spade or an 8"
    assert GAME.legal_moves(after, 1) == [{"play": "8H", "suit": s} for s in "CDHS"] + [{"play": "3S"}]
    assert GAME.legal_moves(GAME.view(after, 1), 1) == GAME.legal_moves(after, 1)
    again = move(after, 1, {"play": "8H", "suit": "D"})
    assert again["suit"] == "D" and GAME.validate(again, 2, {"play": "KD"}) is None


# --- malformed moves and turns -------------------------------------------------------------------

HINT = (
    'a move is {"play": CARD} such as {"play": "7H"}, {"play": "8S", "suit": "H"} for an 8, "draw" or "pass"'
)
CARD_HINT = "a card is a rank of A23456789TJQK and a suit of CDHS, such as 7H or TD"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (None, HINT),
        (True, HINT),
        (False, HINT),
        (0, HINT),
        (7, HINT),
        (1.5, HINT),
        ("", HINT),
        ("7C", HINT),
        ("Draw", HINT),
        ("d", HINT),
        ([], HINT),
        (["draw"], HINT),
        ([{"play": "7C"}], HINT),
        ({}, HINT),
        ({"move": "draw"}, f"unexpected key 'move' in the move: {HINT}"),
        ({"play": "7C", "extra": 1}, f"unexpected key 'extra' in the move: {HINT}"),
        ({"suit": "H"}, f'"suit" goes with an 8 to play: {HINT}'),
        ({"play": None}, f"None is not a card: {CARD_HINT}"),
        ({"play": 7}, f"7 is not a card: {CARD_HINT}"),
        ({"play": ["7C"]}, f"['7C'] is not a card: {CARD_HINT}"),
        ({"play": "7c"}, f"'7c' is not a card: {CARD_HINT}"),
        ({"play": "10C"}, f"'10C' is not a card: {CARD_HINT}"),
        ({"play": "1C"}, f"'1C' is not a card: {CARD_HINT}"),
        ({"play": "7X"}, f"'7X' is not a card: {CARD_HINT}"),
        ({"play": "7C", "suit": "H"}, "only an 8 names a suit, not 7C"),
        ({"play": "8S"}, 'an 8 names the suit to follow: add "suit": "C", "D", "H" or "S" to the move'),
        ({"play": "8S", "suit": "h"}, """'h' is not a suit: the suit is "C", "D", "H" or "S\""""),
        ({"play": "8S", "suit": "hearts"}, """'hearts' is not a suit: the suit is "C", "D", "H" or "S\""""),
        ({"play": "8S", "suit": None}, """None is not a suit: the suit is "C", "D", "H" or "S\""""),
        ({"play": "8S", "suit": 2}, """2 is not a suit: the suit is "C", "D", "H" or "S\""""),
        ({"draw": False}, 'to draw, send "draw" or {"draw": true}'),
        ({"draw": 1}, 'to draw, send "draw" or {"draw": true}'),
        ({"draw": "yes"}, 'to draw, send "draw" or {"draw": true}'),
        ({"pass": None}, 'to pass, send "pass" or {"pass": true}'),
        ({"draw": True, "play": "7C"}, f'{{"draw": true}} takes nothing else: {HINT}'),
        ({"pass": True, "draw": True}, f'{{"draw": true}} takes nothing else: {HINT}'),
    ],
)
def test_malformed_moves_are_refused_with_a_reason(bad: Any, reason: str) -> None:
    state = make([["7C", "8S", "2H"], ["3C"]], ["7H"])
    assert GAME.validate(state, 0, bad) == reason
    assert GAME.validate(state, 1, bad) == reason  # the shape first, whoever sends it


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, with the words of this game's moves mixed in."""
    words = st.sampled_from(["play", "suit", "draw", "pass", *CARDS[::5], "8S", "8H", "C", "D", "H", "S"])
    scalars = (
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4) | words
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(words | st.text(max_size=3), inner, max_size=3)
        ),
    )


#: The other spelling of two moves (json: {"draw": 1} == {"draw": True} in Python, not on the wire).
LONG_FORMS = {'{"draw": true}': "draw", '{"pass": true}': "pass"}


@settings(max_examples=300)
@given(candidate=json_values())
def test_any_json_is_refused_with_a_reason_or_is_a_listed_move(candidate: Any) -> None:
    for state in (
        make([["7C", "8S", "2H"], ["3C"]], ["7H"]),
        make([["KC", "3D"], ["3C"]], ["7H"]),
        make([["KC", "3D", "7S"], ["3C"]], ["7H"], drawn="7S"),
        make([["KC"], ["3C"]], ["7H"], stock=[]),
    ):
        reason = GAME.validate(state, 0, candidate)
        assert reason is None or (isinstance(reason, str) and reason)
        wire = LONG_FORMS.get(json.dumps(candidate), candidate)
        assert (reason is None) == (wire in GAME.legal_moves(state, 0))


def test_only_the_seat_whose_turn_it_is_may_move() -> None:
    state = make([["7C"], ["7D"], ["7S"]], ["7H"], turn=1)
    assert GAME.validate(state, 1, {"play": "7D"}) is None
    assert GAME.validate(state, 0, {"play": "7C"}) == "it is player 2's turn"
    assert GAME.validate(state, 2, "draw") == "it is player 2's turn"
    assert GAME.legal_moves(state, 0) == [] and GAME.legal_moves(state, 2) == []
    assert GAME.legal_moves(GAME.view(state, 0), 0) == []
    assert GAME.legal_moves(GAME.view(state, 0), 1) == []  # seat 0's view cannot move for seat 1
    assert GAME.legal_moves(GAME.view(state, None), 1) == []
    assert move(state, 1, {"play": "7D"})["turn"] == 2
    assert move(make([["7C"], ["7D"], ["7S", "2C"]], ["7H"], turn=2), 2, {"play": "7S"})["turn"] == 0


# --- drawing and passing -------------------------------------------------------------------------


def test_you_may_not_draw_or_pass_while_you_can_play() -> None:
    state = make([["KC", "2H"], ["3C"]], ["7H"])
    assert GAME.validate(state, 0, "draw") == "you may draw only when you cannot play, and you can play 2H"
    assert GAME.validate(state, 0, {"draw": True}) == GAME.validate(state, 0, "draw")
    assert GAME.validate(state, 0, "pass") == "you may not pass: you can play 2H"
    assert GAME.validate(make([["8C"], ["3C"]], ["7H"]), 0, "draw") == (
        "you may draw only when you cannot play, and you can play 8C"
    )
    stuck = make([["KC", "2D"], ["3C"]], ["7H"])
    assert GAME.legal_moves(stuck, 0) == ["draw"]
    assert GAME.validate(stuck, 0, "pass") == "you may not pass: draw a card first"
    assert GAME.validate(stuck, 0, {"draw": True}) is None


def test_drawing_an_unplayable_card_ends_the_turn() -> None:
    state = make([["KC", "2D"], ["3C"]], ["7H"], stock=["5S", "9H", "AH"])
    after = move(state, 0, "draw")
    assert after["hands"][0] == ["KC", "2D", "5S"] and after["stock"] == ["9H", "AH"]
    assert after["turn"] == 1 and after["drawn"] is None and after["passes"] == 0
    assert after["last"] == {"seat": 0, "action": "draw", "card": "5S", "reshuffled": False}
    assert GAME.view(after, 0)["last"] == after["last"]  # the drawer sees what it drew
    for viewer in (1, None):  # the others see that it drew, not what
        assert GAME.view(after, viewer)["last"] == {"seat": 0, "action": "draw", "reshuffled": False}
        assert GAME.view(after, viewer)["counts"] == [3, 1]


def test_drawing_a_playable_card_lets_you_play_it_or_pass() -> None:
    state = make([["KC", "2D", "3S"], ["3C"]], ["7H"], stock=["9H", "AH"])
    after = move(state, 0, {"draw": True})
    assert after["turn"] == 0 and after["drawn"] == "9H" and after["stock"] == ["AH"]
    assert GAME.legal_moves(after, 0) == [{"play": "9H"}, "pass"]
    assert GAME.legal_moves(GAME.view(after, 0), 0) == [{"play": "9H"}, "pass"]
    assert GAME.validate(after, 0, "draw") == "you have drawn already: play 9H or pass"
    assert GAME.validate(after, 0, {"play": "KC"}) == "you drew 9H: play it or pass"
    mine, theirs = GAME.view(after, 0), GAME.view(after, 1)
    assert (mine["drawn"], mine["drew"]) == ("9H", True)
    assert (theirs["drawn"], theirs["drew"], theirs["turn"]) == (None, True, 0)
    played = move(after, 0, {"play": "9H"})
    assert played["turn"] == 1 and played["drawn"] is None and played["hands"][0] == ["KC", "2D", "3S"]
    passed = move(after, 0, "pass")
    assert passed["turn"] == 1 and passed["drawn"] is None and passed["passes"] == 0
    assert passed["hands"][0] == ["KC", "2D", "9H", "3S"]
    assert passed["last"] == {"seat": 0, "action": "pass"}


def test_a_drawn_8_may_be_played_with_any_suit() -> None:
    after = move(make([["KC"], ["3C"]], ["7H"], stock=["8C", "AH"]), 0, "draw")
    assert GAME.legal_moves(after, 0) == [*({"play": "8C", "suit": s} for s in "CDHS"), "pass"]


def test_an_empty_stock_is_refilled_from_the_pile_by_the_rng() -> None:
    pile = ["2S", "3S", "4S", "5S", "6S", "7H"]
    state = make([["KC"], ["3C"]], pile, stock=[], reshuffles=1)
    orders = set()
    for stream in range(30):
        after = GAME.apply(state, 0, "draw", rng=Rng(5, stream))
        fresh = Rng(5, stream).shuffled(pile[:-1])
        assert after["hands"][0] == sorted(["KC", fresh[0]], key=CARDS.index)
        assert after["stock"] == fresh[1:] and after["pile"] == ["7H"] and after["reshuffles"] == 2
        assert after["last"] == {"seat": 0, "action": "draw", "card": fresh[0], "reshuffled": True}
        assert GAME.view(after, 1)["last"] == {"seat": 0, "action": "draw", "reshuffled": True}
        assert GAME.view(after, 1)["reshuffles_left"] == MAX_RESHUFFLES - 2
        assert every_card(after) == every_card(state)
        orders.add(tuple(fresh))
    assert len(orders) > 20


def test_with_nothing_to_draw_a_player_who_cannot_play_passes() -> None:
    for state in (
        make([["KC"], ["3C"]], ["7H"], stock=[]),  # nothing under the top card
        make([["KC"], ["3C"]], ["2S", "3S", "7H"], stock=[], reshuffles=MAX_RESHUFFLES),  # refilled enough
    ):
        assert GAME.legal_moves(state, 0) == ["pass"]
        assert GAME.legal_moves(GAME.view(state, 0), 0) == ["pass"]
        assert GAME.validate(state, 0, "draw") == "the stock is empty and cannot be refilled: pass"
        after = move(state, 0, "pass")
        assert after["turn"] == 1 and after["passes"] == 1 and GAME.outcome(after) is None
    can_play = make([["KH"], ["3C"]], ["7H"], stock=[])
    assert GAME.validate(can_play, 0, "pass") == "you may not pass: you can play KH"


def test_when_nobody_can_play_or_draw_the_game_ends_by_points() -> None:
    state = make([["KC", "2C"], ["3C", "AC"], ["KS"]], ["9D"], stock=[], suit="H")
    state = move(state, 0, "pass")
    state = move(state, 1, "pass")
    assert GAME.outcome(state) is None and state["passes"] == 2
    state = move(state, 2, "pass")
    assert state["passes"] == 3
    result = GAME.outcome(state)
    assert result == Outcome.ranked([[1], [2], [0]], "blocked", scores=[12, 4, 10])
    assert result is not None and result.winner == 1 and result.places() == [3, 1, 2]
    assert GAME.legal_moves(state, 0) == [] and GAME.validate(state, 0, "pass") == "the game is over"
    view = GAME.view(state, None)
    assert view["hands"] == [["2C", "KC"], ["AC", "3C"], ["KS"]] and view["scores"] == [12, 4, 10]


def test_a_blocked_game_with_equal_points_shares_places() -> None:
    state = make([["KC"], ["QC"]], ["9D"], stock=[], passes=1, turn=1)
    result = GAME.outcome(move(state, 1, "pass"))
    assert result is not None and result.ranking == ((0, 1),) and result.winner is None and result.is_draw


def test_a_pass_after_a_draw_does_not_count_towards_a_block() -> None:
    state = make([["KC"], ["3C"]], ["7H"], stock=["9H"], passes=1)
    state = move(move(state, 0, "draw"), 0, "pass")
    assert state["passes"] == 0 and GAME.outcome(state) is None


# --- the end -------------------------------------------------------------------------------------


def test_penalty_points() -> None:
    assert [penalty(r + "S") for r in "A23456789TJQK"] == [1, 2, 3, 4, 5, 6, 7, 50, 9, 10, 10, 10, 10]


def test_going_out_wins_and_the_others_rank_by_points() -> None:
    hands = [["5H"], ["8C", "JD"], ["KS", "QD", "TC", "7S", "AC", "2C"], ["9S", "9D", "3C", "KH"]]
    state = make(hands, ["7H"], turn=0)
    assert GAME.outcome(state) is None
    after = move(state, 0, {"play": "5H"})
    result = GAME.outcome(after)
    assert result is not None
    assert result.ranking == ((0,), (3,), (2,), (1,))
    assert result.scores == (0, 60, 40, 31) and result.winner == 0 and result.reason == "rules"
    assert result.to_json()["places"] == [1, 4, 3, 2]
    view = GAME.view(after, 3)
    assert view["scores"] == [0, 60, 40, 31] and view["hands"] == after["hands"] and view["drew"] is False
    assert GAME.legal_moves(after, 1) == [] and GAME.legal_moves(view, 1) == []


def test_equal_points_share_a_place_behind_the_winner() -> None:
    state = make([["5H"], ["KC"], ["QD"], ["2C", "3C"]], ["7H"])
    result = GAME.outcome(move(state, 0, {"play": "5H"}))
    assert result is not None and result.ranking == ((0,), (3,), (1, 2)) and result.places() == [1, 3, 3, 2]
    assert result.scores == (0, 10, 10, 5)


# --- random play ---------------------------------------------------------------------------------


def check_state(state: State) -> None:
    """What holds in every state reachable by legal play: no card lost or duplicated, and more."""
    assert every_card(state) == sorted(CARDS)
    json.loads(json.dumps(state))
    for hand in state["hands"]:
        assert hand == sorted(hand, key=CARDS.index)
    assert state["pile"] and state["suit"] in "CDHS"
    if state["pile"][-1][0] != "8":
        assert state["suit"] == state["pile"][-1][1]
    assert 0 <= state["reshuffles"] <= MAX_RESHUFFLES
    assert 0 <= state["passes"] <= len(state["hands"])
    if state["drawn"] is not None:
        assert state["drawn"] in state["hands"][state["turn"]]
        assert state["last"] == {
            "seat": state["turn"],
            "action": "draw",
            "card": state["drawn"],
            "reshuffled": state["last"]["reshuffled"],
        }


def test_no_card_is_ever_lost_or_duplicated_and_views_list_the_same_moves() -> None:
    for games in random_games().values():
        for states, _, _ in games:
            for state in states:
                check_state(state)
                seat = state["turn"]
                moves = GAME.legal_moves(state, seat)
                assert GAME.legal_moves(GAME.view(state, seat), seat) == moves
                if GAME.outcome(state) is None:
                    assert moves
                    for m in moves:
                        assert GAME.validate(state, seat, m) is None
                    for other in range(len(state["hands"])):
                        if other != seat:
                            assert GAME.validate(state, other, moves[0]) == f"it is player {seat + 1}'s turn"


def test_every_game_ends_with_every_seat_ranked() -> None:
    longest = 0
    for players, games in random_games().items():
        for states, _, result in games:
            longest = max(longest, len(states))
            assert result.ranking is not None
            assert sorted(s for place in result.ranking for s in place) == list(range(players))
            final = states[-1]
            assert result.scores == tuple(sum(map(penalty, hand)) for hand in final["hands"])
            assert len(result.ranking[0]) == 1 or result.reason == "blocked"
            assert (
                list(result.ranking[0]) == [s for s, h in enumerate(final["hands"]) if not h]
                or result.reason == "blocked"
            )
    assert longest < 1000  # a few hundred actions at most; the rules bound it (module docstring)


def test_with_the_stock_spent_random_play_still_ends() -> None:
    """From late positions (the stock empty and refilled MAX_RESHUFFLES times), play goes out or blocks."""
    reasons: Counter[str] = Counter()
    for seed in range(300):
        rng = random.Random(seed)
        players, size = 2 + seed % 5, rng.randint(1, 10)
        deck = rng.sample(CARDS, 52)
        top = next(c for c in deck if c[0] != "8")
        deck.remove(top)
        hands = [deck[s * size : (s + 1) * size] for s in range(players)]
        state = make(hands, [*deck[players * size :], top], stock=[], reshuffles=MAX_RESHUFFLES)
        for action in range(200):
            if GAME.outcome(state) is not None:
                break
            check_state(state)
            seat = state["turn"]
            state = move(state, seat, random_bot(GAME, GAME.view(state, seat), seat, rng), action)
        result = GAME.outcome(state)
        assert result is not None and result.ranking is not None
        points = [sum(map(penalty, hand)) for hand in state["hands"]]
        assert result.scores == tuple(points)
        assert [points[place[0]] for place in result.ranking] == sorted(set(points))  # fewer points first
        if result.reason == "blocked":
            assert all(state["hands"]) and state["passes"] == players and not state["stock"]
        reasons[result.reason] += 1
    assert reasons["rules"] > 100 and reasons["blocked"] > 100


@pytest.mark.parametrize("players", [2, 3, 4, 5, 6])
def test_random_play_through_the_engine_never_fails_and_replays(players: int) -> None:
    options = {"players": players}
    for playout in check_legal_play_never_raises(
        GAME, range(players * 100, players * 100 + 40), options=options, max_actions=2000
    ):
        assert playout.outcome is not None
        assert playout.match.state["hands"] and len(playout.match.state["hands"]) == players
        check_replay_equals_live(GAME, playout)


# --- hidden hands --------------------------------------------------------------------------------


def cards_in(data: Any) -> set[str]:
    """Every card named in ``data`` once serialised, as a player's browser would receive it."""
    return set(CARD_TOKEN.findall(json.dumps(data)))


def disguised(state: State, viewer: int | None, rng: random.Random) -> State:
    """The state with the cards the viewer may not see (other hands, the stock) dealt out again."""
    others = [s for s in range(len(state["hands"])) if s != viewer]
    secret = [c for s in others for c in state["hands"][s]] + state["stock"]
    swap = dict(zip(secret, rng.sample(secret, len(secret)), strict=True))
    new = copy.deepcopy(state)
    for s in others:
        new["hands"][s] = sorted((swap[c] for c in state["hands"][s]), key=CARDS.index)
    new["stock"] = [swap[c] for c in state["stock"]]
    if state["drawn"] is not None and state["turn"] != viewer:
        new["drawn"] = swap[state["drawn"]]
    last = state["last"]
    if last is not None and last["action"] == "draw" and last["seat"] != viewer:
        new["last"]["card"] = swap[last["card"]]
    return new


def test_no_view_or_last_move_shows_another_hand_or_the_stock() -> None:
    shuffler = random.Random(0)
    seen: Counter[str] = Counter()
    for games in random_games().values():
        for states, moves, _ in games[:25]:
            for n, state in enumerate(states):
                if GAME.outcome(state) is not None:
                    continue  # the end reveals every hand
                top = state["pile"][-1]
                for viewer in [*range(len(state["hands"])), None]:
                    own = set(state["hands"][viewer]) if viewer is not None else set()
                    view = GAME.view(state, viewer)
                    assert cards_in(view) <= own | {top}  # so no other hand's card, no stock card
                    if n:
                        seat, m = moves[n - 1]
                        shown = GAME.view_move(seat, m, viewer)
                        assert shown["seat"] == seat and cards_in(shown) <= {top}
                    # Dealing the unseen cards out again, or only shuffling the stock, shows the same.
                    other = disguised(state, viewer, shuffler)
                    assert every_card(other) == sorted(CARDS)
                    assert GAME.view(other, viewer) == view
                    only_stock = {**state, "stock": shuffler.sample(state["stock"], len(state["stock"]))}
                    assert GAME.view(only_stock, viewer) == view
                    seen["views"] += 1
                    seen["another seat drew a playable card"] += viewer != state["turn"] and bool(
                        state["drawn"]
                    )
                    last = state["last"]
                    seen["another seat drew"] += bool(
                        last and last["action"] == "draw" and last["seat"] != viewer
                    )
                    seen["after a reshuffle"] += state["reshuffles"] > 0
                    seen["an 8 named the suit"] += top[0] == "8"
    assert seen["views"] > 10_000 and min(seen.values()) > 50, seen


def test_a_draw_is_shown_to_others_only_as_a_draw() -> None:
    state = make([["KC"], ["3C"], ["4C"]], ["7H"], stock=["5S", "9H"])
    after = move(state, 0, "draw")
    for viewer in (0, 1, 2, None):
        assert GAME.view_move(0, "draw", viewer) == {"seat": 0, "move": "draw"}
        assert GAME.view_move(0, {"draw": True}, viewer) == {"seat": 0, "move": "draw"}
        assert GAME.view_move(0, {"play": "7C"}, viewer) == {"seat": 0, "move": {"play": "7C"}}
        assert GAME.view_move(0, {"play": "8C", "suit": "D"}, viewer) == {
            "seat": 0,
            "move": {"play": "8C", "suit": "D"},
        }
        assert GAME.view_move(0, "pass", viewer) == {"seat": 0, "move": "pass"}
        if viewer != 0:
            assert "5S" not in json.dumps(GAME.view(after, viewer))
    assert GAME.view(after, 0)["hand"] == ["KC", "5S"]
    assert GAME.view(after, 1)["hand"] == ["3C"] and GAME.view(after, None)["hand"] is None


def test_the_state_holds_no_seed() -> None:
    state = GAME.setup({"players": 3, "seed": 987654321}, rng=Rng(1))
    assert set(state) == {"hands", "stock", "pile", "suit", "turn", "drawn", "passes", "reshuffles", "last"}
    assert "987654321" not in json.dumps(state)


# --- bots ----------------------------------------------------------------------------------------


def test_the_sensible_bot() -> None:
    rng = random.Random(0)

    def choose(hand: list[str], top: str, suit: str | None = None, **kw: Any) -> Any:
        state = make([hand, ["2D"]], [top], suit=suit, **kw)
        return sensible_bot(GAME, GAME.view(state, 0), 0, rng)

    assert choose(["2H", "KH", "8C", "3S"], "7H") == {"play": "KH"}  # the costliest match, the 8 kept
    assert choose(["7C", "2H", "8C"], "7H") == {"play": "7C"}  # 7 points beat 2
    assert choose(["QS", "KS", "QH"], "QD", "D") == {"play": "QS"}  # equal points: keep to spades
    assert choose(["8C", "2S", "3S", "KD"], "7H") == {"play": "8C", "suit": "S"}  # the suit it holds most
    assert choose(["8C", "2S", "KD"], "7H") == {"play": "8C", "suit": "D"}  # as many: the costlier suit
    assert choose(["8C", "8D"], "7H") in [{"play": e, "suit": s} for e in ("8C", "8D") for s in "CDHS"]
    assert choose(["2S", "KD"], "7H") == "draw"
    assert choose(["2S", "KD"], "7H", stock=[]) == "pass"
    drew = make([["2S", "KD", "9H"], ["2D"]], ["7H"], drawn="9H", stock=["AH"])
    assert sensible_bot(GAME, GAME.view(drew, 0), 0, rng) == {"play": "9H"}


@pytest.mark.parametrize("bot", [sensible_bot, random_bot])
def test_bots_make_legal_moves_from_their_view(bot: Bot) -> None:
    for seed in range(15):
        playthrough([bot, sensible_bot, random_bot, bot], seed, 4)  # checks every move


def test_the_sensible_bot_beats_random_bots() -> None:
    games, wins = 1000, 0
    for seed in range(games):
        sensible = seed % 2  # each goes first in half the games
        bots = [random_bot, sensible_bot] if sensible else [sensible_bot, random_bot]
        _, _, result = playthrough(bots, seed, 2)
        wins += result.winner == sensible
    # 651 of 1000 with these seeds: much of the game is the luck of the deal and the draw.
    assert wins >= 600


def test_a_seat_out_of_time_has_the_sensible_bot_play_for_it() -> None:
    playout = play(GAME, [Tick(31.0)], seed=3, options={"players": 3}, clock="30/move")
    start, match = playout.first.match, playout.match
    (auto,) = playout.recorded
    assert isinstance(auto, Move) and auto.auto and auto.seat == 0
    assert auto.move == sensible_bot(GAME, GAME.view(start.state, 0), 0, random.Random(0))  # no 8 to name
    assert match.outcome is None and match.last == (0, auto.move) and match.state["last"]["seat"] == 0


# --- terminal presentation -----------------------------------------------------------------------


def test_render_for_a_player_and_a_spectator() -> None:
    state = make(
        [["KH", "2C", "8S", "TD"], ["3D", "4D"], ["5S"]],
        ["7H", "8D"],
        suit="H",
        stock=["AS", "6D", "9C"],
        turn=1,
        last={"seat": 0, "action": "play", "card": "8D", "suit": "H"},
    )
    assert GAME.render(GAME.view(state, 0), 0) == (
        "pile: 8D (2 cards), follow hearts\n"
        "stock: 3 cards\n"
        "player 1 (you): 2C TD KH 8S\n"
        "player 2: 2 cards\n"
        "player 3: 1 card\n"
        "last: you played 8D and named hearts\n"
        "player 2 to play"
    )
    assert GAME.render(GAME.view(state, None), None).splitlines() == [
        "pile: 8D (2 cards), follow hearts",
        "stock: 3 cards",
        "player 1: 4 cards",
        "player 2: 2 cards",
        "player 3: 1 card",
        "last: player 1 played 8D and named hearts",
        "player 2 to play",
    ]
    assert GAME.render(GAME.view(state, 1), 1).splitlines()[3:] == [
        "player 2 (you): 3D 4D",
        "player 3: 1 card",
        "last: player 1 played 8D and named hearts",
        "your turn (player 2)",
    ]


def test_render_after_a_draw_and_at_the_end() -> None:
    state = move(make([["KC", "2D"], ["3C"]], ["7H"], stock=["9H", "AH"]), 0, "draw")
    assert GAME.render(GAME.view(state, 0), 0).splitlines()[-2:] == [
        "last: you drew 9H",
        "your turn: you drew 9H: play it or pass",
    ]
    assert GAME.render(GAME.view(state, 1), 1).splitlines()[-2:] == [
        "last: player 1 drew a card",
        "player 1 to play the card they drew, or pass",
    ]
    end = move(make([["5H"], ["8C", "JD"]], ["7H"]), 0, {"play": "5H"})
    assert GAME.render(GAME.view(end, 1), 1).splitlines()[2:] == [
        "player 1: 0 points: no cards",
        "player 2 (you): 60 points: 8C JD",
        "last: player 1 played 5H",
        "game over: player 1 went out",
    ]
    blocked = move(make([["KC"], ["QC"]], ["9D"], stock=[], passes=1, turn=1), 1, "pass")
    assert GAME.render(GAME.view(blocked, None), None).splitlines()[-2:] == [
        "last: player 2 passed",
        "game over: no one can play",
    ]
    refilled = GAME.apply(make([["KC"], ["3C"]], ["2S", "7H"], stock=[]), 0, "draw", rng=Rng(0))
    assert GAME.render(GAME.view(refilled, 1), 1).splitlines() == [
        "pile: 7H (1 card), follow hearts",
        "stock: 0 cards",
        "player 1: 2 cards",
        "player 2 (you): 3C",
        "last: player 1 drew a card (the pile was shuffled into a new stock)",
        "your turn (player 2)",
    ]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("7H", {"play": "7H"}),
        (" td ", {"play": "TD"}),
        ("10d", {"play": "TD"}),
        ("qs", {"play": "QS"}),
        ("8S h", {"play": "8S", "suit": "H"}),
        ("8s Hearts", {"play": "8S", "suit": "H"}),
        ("8c spade", {"play": "8C", "suit": "S"}),
        ("8D  clubs", {"play": "8D", "suit": "C"}),
        ("draw", "draw"),
        ("D", "draw"),
        ("Pass", "pass"),
        ("p", "pass"),
    ],
)
def test_parse_move(text: str, parsed: Any) -> None:
    assert GAME.parse_move(text) == parsed
    if isinstance(parsed, dict):  # what was typed is a move the rules take, where it is legal
        card = parsed["play"]
        top = next(c for c in CARDS if c[1] == card[1] and c != card)
        state = make([[card, "2D"], ["3D"]], [top])
    else:
        state = make([["2C"], ["3C"]], ["7H"], stock=["4S"] if parsed == "draw" else [])
    assert GAME.validate(state, 0, parsed) is None


PARSE_HINT = (
    'type a card such as 7H, TD or 10D, an 8 with a suit such as "8S H" or "8S hearts", draw (d) or pass (p)'
)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", PARSE_HINT),
        ("x", PARSE_HINT),
        ("1H", PARSE_HINT),
        ("7", PARSE_HINT),
        ("7HH", PARSE_HINT),
        ("draw now", PARSE_HINT),
        ("8S H extra", PARSE_HINT),
        ("8S", 'name the suit for your 8, such as "8S H" or "8S hearts"'),
        ("8s x", "'x' is not a suit: type C, D, H, S or clubs, diamonds, hearts, spades"),
        ("7H h", "only an 8 names a suit: type just 7H"),
    ],
)
def test_parse_move_rejects_bad_text_with_a_hint(text: str, hint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(hint)):
        GAME.parse_move(text)
