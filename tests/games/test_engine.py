"""The match engine, driven by hand with a virtual clock: every ``at`` is a plain float, no loop, no sleep.

Each test feeds actions to ``step`` and asserts what a player or the shell would observe: the new
match, the effects in order, and the refusal's stable code.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplay.games import ConnectFour, Game, Outcome, Pig, RockPaperScissors, State, TicTacToe
from netplay.games import engine as eng
from netplay.games.engine import (
    CHANGED,
    Action,
    Announce,
    Arm,
    DeclineDraw,
    Finished,
    Forfeit,
    Match,
    Move,
    NextMatch,
    OfferDraw,
    Record,
    Rematch,
    Resign,
    Step,
    Tick,
    TimeControl,
    Timeout,
)
from netplay.games.rng import Rng
from netplay.games.rps import CHOICES

# -- helpers ------------------------------------------------------------------------------------


def begin(
    game: Game,
    *,
    seed: int = 7,
    options: dict[str, Any] | None = None,
    at: float = 0.0,
    control: str | None = None,
    move_limit: float | None = None,
    bots: Iterable[int] = (),
) -> Step:
    """A new match of ``game`` (seats from its options) started at ``at``."""
    opts = options or {}
    return eng.start(
        game,
        id="m1",
        number=1,
        seats=game.seat_count(opts),
        seed=seed,
        options=opts,
        at=at,
        control=None if control is None else TimeControl.parse(control),
        move_limit=move_limit,
        bots=bots,
    )


def ok(game: Game, match: Match, action: Action) -> Step:
    """Step ``action``, which the rules must accept."""
    result = eng.step(game, match, action)
    assert result.refused is None, result.refused
    return result


def refused(game: Game, match: Match, action: Action) -> tuple[str, Step]:
    """Step ``action``, which the rules must refuse; its code and the step."""
    result = eng.step(game, match, action)
    assert result.refused is not None, f"{action!r} was accepted"
    return result.refused.code, result


def records(steps: Iterable[Step]) -> list[Action]:
    """The actions the shell was told to store, in order."""
    return [e.action for s in steps for e in s.effects if type(e) is Record]


def through_store(actions: Iterable[Action]) -> list[Action]:
    """The actions as the store gives them back: (kind, seat, move) plus their time."""
    return [eng.action_from_record(*eng.action_to_record(a), a.at) for a in actions]


def fields(match: Match) -> dict[str, Any]:
    return {f.name: getattr(match, f.name) for f in dataclasses.fields(match)}


def assert_replays(game: Game, first: Step, steps: Sequence[Step]) -> None:
    """Replaying what was recorded rebuilds the live match, every field of it."""
    live = steps[-1].match if steps else first.match
    replayed = eng.replay(game, eng.start_like(game, first.match), through_store(records(steps)))
    assert fields(replayed) == fields(live)
    assert eng.clock_view(replayed, 1e6) == eng.clock_view(live, 1e6)


def effect_kinds(step: Step) -> list[str]:
    return [type(e).__name__ for e in step.effects]


class RandomOnTimeout(TicTacToe):
    timeout_policy = "random"


class BotOnTimeout(TicTacToe):
    timeout_policy = "bot"


class RandomRps(RockPaperScissors):
    timeout_policy = "random"


# -- round robin: tic-tac-toe through the engine ------------------------------------------------


def test_tictactoe_round_robin_versions_turns_and_effects() -> None:
    game = TicTacToe()
    first = begin(game)
    assert first.effects == (CHANGED, Arm(None))
    match = first.match
    assert (match.version, match.turn, match.active) == (1, 0, {0})
    for n, (seat, cell) in enumerate([(0, 4), (1, 0), (0, 3), (1, 6)]):
        result = ok(game, match, Move(seat, cell, float(n + 1), match.version))
        match = result.match
        assert match.version == n + 2
        assert match.turn == 1 - seat and match.active == {1 - seat}
        assert match.last == (seat, cell)
        assert result.effects == (Record(Move(seat, cell, float(n + 1), n + 1), n + 2), CHANGED, Arm(None))
    assert match.state["board"] == ["O", None, None, "X", "X", None, "O", None, None]
    win = ok(game, match, Move(0, 5, 5.0))  # 3, 4, 5: a row of X
    assert effect_kinds(win) == ["Record", "Finished", "Changed", "Arm"]
    assert win.effects[1] == Finished(Outcome(0, "rules", ((0,), (1,))))
    assert win.match.outcome == Outcome(0, "rules", ((0,), (1,)))
    assert win.match.active == frozenset() and win.effects[-1] == Arm(None)


@pytest.mark.parametrize("move_limit", [None, 30.0])
def test_the_written_out_copies_set_every_field_of_the_match(move_limit: float | None) -> None:
    """start and a move build a Match field by field (for speed): none may be left unset or stale."""
    game = TicTacToe()
    first = eng.start(
        game, id="m", number=3, seats=2, seed=9, options={"a": 1}, at=5.0, move_limit=move_limit, version=7
    )
    every = [f.name for f in dataclasses.fields(Match)]
    assert all(hasattr(first.match, name) for name in every)  # a slot never set raises AttributeError
    expected = Match(
        id="m", number=3, seats=2, seed=9, options={"a": 1}, move_limit=move_limit,
        state={"board": [None] * 9}, version=7, turn=0, active=frozenset({0}), since=(5.0, None),
        started_at=5.0, actions=1,
    )  # fmt: skip
    assert fields(first.match) == fields(expected)
    moved = ok(game, first.match, Move(0, 4, 6.0, 7)).match
    assert all(hasattr(moved, name) for name in every)
    assert fields(moved) == fields(
        first.match.evolve(
            state={"board": [None] * 4 + ["X"] + [None] * 4}, version=8, turn=1, active=frozenset({1}),
            since=(None, 6.0), last=(0, 4), actions=2,
        )
    )  # fmt: skip
    assert ok(game, first.match, Move(0, 4, 6.0)).effects[-1] == Arm(None if move_limit is None else 36.0)


def test_tictactoe_refusals_have_stable_codes_and_change_nothing() -> None:
    game = TicTacToe()
    match = ok(game, begin(game).match, Move(0, 4, 1.0)).match

    code, result = refused(game, match, Move(0, 0, 2.0))
    assert code == "not_your_turn" and result.refused is not None
    assert result.refused.message == "it is O's turn"

    code, result = refused(game, match, Move(1, 0, 2.0, version=1))  # it saw the empty board
    assert code == "stale_version" and result.refused is not None
    assert result.refused.extra == {"version": 2}
    assert refused(game, match, Move(1, 0, 2.0, version=9))[0] == "stale_version"  # from the future

    code, result = refused(game, match, Move(1, 4, 2.0))
    assert code == "invalid_move" and result.refused is not None
    assert result.refused.message == "the centre cell is already taken"
    assert refused(game, match, Move(1, "4", 2.0))[0] == "invalid_move"  # moves come off the wire

    for action in (Move(0, 0, 2.0), Move(1, 0, 2.0, version=1), Move(1, 4, 2.0)):
        result = eng.step(game, match, action)
        assert result.match is match and result.effects == ()

    for seat, cell in [(1, 0), (0, 1), (1, 8), (0, 7)]:  # 1, 4, 7: X wins
        match = ok(game, match, Move(seat, cell, 3.0)).match
    assert match.over
    late: list[Action] = [Move(1, 2, 4.0), OfferDraw(1, 4.0), Resign(1, 4.0), Forfeit(0, 4.0)]
    for after_end in late:
        code, result = refused(game, match, after_end)
        assert code == "game_over" and result.match is match and result.effects == ()


def test_only_players_can_act() -> None:
    game = TicTacToe()
    match = begin(game).match
    for action in (Resign(2, 1.0), OfferDraw(-1, 1.0), DeclineDraw(5, 1.0), Forfeit(2, 1.0)):
        assert refused(game, match, action)[0] == "not_a_player"
    assert refused(game, match, Move(2, 0, 1.0))[0] == "not_your_turn"


def test_effects_store_a_change_before_anything_reports_it() -> None:
    """No Changed, Finished or Announce comes before the Record of the action that caused it."""
    game = RandomOnTimeout()
    match = begin(game, control="20+1").match
    script: list[Action] = [
        Move(0, 4, 1.0),
        OfferDraw(0, 2.0),
        DeclineDraw(1, 3.0),
        Move(1, 0, 4.0),
        Move(0, 8, 40.0),  # past seat 0's deadline: a random move is played for it first
        Resign(0, 41.0),
        Rematch(0, 42.0),
        Rematch(1, 43.0),
    ]
    for action in script:
        result = eng.step(game, match, action)
        kinds = effect_kinds(result)
        if "Record" in kinds:
            assert kinds[0] == "Record", (action, kinds)
        else:
            assert not {"Changed", "Finished"} & set(kinds), (action, kinds)
        match = result.match


# -- simultaneous moves: rock, paper, scissors --------------------------------------------------


@pytest.mark.parametrize(("a", "b"), list(itertools.product(CHOICES, CHOICES)))
def test_simultaneous_choices_in_either_order_give_the_same_state(a: str, b: str) -> None:
    game = RockPaperScissors()
    match = begin(game).match
    assert match.turn is None and match.active == {0, 1}
    ends = []
    for order in ((0, a), (1, b)), ((1, b), (0, a)):
        m = match
        for seat, choice in order:  # both made against the version both of them saw
            m = ok(game, m, Move(seat, choice, 1.0, version=1)).match
        ends.append(m)
    assert ends[0].state == ends[1].state
    assert ends[0].version == ends[1].version == 3
    assert ends[0].active == ends[1].active == {0, 1}
    assert ends[0].state["history"] == [{"choices": [a, b], "winner": ends[0].state["history"][0]["winner"]}]
    assert ends[0].state["pending"] == [None, None]


def test_a_move_against_an_older_version_is_accepted_only_when_nothing_it_saw_changed() -> None:
    game = RockPaperScissors()
    v1 = begin(game).match
    v2 = ok(game, v1, Move(0, "rock", 1.0, version=1)).match  # seat 1 could act at 1 too
    v3 = ok(game, v2, Move(1, "paper", 2.0, version=1)).match  # concurrent: accepted
    assert v3.version == 3 and v3.state["score"] == [0, 1]

    # Seat 0 already moved since version 1: a second move made against it is stale.
    code, result = refused(game, v3, Move(0, "rock", 3.0, version=1))
    assert code == "stale_version" and result.refused is not None
    assert result.refused.extra == {"version": 3}
    # Seat 0 could not act at version 2 (it had chosen): what it saw there is not a round it plays in.
    assert refused(game, v3, Move(0, "rock", 3.0, version=2))[0] == "stale_version"
    # At version 2 seat 1 was the one to act, and has acted since: stale too.
    assert refused(game, v3, Move(1, "rock", 3.0, version=2))[0] == "stale_version"
    # A seat that already chose this round is refused by the rules of who may act.
    assert refused(game, v2, Move(0, "paper", 3.0, version=2))[0] == "not_your_turn"


def test_round_robin_never_accepts_an_older_version() -> None:
    game = ConnectFour()
    match = begin(game).match
    for seat, column in [(0, 3), (1, 3), (0, 4)]:
        match = ok(game, match, Move(seat, column, 1.0)).match
    for version in (1, 2, 3):
        assert refused(game, match, Move(1, 0, 2.0, version=version))[0] == "stale_version"
    assert ok(game, match, Move(1, 0, 2.0, version=4)).match.version == 5


# -- clocks -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "initial", "increment", "per_move", "shown"),
    [
        ("300+5", 300.0, 5.0, None, "300+5"),
        ("5m+3", 300.0, 3.0, None, "300+3"),
        (" 5M + 3S ", 300.0, 3.0, None, "300+3"),
        ("600", 600.0, 0.0, None, "600+0"),
        ("1h", 3600.0, 0.0, None, "3600+0"),
        ("1.5m+0.5", 90.0, 0.5, None, "90+0.5"),
        ("30/move", None, 0.0, 30.0, "30/move"),
        ("2m / move", None, 0.0, 120.0, "120/move"),
    ],
)
def test_time_control_parse_reads_the_documented_forms(
    text: str, initial: float | None, increment: float, per_move: float | None, shown: str
) -> None:
    control = TimeControl.parse(text)
    assert (control.initial, control.increment, control.per_move) == (initial, increment, per_move)
    assert str(control) == shown
    assert TimeControl.parse(str(control)) == control


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"is not a time control: use INITIAL\+INCREMENT"),
        ("fast", "'fast' is not a time control"),
        ("5x+3", "is not a time control"),
        ("-5+3", "is not a time control"),
        ("300+", "is not a time control"),
        ("30/turn", "is not a time control"),
        ("0+5", "a clock must be from 0 to 86400 seconds"),
        ("86401", "a clock must be from 0 to 86400 seconds"),
        ("300+3601", "an increment at most 3600"),
        ("0/move", "a limit per move must be from 0 to 86400 seconds"),
        ("25h/move", "a limit per move must be from 0 to 86400 seconds"),
    ],
)
def test_time_control_parse_refuses_with_a_useful_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TimeControl.parse(text)


def test_the_increment_is_added_after_each_move() -> None:
    game = TicTacToe()
    match = begin(game, control="300+5").match
    assert match.remaining == (300.0, 300.0)
    match = ok(game, match, Move(0, 4, 10.0)).match  # 10 s thought, 5 s back
    assert match.remaining == (295.0, 300.0)
    assert eng.clock_view(match, 10.0) == {"control": "300+5", "remaining": [295.0, 300.0], "running": [1]}
    assert eng.clock_view(match, 40.0) == {"control": "300+5", "remaining": [295.0, 270.0], "running": [1]}
    result = ok(game, match, Move(1, 0, 40.0))
    assert result.match.remaining == (295.0, 275.0)
    assert result.effects[-1] == Arm(40.0 + 295.0)  # seat 0's clock runs again


def test_only_the_seats_that_may_act_have_their_clock_running() -> None:
    game = TicTacToe()
    match = begin(game, control="100").match
    match = ok(game, match, Move(0, 4, 30.0)).match
    match = ok(game, match, Move(1, 0, 50.0)).match
    assert eng.clock_view(match, 60.0) == {"control": "100+0", "remaining": [60.0, 80.0], "running": [0]}

    rps = RockPaperScissors()
    match = begin(rps, control="100").match
    assert eng.clock_view(match, 10.0) == {"control": "100+0", "remaining": [90.0, 90.0], "running": [0, 1]}
    match = ok(rps, match, Move(0, "rock", 10.0)).match  # seat 0 has chosen: its clock stops
    assert eng.clock_view(match, 30.0) == {"control": "100+0", "remaining": [90.0, 70.0], "running": [1]}
    match = ok(rps, match, Move(1, "rock", 30.0)).match  # a tie: both choose again, both clocks run
    assert eng.clock_view(match, 40.0) == {"control": "100+0", "remaining": [80.0, 60.0], "running": [0, 1]}
    assert ok(rps, match, Resign(0, 45.0)).match.outcome is not None
    assert eng.clock_view(ok(rps, match, Resign(0, 45.0)).match, 90.0) == {
        "control": "100+0",
        "remaining": [75.0, 55.0],
        "running": [],
    }


def test_a_move_exactly_at_the_deadline_is_too_late() -> None:
    game = TicTacToe()
    match = begin(game, control="10").match
    assert ok(game, match, Move(0, 4, 10.0 - 1e-6)).match.version == 2  # just in time

    code, result = refused(game, match, Move(0, 4, 10.0))
    assert code == "game_over"
    timeout = Outcome(1, "time", ((1,), (0,)))
    assert result.effects == (Record(Timeout(0, 10.0), 2), Finished(timeout), CHANGED, Arm(None))
    assert result.match.outcome == timeout
    assert result.match.state == match.state  # the late move was not played
    assert eng.clock_view(result.match, 10.0) == {"control": "10+0", "remaining": [0.0, 10.0], "running": []}


def test_a_tick_before_the_deadline_only_rearms_and_one_at_it_ends_the_game_on_time() -> None:
    game = TicTacToe()
    match = ok(game, begin(game, control="60+0").match, Move(0, 4, 20.0)).match  # seat 1 to move until 80
    early = eng.step(game, match, Tick(80.0 - 1e-6))
    assert early.refused is None and early.match is match
    assert early.effects == (Arm(80.0),)

    due = eng.step(game, match, Tick(80.0))
    assert due.refused is None
    timeout = Outcome(0, "time", ((0,), (1,)))
    assert due.effects == (Record(Timeout(1, 80.0), 3), Finished(timeout), CHANGED, Arm(None))
    late = eng.step(game, match, Tick(500.0))  # a late timer: the loss is still at the deadline
    assert late.effects == due.effects


def test_a_limit_per_move_is_not_carried_over() -> None:
    game = TicTacToe()
    first = begin(game, control="30/move")
    assert first.effects == (CHANGED, Arm(30.0))
    match = ok(game, first.match, Move(0, 4, 29.0)).match  # 1 s unused is lost, not banked
    assert eng.clock_view(match, 29.0) == {"control": "30/move", "remaining": [30.0, 30.0], "running": [1]}
    result = ok(game, match, Move(1, 0, 58.0))
    assert result.effects[-1] == Arm(88.0)
    assert eng.clock_view(result.match, 80.0) == {
        "control": "30/move",
        "remaining": [8.0, 30.0],
        "running": [0],
    }
    code, late = refused(game, result.match, Move(0, 1, 88.0))
    assert code == "game_over" and late.match.outcome == Outcome(1, "time", ((1,), (0,)))


def test_the_server_move_limit_applies_without_a_time_control() -> None:
    game = TicTacToe()
    first = begin(game, move_limit=15.0)
    assert first.effects == (CHANGED, Arm(15.0))
    assert eng.clock_view(first.match, 5.0) is None  # no clock to show
    moved = ok(game, first.match, Move(0, 4, 10.0))
    assert moved.effects[-1] == Arm(25.0)
    assert eng.step(game, moved.match, Tick(24.9)).effects == (Arm(25.0),)
    assert eng.step(game, moved.match, Tick(25.0)).match.outcome == Outcome(0, "time", ((0,), (1,)))
    assert begin(game).effects == (CHANGED, Arm(None))  # neither: no deadline at all


def test_random_timeout_policy_plays_a_legal_move_and_the_game_goes_on() -> None:
    game = RandomOnTimeout()
    match = ok(game, begin(game, move_limit=10.0).match, Move(0, 4, 3.0)).match
    result = eng.step(game, match, Tick(13.0))
    assert result.refused is None and not result.match.over
    (record,) = [e for e in result.effects if type(e) is Record]
    auto = record.action
    assert type(auto) is Move and auto.auto and auto.seat == 1 and auto.at == 13.0
    assert game.validate(match.state, 1, auto.move) is None
    assert eng.action_to_record(auto) == ("auto", 1, auto.move)
    assert result.match.turn == 0 and result.match.last == (1, auto.move)
    assert result.effects[-1] == Arm(23.0)  # seat 0 now has its ten seconds
    first = begin(game, move_limit=10.0)
    assert_replays(game, first, [ok(game, first.match, Move(0, 4, 3.0)), result])


def test_random_timeout_policy_with_no_time_left_plays_on_until_the_game_ends() -> None:
    game = RandomOnTimeout()
    first = begin(game, control="5")
    steps = [eng.step(game, first.match, Tick(1000.0))]
    while not steps[-1].match.over:  # the shell fires each Arm in the past at once
        (arm,) = [e for e in steps[-1].effects if type(e) is Arm]
        assert arm.at is not None
        steps.append(eng.step(game, steps[-1].match, Tick(1000.0)))
    moves = records(steps)
    assert moves and all(type(a) is Move and a.auto for a in moves)
    assert_replays(game, first, steps)


def test_bot_timeout_policy_plays_the_first_bot() -> None:
    game = BotOnTimeout()
    match = begin(game, move_limit=10.0).match
    for seat, cell in [(0, 0), (1, 4), (0, 1)]:  # X threatens 0-1-2: the minimax bot must block
        match = ok(game, match, Move(seat, cell, 1.0)).match
    result = eng.step(game, match, Tick(11.0))
    assert [a for a in records([result])] == [Move(1, 2, 11.0, None, auto=True)]


# -- resigning, leaving, draws ------------------------------------------------------------------


def test_resign_and_forfeit_end_the_game_for_the_others() -> None:
    game = TicTacToe()
    match = begin(game).match
    resign = ok(game, match, Resign(0, 1.0))
    assert resign.match.outcome == Outcome(1, "resign", ((1,), (0,)))
    assert resign.effects == (
        Record(Resign(0, 1.0), 2),
        Finished(Outcome(1, "resign", ((1,), (0,)))),
        CHANGED,
        Arm(None),
    )
    forfeit = ok(game, match, Forfeit(1, 1.0))  # a seat may leave when it is not its turn
    assert forfeit.match.outcome == Outcome(0, "forfeit", ((0,), (1,)))

    pig = Pig()
    four = begin(pig, options={"players": 4}).match
    out = ok(pig, four, Resign(2, 1.0)).match.outcome
    assert out is not None and out.reason == "resign"
    assert out.ranking == ((0, 1, 3), (2,)) and out.places() == [1, 1, 4, 1]


def test_a_draw_is_agreed_when_every_seat_offers_it() -> None:
    game = TicTacToe()
    match = ok(game, begin(game).match, Move(0, 4, 1.0)).match
    offer = ok(game, match, OfferDraw(1, 2.0))
    assert offer.effects == (
        Record(OfferDraw(1, 2.0), 2),
        Announce({"type": "draw_offered", "seat": 1, "offers": [1]}),
    )
    assert offer.match.version == 2 and offer.match.draw_offers == {1}  # moves made at 2 stay current
    assert eng.step(game, offer.match, OfferDraw(1, 2.5)).effects == ()  # offering twice: nothing new
    agreed = ok(game, offer.match, OfferDraw(0, 3.0))
    assert agreed.match.outcome == Outcome(None, "agreed", ((0, 1),))
    assert agreed.match.outcome.is_draw
    assert effect_kinds(agreed) == ["Record", "Finished", "Changed", "Arm"]
    assert agreed.effects[0] == Record(OfferDraw(0, 3.0), 3)


def test_declining_or_playing_on_clears_a_draw_offer() -> None:
    game = TicTacToe()
    match = ok(game, ok(game, begin(game).match, Move(0, 4, 1.0)).match, OfferDraw(0, 2.0)).match
    declined = ok(game, match, DeclineDraw(1, 3.0))
    assert declined.match.draw_offers == frozenset()
    assert declined.effects == (
        Record(DeclineDraw(1, 3.0), 2),
        Announce({"type": "draw_declined", "seat": 1}),
    )
    assert ok(game, declined.match, OfferDraw(1, 4.0)).match.outcome is None  # not agreed: 0 took it back
    assert ok(game, declined.match, DeclineDraw(0, 4.0)).effects == ()  # nothing to decline

    played_on = ok(game, match, Move(1, 0, 3.0)).match  # seat 1 plays instead of accepting
    assert played_on.draw_offers == frozenset()
    assert ok(game, played_on, OfferDraw(1, 4.0)).match.outcome is None

    own = ok(game, ok(game, played_on, OfferDraw(0, 4.0)).match, Move(0, 8, 5.0)).match
    assert own.draw_offers == {0}  # moving does not withdraw the mover's own offer


def test_a_bot_never_agrees_to_a_draw() -> None:
    game = TicTacToe()
    match = begin(game, bots=[1]).match
    match = ok(game, ok(game, match, OfferDraw(0, 1.0)).match, OfferDraw(1, 2.0)).match
    assert match.outcome is None and match.draw_offers == {0, 1}


# -- rematches ----------------------------------------------------------------------------------


def test_a_rematch_starts_when_every_seat_asked() -> None:
    game = TicTacToe()
    match = begin(game).match
    code, result = refused(game, match, Rematch(0, 1.0))
    assert code == "game_in_progress" and result.refused is not None
    assert result.refused.message == "the game is not over yet"
    over = ok(game, match, Resign(1, 1.0)).match
    assert refused(game, over, Rematch(2, 2.0))[0] == "not_a_player"
    one = ok(game, over, Rematch(0, 2.0))
    assert one.effects == (Announce({"type": "rematch_requested", "seat": 0}),)
    both = ok(game, one.match, Rematch(1, 3.0))
    assert both.effects == (Announce({"type": "rematch_requested", "seat": 1}), NextMatch())
    with pytest.raises(TypeError, match="never recorded"):
        eng.action_to_record(Rematch(0, 2.0))


def test_bots_vote_for_a_rematch_by_themselves() -> None:
    game = TicTacToe()
    over = ok(game, begin(game, bots=[1]).match, Resign(0, 1.0)).match
    assert ok(game, over, Rematch(0, 2.0)).effects[-1] == NextMatch()


# -- more players: rankings ---------------------------------------------------------------------


def test_a_four_player_pig_ranks_every_seat_by_score() -> None:
    game = Pig()
    steps = [begin(game, seed=2024, options={"players": 4, "target": 20})]
    while not steps[-1].match.over:
        m = steps[-1].match
        (seat,) = m.active
        move = "hold" if m.state["turn_total"] >= 6 else "roll"
        steps.append(ok(game, m, Move(seat, move, float(len(steps)))))
    scores = steps[-1].match.state["scores"]
    (finished,) = [e for e in steps[-1].effects if type(e) is Finished]
    outcome = finished.outcome
    assert max(scores) >= 20 and outcome.winner == scores.index(max(scores))
    assert outcome.scores == tuple(scores)
    assert outcome.places() == [1 + sum(other > mine for other in scores) for mine in scores]
    assert sorted(s for place in outcome.ranking or () for s in place) == [0, 1, 2, 3]
    assert_replays(game, steps[0], steps[1:])


# -- replay -------------------------------------------------------------------------------------


def _clocked_script(game: Game) -> tuple[Step, list[Step]]:
    """A game with moves, draw offers, a decline, a late move and timeouts."""
    first = begin(game, control="60+2", seed=99)
    script: list[Action] = [
        Move(0, 4, 5.0),
        OfferDraw(0, 6.0),
        DeclineDraw(1, 9.0),
        Move(1, 0, 12.0, version=2),
        OfferDraw(1, 13.0),
        Move(0, 8, 20.0),  # clears seat 1's offer
        Tick(50.0),
        Move(1, 2, 200.0),  # long past seat 1's deadline
        Tick(1000.0),
    ]
    steps: list[Step] = []
    match = first.match
    for action in script:
        steps.append(eng.step(game, match, action))
        match = steps[-1].match
    return first, steps


@pytest.mark.parametrize("game", [TicTacToe(), RandomOnTimeout()], ids=["lose", "random"])
def test_replaying_the_record_rebuilds_the_live_match(game: Game) -> None:
    first, steps = _clocked_script(game)
    kinds = [eng.action_to_record(a)[0] for a in records(steps)]
    assert {"move", "draw_offer", "draw_decline"} <= set(kinds)
    assert ("timeout" in kinds) == (game.timeout_policy == "lose")
    assert ("auto" in kinds) == (game.timeout_policy == "random")
    assert steps[-1].match.over
    assert_replays(game, first, steps)
    for n in range(len(steps)):  # and so does every prefix of it
        assert_replays(game, first, steps[: n + 1])


def test_replaying_simultaneous_moves_made_against_older_versions() -> None:
    game = RandomRps()
    first = begin(game, control="30+1", options={"rounds": 5})
    match, steps = first.match, []
    script: list[Action] = [
        Move(1, "rock", 1.0, version=1),
        Move(0, "paper", 2.0, version=1),
        OfferDraw(1, 3.0),
        Move(0, "rock", 4.0, version=3),
        Tick(40.0),  # seat 1 out of time (twice): random choices for it
        Move(0, "scissors", 41.0),  # seat 1 now has its 1 s increment: until 42
        Forfeit(1, 41.5),
    ]
    for action in script:
        steps.append(eng.step(game, match, action))
        match = steps[-1].match
    assert [s.refused for s in steps] == [None] * len(steps)
    assert [eng.action_to_record(a)[0] for a in records(steps)].count("auto") == 2
    assert match.outcome is not None and match.outcome.winner == 0
    assert_replays(game, first, steps)


def test_a_record_the_rules_refuse_is_a_replay_error() -> None:
    game = TicTacToe()
    first = begin(game)
    with pytest.raises(
        eng.ReplayError, match=r"recorded action 1 .* is refused: the centre cell is already taken"
    ):
        eng.replay(game, first, [Move(0, 4, 1.0), Move(1, 4, 2.0)])
    with pytest.raises(eng.ReplayError, match="unknown recorded action 'teleport'"):
        eng.action_from_record("teleport", 0, None, 1.0)


# -- rules that misbehave -----------------------------------------------------------------------


class Crashing(TicTacToe):
    """Tic-tac-toe whose rules raise on cell 8, in the method named by ``where``."""

    where = "apply"

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        if self.where == "validate" and move == 8:
            raise KeyError("validate broke")
        return super().validate(state, seat, move)

    def apply(self, state: State, seat: int, move: Any) -> State:
        if self.where == "apply" and move == 8:
            raise ZeroDivisionError("apply broke")
        if self.where == "json" and move == 8:
            return {"board": {"not", "json"}}
        return super().apply(state, seat, move)

    def outcome(self, state: State) -> Outcome | None:
        if self.where == "outcome" and state["board"][8] is not None:
            raise RuntimeError("outcome broke")
        return super().outcome(state)

    def next_player(self, state: State, seat: int) -> int:
        if self.where == "next_player" and state["board"][8] is not None:
            return 7  # no such seat
        return super().next_player(state, seat)


@pytest.mark.parametrize(
    ("where", "detail"),
    [
        ("validate", "KeyError('validate broke')"),
        ("apply", "ZeroDivisionError('apply broke')"),
        ("outcome", "RuntimeError('outcome broke')"),
        ("json", "TypeError('apply returned a state that is not JSON')"),
        ("next_player", "empty active()"),
    ],
)
def test_rules_that_fail_give_internal_error_never_an_exception(where: str, detail: str) -> None:
    game = Crashing()
    game.where = where
    match = begin(game).match
    result = eng.step(game, match, Move(0, 8, 1.0))
    assert result.refused is not None and result.refused.code == "internal_error"
    assert result.refused.detail == detail
    assert "detail" not in result.refused.message and detail not in result.refused.message
    assert result.match is match and result.effects == ()
    assert ok(game, match, Move(0, 4, 1.0)).match.version == 2  # other moves still work


def test_a_setup_that_is_not_json_cannot_start() -> None:
    class SetState(TicTacToe):
        def setup(self, options: dict[str, Any]) -> State:
            return {"board": set()}

    with pytest.raises(ValueError, match="setup returned a state that is not JSON"):
        begin(SetState())


def test_rules_that_leave_nobody_to_move_at_the_start_cannot_start() -> None:
    class NoOne(TicTacToe):
        def first_player(self, state: State) -> int:
            return 2

    with pytest.raises(ValueError, match="no seat able to act"):
        begin(NoOne())


# -- randomness ---------------------------------------------------------------------------------


class Draws(Game):
    """A game that shuffles a deck at setup and draws a number on every move."""

    name = "draws"
    players = 2

    def setup(self, options: dict[str, Any], rng: Rng) -> State:  # type: ignore[override]
        return {"deck": rng.shuffled(list(range(20))), "drawn": []}

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        return None if move == "draw" else 'the move is "draw"'

    def apply(self, state: State, seat: int, move: Any, rng: Rng) -> State:  # type: ignore[override]
        return {**state, "drawn": [*state["drawn"], rng.randint(1, 10**9)]}

    def outcome(self, state: State) -> Outcome | None:
        return Outcome.draw() if len(state["drawn"]) >= 8 else None

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        return ["draw"]


def _draws(seed: int) -> tuple[Step, list[Step]]:
    game = Draws()
    first = begin(game, seed=seed)
    steps: list[Step] = []
    match = first.match
    while not match.over:
        steps.append(ok(game, match, Move(match.turn or 0, "draw", float(len(steps)))))
        match = steps[-1].match
    return first, steps


def test_rules_that_take_rng_get_the_same_numbers_on_replay() -> None:
    first, steps = _draws(seed=5)
    live = steps[-1].match
    assert live.state["deck"] == Rng(5, 0).shuffled(list(range(20)))  # setup: stream 0
    assert live.state["drawn"][0] == Rng(5, 1).randint(1, 10**9)  # the first action: stream 1
    assert len(set(live.state["drawn"])) == 8  # each action has its own stream
    assert_replays(Draws(), first, steps)
    assert _draws(seed=5)[1][-1].match.state == live.state


def test_different_matches_get_different_numbers() -> None:
    states = [_draws(seed)[1][-1].match.state for seed in (1, 2, 3)]
    assert len({tuple(s["deck"]) for s in states}) == 3
    assert len({tuple(s["drawn"]) for s in states}) == 3
    pig = Pig()
    rolls = []
    for seed in (1, 2):
        match = begin(pig, seed=seed).match
        seen = []
        for _ in range(12):
            match = ok(pig, match, Move(min(match.active), "roll", 1.0)).match
            seen.append(match.state["rolls"][-1:] or match.state["last_turn"]["rolls"][-1:])
        rolls.append(seen)
    assert rolls[0] != rolls[1]


# -- properties ---------------------------------------------------------------------------------


@given(st.lists(st.floats(0.0, 20.0, allow_nan=False), min_size=1, max_size=9))
def test_a_game_clock_is_initial_plus_increments_minus_thinking_time(thinking: list[float]) -> None:
    game = TicTacToe()
    match, now = begin(game, control="300+5").match, 0.0
    spent = [0.0, 0.0]
    moves = [0, 0]
    for think in thinking:
        if match.over:
            break
        seat = match.turn
        assert seat is not None
        now += think
        match = ok(game, match, Move(seat, game.legal_moves(match.state, seat)[0], now)).match
        spent[seat] += think
        moves[seat] += 1
        assert match.remaining is not None
        for s in (0, 1):
            assert match.remaining[s] == pytest.approx(300.0 + 5.0 * moves[s] - spent[s])


@given(st.lists(st.tuples(st.sampled_from(CHOICES), st.sampled_from(CHOICES)), max_size=8), st.randoms())
def test_rps_comes_out_the_same_whatever_order_the_choices_arrive_in(
    rounds: list[tuple[str, str]], arrival: Any
) -> None:
    """Two clients each send a round's choice against the version they last saw, in any order."""
    game = RockPaperScissors()
    first = begin(game, options={"rounds": 99})
    reference = first.match.state
    for a, b in rounds:
        reference = game.apply(game.apply(reference, 0, a), 1, b)
    match = first.match
    queues = {0: [a for a, _ in rounds], 1: [b for _, b in rounds]}
    seen = match.version  # both saw the round begin
    while queues[0] or queues[1]:
        seat = arrival.choice([s for s in (0, 1) if queues[s] and s in match.active])
        match = ok(game, match, Move(seat, queues[seat].pop(0), 1.0, version=seen)).match
        if match.active == {0, 1}:
            seen = match.version  # a new round: both are sent it
    assert match.state == reference
    assert match.version == 1 + 2 * len(rounds)
