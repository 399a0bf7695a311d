"""Rock, paper, scissors: options, simultaneous choices, hidden pending choices, outcome, bots, terminal."""

from __future__ import annotations

import copy
import itertools
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplay.games import Bot, Outcome, RockPaperScissors, State, random_bot
from netplay.games.rps import CHOICES, frequency_bot, round_limit

BEATS = {"rock": "scissors", "paper": "rock", "scissors": "paper"}


def choose(game: RockPaperScissors, state: State, first: tuple[int, str], second: tuple[int, str]) -> State:
    """Play one round: two choices, in the order given, each checked legal first."""
    for seat, move in (first, second):
        assert game.validate(state, seat, move) is None
        state = game.apply(state, seat, move)
    return state


def rounds(game: RockPaperScissors, state: State, *pairs: tuple[str, str]) -> State:
    """Play whole rounds, seat 0 choosing first: each pair is (seat 0's choice, seat 1's)."""
    for a, b in pairs:
        state = choose(game, state, (0, a), (1, b))
    return state


def constant_rock(game: Any, view: State, seat: int, rng: random.Random) -> str:
    """A player who always shows rock."""
    return "rock"


def play(game: RockPaperScissors, bots: tuple[Bot, Bot], rng: random.Random, n: int = 3) -> Outcome:
    """A match between two bots, each choosing from its own view; the seats alternate who goes first."""
    state = game.setup({"rounds": n})
    while (result := game.outcome(state)) is None:
        active = sorted(game.active(state) or [])
        if len(state["history"]) % 2:
            active.reverse()
        seat = active[0]
        move = bots[seat](game, game.view(state, seat), seat, rng)
        assert game.validate(state, seat, move) is None
        state = game.apply(state, seat, move)
    return result


# --- setup and options ---------------------------------------------------------------------------


def test_setup_defaults_to_best_of_three() -> None:
    game = RockPaperScissors()
    state = game.setup({})
    assert state == {"rounds": 3, "score": [0, 0], "history": [], "pending": [None, None]}
    assert game.outcome(state) is None
    assert sorted(game.active(state) or []) == [0, 1]
    assert game.phase(state) == "choosing"


def test_metadata_and_bots() -> None:
    game = RockPaperScissors()
    assert game.name == "rps" and game.players == 2 and game.description
    assert list(game.bots) == ["frequency", "random"]
    assert game.has_hidden_information
    assert not game.round_robin
    assert game.wants_rng == (False, False)
    assert game.seat_count({}) == 2


@pytest.mark.parametrize("n", [1, 3, 5, 97, 99])
def test_rounds_option(n: int) -> None:
    assert RockPaperScissors().setup({"rounds": n})["rounds"] == n


def test_other_options_such_as_the_engines_seed_are_ignored() -> None:
    state = RockPaperScissors().setup({"seed": 1234, "rounds": 5})
    assert "seed" not in json.dumps(state) and state["rounds"] == 5


@pytest.mark.parametrize("n", [0, 2, 4, 98, 100, 101, -1, -3])
def test_rounds_out_of_range_or_even_is_refused(n: int) -> None:
    with pytest.raises(ValueError, match=rf"rounds must be an odd whole number from 1 to 99.*, not {n}$"):
        RockPaperScissors().setup({"rounds": n})


@pytest.mark.parametrize("n", ["3", 3.0, True, None, [3]])
def test_rounds_of_the_wrong_type_is_refused(n: Any) -> None:
    with pytest.raises(ValueError, match="rounds must be an odd whole number from 1 to 99, such as 3"):
        RockPaperScissors().setup({"rounds": n})


# --- choosing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("move", CHOICES)
def test_each_choice_is_legal_for_both_seats(move: str) -> None:
    game = RockPaperScissors()
    state = game.setup({})
    assert game.validate(state, 0, move) is None
    assert game.validate(state, 1, move) is None
    assert game.legal_moves(state, 0) == game.legal_moves(state, 1) == ["rock", "paper", "scissors"]


@pytest.mark.parametrize(
    "move", ["Rock", "ROCK", "r", "stone", "", None, 0, True, ["rock"], {"choice": "rock"}]
)
def test_wrong_shape_is_refused(move: Any) -> None:
    game = RockPaperScissors()
    assert game.validate(game.setup({}), 0, move) == 'a move is "rock", "paper" or "scissors"'


def test_choosing_twice_in_a_round_is_refused() -> None:
    game = RockPaperScissors()
    state = game.apply(game.setup({}), 1, "paper")
    assert game.validate(state, 1, "rock") == "you have already chosen this round; wait for the other player"
    assert game.validate(state, 0, "rock") is None


def test_the_first_choice_is_kept_hidden_and_the_chooser_leaves_active() -> None:
    game = RockPaperScissors()
    state = game.apply(game.setup({}), 0, "scissors")
    assert state["pending"] == ["scissors", None]
    assert state["history"] == [] and state["score"] == [0, 0]
    assert list(game.active(state) or []) == [1]
    state = game.setup({})
    state = game.apply(state, 1, "rock")
    assert list(game.active(state) or []) == [0]


def test_the_second_choice_resolves_the_round_and_both_are_active_again() -> None:
    game = RockPaperScissors()
    state = rounds(game, game.setup({}), ("rock", "scissors"))
    assert state["history"] == [{"choices": ["rock", "scissors"], "winner": 0}]
    assert state["score"] == [1, 0]
    assert state["pending"] == [None, None]
    assert sorted(game.active(state) or []) == [0, 1]


@pytest.mark.parametrize(("a", "b"), list(itertools.product(CHOICES, CHOICES)))
def test_every_pair_of_choices(a: str, b: str) -> None:
    game = RockPaperScissors()
    state = rounds(game, game.setup({}), (a, b))
    winner = None if a == b else 0 if BEATS[a] == b else 1
    assert state["history"] == [{"choices": [a, b], "winner": winner}]
    assert state["score"] == [int(winner == 0), int(winner == 1)]


@pytest.mark.parametrize(("a", "b"), list(itertools.product(CHOICES, CHOICES)))
def test_the_order_of_simultaneous_choices_does_not_matter(a: str, b: str) -> None:
    game = RockPaperScissors()
    for start in (
        game.setup({}),
        rounds(game, game.setup({"rounds": 5}), ("paper", "rock"), ("rock", "rock")),
    ):
        assert choose(game, start, (0, a), (1, b)) == choose(game, start, (1, b), (0, a))


def test_apply_does_not_mutate_the_state() -> None:
    game = RockPaperScissors()
    state = rounds(game, game.setup({}), ("rock", "paper"))
    for seat, move in [(0, "rock"), (1, "scissors")]:
        before = copy.deepcopy(state)
        after = game.apply(state, seat, move)
        assert state == before and after is not state
        state = after


# --- the end -------------------------------------------------------------------------------------


def test_a_majority_wins_best_of_three() -> None:
    game = RockPaperScissors()
    state = rounds(game, game.setup({}), ("rock", "scissors"))
    assert game.outcome(state) is None
    state = rounds(game, state, ("rock", "paper"))
    assert game.outcome(state) is None
    state = rounds(game, state, ("paper", "scissors"))
    result = game.outcome(state)
    assert result == Outcome.ranked([[1], [0]], scores=[1, 2])
    assert result is not None and result.winner == 1 and result.reason == "rules"
    assert list(game.active(state) or []) == []


def test_best_of_one_ends_on_the_first_decided_round() -> None:
    game = RockPaperScissors()
    state = rounds(game, game.setup({"rounds": 1}), ("paper", "paper"))
    assert game.outcome(state) is None  # a tie does not count toward the N
    state = rounds(game, state, ("paper", "rock"))
    assert game.outcome(state) == Outcome.ranked([[0], [1]], scores=[1, 0])


def test_tied_rounds_are_replayed_and_do_not_count() -> None:
    game = RockPaperScissors()
    state = rounds(game, game.setup({}), *[("rock", "rock")] * 5, ("rock", "scissors"))
    assert len(state["history"]) == 6 and state["score"] == [1, 0]
    assert game.outcome(state) is None
    state = rounds(game, state, ("scissors", "paper"))
    result = game.outcome(state)
    assert result is not None and result.winner == 0


def test_a_clean_sweep_ends_before_all_rounds_are_played() -> None:
    game = RockPaperScissors()
    state = rounds(game, game.setup({"rounds": 5}), *[("paper", "rock")] * 3)
    result = game.outcome(state)
    assert result is not None and result.winner == 0 and result.scores == (3, 0)


def test_round_limit() -> None:
    assert [round_limit(n) for n in (1, 3, 99)] == [13, 19, 307]


def test_the_round_limit_ends_in_a_draw_on_equal_scores() -> None:
    game = RockPaperScissors()
    state = rounds(game, game.setup({}), ("rock", "paper"), ("paper", "rock"))
    state = rounds(game, state, *[("rock", "rock")] * (round_limit(3) - 3))
    assert game.outcome(state) is None
    state = rounds(game, state, ("scissors", "scissors"))
    result = game.outcome(state)
    assert len(state["history"]) == round_limit(3)
    assert result is not None and result.is_draw and result.reason == "round limit"
    assert result.ranking == ((0, 1),) and result.places() == [1, 1]


def test_the_round_limit_gives_the_win_to_the_higher_score() -> None:
    game = RockPaperScissors()
    state = rounds(game, game.setup({"rounds": 5}), ("rock", "paper"))
    state = rounds(game, state, *[("paper", "paper")] * (round_limit(5) - 1))
    result = game.outcome(state)
    assert result is not None and result.winner == 1 and result.reason == "round limit"
    assert result.places() == [2, 1]


# --- hidden information --------------------------------------------------------------------------


def test_view_shows_own_choice_and_only_that_the_opponent_has_chosen() -> None:
    game = RockPaperScissors()
    state = game.apply(game.setup({}), 0, "paper")
    assert game.view(state, 0) == {
        "rounds": 3,
        "score": [0, 0],
        "history": [],
        "chosen": [True, False],
        "mine": "paper",
    }
    assert game.view(state, 1)["chosen"] == [True, False] and game.view(state, 1)["mine"] is None
    assert game.view(state, None)["mine"] is None
    for seat in (1, None):
        assert "paper" not in json.dumps(game.view(state, seat))


def pending_states(base: State) -> list[State]:
    """``base`` with every combination of pending choices (None: not chosen yet)."""
    options = [None, *CHOICES]
    return [{**base, "pending": [a, b]} for a in options for b in options]


def test_no_view_depends_on_a_pending_choice_the_viewer_may_not_see() -> None:
    game = RockPaperScissors()
    base = rounds(game, game.setup({"rounds": 5}), ("rock", "paper"), ("scissors", "scissors"))
    states = pending_states(base)
    for state in states:
        chosen = [c is not None for c in state["pending"]]
        for seat in (0, 1):
            # Any other state with the same own choice and the same "who has chosen" looks the same.
            same = [
                s
                for s in states
                if s["pending"][seat] == state["pending"][seat]
                and [c is not None for c in s["pending"]] == chosen
            ]
            assert {json.dumps(game.view(s, seat)) for s in same} == {json.dumps(game.view(state, seat))}
            assert game.view(state, seat)["mine"] == state["pending"][seat]
        spectators = [s for s in states if [c is not None for c in s["pending"]] == chosen]
        assert {json.dumps(game.view(s, None)) for s in spectators} == {json.dumps(game.view(state, None))}
        assert game.view(state, None)["history"] == base["history"]  # revealed rounds are public


def test_view_move_shows_the_move_only_to_the_mover() -> None:
    game = RockPaperScissors()
    assert game.view_move(0, "rock", 0) == {"seat": 0, "move": "rock"}
    assert game.view_move(0, "rock", 1) == {"seat": 0}
    assert game.view_move(0, "rock", None) == {"seat": 0}


# --- random play ---------------------------------------------------------------------------------


@settings(max_examples=150)
@given(n=st.sampled_from([1, 3, 5, 7, 9, 15]), data=st.data())
def test_random_play_always_ends_with_every_seat_ranked(n: int, data: st.DataObject) -> None:
    game = RockPaperScissors()
    state = game.setup({"rounds": n})
    actions = 0
    while game.outcome(state) is None:
        active = sorted(game.active(state) or [])
        assert active and set(active) == {s for s in (0, 1) if state["pending"][s] is None}
        seat = data.draw(st.sampled_from(active))
        move = data.draw(st.sampled_from(game.legal_moves(game.view(state, seat), seat)))
        assert game.validate(state, seat, move) is None
        before = copy.deepcopy(state)
        new = game.apply(state, seat, move)
        assert state == before
        state = new
        json.loads(json.dumps(state))
        for viewer in (0, 1, None):
            json.loads(json.dumps(game.view(state, viewer)))
        assert sum(state["score"]) == sum(r["winner"] is not None for r in state["history"])
        actions += 1
        assert actions <= 2 * round_limit(n)
    result = game.outcome(state)
    assert result is not None
    assert sorted(s for place in result.for_seats(2).ranking or () for s in place) == [0, 1]
    assert list(game.active(state) or []) == []


def test_random_bots_finish_long_matches() -> None:
    game = RockPaperScissors()
    for seed in range(5):
        result = play(game, (random_bot, random_bot), random.Random(seed), 99)
        assert result.ranking is not None and sorted(itertools.chain(*result.ranking)) == [0, 1]


# --- bots ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bot", [frequency_bot, random_bot])
def test_bots_return_legal_moves_from_their_view(bot: Bot) -> None:
    game = RockPaperScissors()
    rng = random.Random(3)
    state = rounds(game, game.setup({"rounds": 9}), ("rock", "paper"), ("scissors", "scissors"))
    state = game.apply(state, 1, "rock")
    for seat in (0, 1):
        view = game.view(state, seat)
        for _ in range(20):
            assert bot(game, view, seat, rng) in CHOICES


def test_frequency_bot_counters_the_opponents_favourite() -> None:
    game = RockPaperScissors()
    state = rounds(
        game, game.setup({"rounds": 9}), ("rock", "scissors"), ("paper", "scissors"), ("rock", "rock")
    )
    rng = random.Random(0)
    assert frequency_bot(game, game.view(state, 0), 0, rng) == "rock"  # seat 1 favours scissors
    assert frequency_bot(game, game.view(state, 1), 1, rng) == "paper"  # seat 0 favours rock


def test_frequency_bot_is_random_without_history() -> None:
    game = RockPaperScissors()
    view = game.view(game.setup({}), 0)
    rng = random.Random(0)
    assert {frequency_bot(game, view, 0, rng) for _ in range(60)} == set(CHOICES)


@pytest.mark.parametrize("seat", [0, 1])
def test_frequency_bot_beats_a_constant_rock_player(seat: int) -> None:
    game = RockPaperScissors()
    for seed in range(50):
        bots = (frequency_bot, constant_rock) if seat == 0 else (constant_rock, frequency_bot)
        result = play(game, bots, random.Random(seed))
        assert result.winner == seat, f"seed {seed}"


# --- terminal presentation -----------------------------------------------------------------------


def test_seat_labels() -> None:
    game = RockPaperScissors()
    assert [game.seat_label(0), game.seat_label(1)] == ["player 1", "player 2"]


def test_render_for_a_player() -> None:
    game = RockPaperScissors()
    state = rounds(game, game.setup({}), ("rock", "scissors"), ("paper", "paper"))
    state = game.apply(state, 1, "rock")
    assert game.render(game.view(state, 0), 0) == (
        "best of 3: player 1 1, player 2 0\n"
        "round 1: rock vs scissors, player 1 wins\n"
        "round 2: paper vs paper, tie\n"
        "you (player 1): choose!\n"
        "player 2 has chosen"
    )
    assert game.render(game.view(state, 1), 1).endswith("player 1 is choosing\nyou (player 2): chose rock")


def test_render_for_a_spectator_shows_no_choice() -> None:
    game = RockPaperScissors()
    state = game.apply(game.setup({}), 0, "scissors")
    text = game.render(game.view(state, None), None)
    assert text == "best of 3: player 1 0, player 2 0\nplayer 1 has chosen\nplayer 2 is choosing"


@pytest.mark.parametrize(
    ("text", "move"),
    [
        ("rock", "rock"),
        ("PAPER", "paper"),
        (" Scissors\n", "scissors"),
        ("r", "rock"),
        ("P", "paper"),
        ("s", "scissors"),
    ],
)
def test_parse_move(text: str, move: str) -> None:
    assert RockPaperScissors().parse_move(text) == move


@pytest.mark.parametrize("text", ["", "x", "stone", "rock paper", "rocks", "0"])
def test_parse_move_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match=r"type rock, paper or scissors \(or r, p, s\)"):
        RockPaperScissors().parse_move(text)
