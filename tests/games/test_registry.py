"""Finding games: the built-in ones by name, and a user's game by ``package.module:ClassName``."""

from __future__ import annotations

import random

import pytest

import tests.games.sample_game
from netplay.games import (
    BUILTIN_GAMES,
    ConnectFour,
    Game,
    TicTacToe,
    builtin_games,
    load_game,
    random_bot,
)
from netplay.games.arena import Arena
from netplay.games.pong import Pong
from netplay.games.realtime import RealtimeGame
from tests.games.sample_game import Nim


def test_builtin_games_has_every_game() -> None:
    games = builtin_games()
    assert set(games) == {
        "tictactoe", "connect4", "chess", "battleship", "crazy8", "rps", "pig", "pong", "arena"
    }  # fmt: skip
    assert isinstance(games["tictactoe"], TicTacToe)
    assert isinstance(games["pong"], Pong) and isinstance(games["arena"], Arena)
    assert isinstance(games["connect4"], ConnectFour)
    assert BUILTIN_GAMES[:2] == (TicTacToe, ConnectFour)


def test_builtin_games_are_fresh_instances() -> None:
    assert builtin_games()["tictactoe"] is not builtin_games()["tictactoe"]


def test_builtin_games_are_well_formed() -> None:
    for name, game in builtin_games().items():
        assert game.name == name
        if isinstance(game, RealtimeGame):
            assert game.description and "\n" not in game.description
            assert game.bots and 0 < game.patch_rate <= game.tick_rate
            continue
        assert game.description and "\n" not in game.description
        assert game.players == 2
        assert game.bots and "random" in game.bots


@pytest.mark.parametrize(
    ("name", "cls"), [("tictactoe", TicTacToe), ("connect4", ConnectFour), ("pong", Pong), ("arena", Arena)]
)
def test_load_builtin_game_by_name(name: str, cls: type[Game | RealtimeGame]) -> None:
    assert type(load_game(name)) is cls


def test_load_builtin_game_by_spec() -> None:
    assert type(load_game("netplay.games.tictactoe:TicTacToe")) is TicTacToe


def test_load_user_game_class() -> None:
    game = load_game("tests.games.sample_game:Nim")
    assert isinstance(game, Nim)
    assert game.name == "nim"


def test_load_user_game_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    instance = Nim()
    monkeypatch.setattr(tests.games.sample_game, "INSTANCE", instance, raising=False)
    assert load_game("tests.games.sample_game:INSTANCE") is instance


def test_user_game_plays_to_the_end() -> None:
    game = load_game("tests.games.sample_game:Nim")
    state = game.setup({"pile": 5})
    assert game.validate(state, 0, 4) == "take 1, 2 or 3 stones"
    assert game.validate(state, 0, True) == "take 1, 2 or 3 stones"
    seat = game.first_player(state)
    rng = random.Random(0)
    while game.outcome(state) is None:
        move = random_bot(game, state, seat, rng)
        assert game.validate(state, seat, move) is None
        state = game.apply(state, seat, move)
        seat = game.next_player(state, seat)
    result = game.outcome(state)
    assert result is not None and result.winner == 1 - seat
    assert game.validate({"pile": 2, "last": 0}, 1, 3) == "only 2 stones left"


@pytest.mark.parametrize("spec", ["", "nosuchgame", "tests.games.sample_game", ":Nim", "tests:"])
def test_bad_spec(spec: str) -> None:
    with pytest.raises(ValueError, match=r"name a built-in game or use package\.module:ClassName"):
        load_game(spec)


def test_missing_module() -> None:
    with pytest.raises(ValueError, match=r"cannot import 'tests\.games\.no_such_module'"):
        load_game("tests.games.no_such_module:Game")


def test_missing_attribute() -> None:
    with pytest.raises(ValueError, match=r"module 'tests\.games\.sample_game' has no 'Chess'"):
        load_game("tests.games.sample_game:Chess")


@pytest.mark.parametrize(
    "spec", ["tests.games.sample_game:NOT_A_GAME", "collections:OrderedDict", "json:dumps"]
)
def test_not_a_game(spec: str) -> None:
    with pytest.raises(ValueError, match=r"is not a netplay\.Game or netplay\.RealtimeGame subclass"):
        load_game(spec)


@pytest.mark.parametrize(
    "spec",
    [
        "typing:Any",  # a class that is not a Game must not even be instantiated
        ".relative:Game",  # importlib refuses a relative name with TypeError
    ],
)
def test_odd_specs_still_give_value_error(spec: str) -> None:
    with pytest.raises(ValueError, match=r"cannot import|is not a netplay\.Game"):
        load_game(spec)


def test_game_without_a_name() -> None:
    with pytest.raises(ValueError, match="has no 'name'"):
        load_game("netplay.games.base:Game")
