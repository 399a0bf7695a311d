"""Finding games: the built-in ones by name, a user's by ``package.module:ClassName``."""

from __future__ import annotations

import importlib

from .arena import Arena
from .base import Game
from .battleship import Battleship
from .chess import Chess
from .connect4 import ConnectFour
from .crazy_eights import CrazyEights
from .pig import Pig
from .pong import Pong
from .realtime import RealtimeGame
from .rps import RockPaperScissors
from .tictactoe import TicTacToe

__all__ = ["BUILTIN_GAMES", "REALTIME_GAMES", "builtin_games", "load_game"]

BUILTIN_GAMES: tuple[type[Game], ...] = (
    TicTacToe,
    ConnectFour,
    Chess,
    Battleship,
    CrazyEights,
    RockPaperScissors,
    Pig,
)


#: The real-time games in the box (``netplay.RealtimeGame``): a tick loop on the server.
REALTIME_GAMES: tuple[type[RealtimeGame], ...] = (Pong, Arena)


def builtin_games() -> dict[str, Game | RealtimeGame]:
    """A fresh instance of every built-in game, turn-based and real-time, by name."""
    games: dict[str, Game | RealtimeGame] = {cls.name: cls() for cls in BUILTIN_GAMES}
    games.update((cls.name, cls()) for cls in REALTIME_GAMES)
    return games


def load_game(spec: str) -> Game | RealtimeGame:
    """Load a game from ``package.module:ClassName`` (or a built-in game's name): turn-based
    (a ``netplay.Game``) or real-time (a ``netplay.RealtimeGame``).

    Raises ValueError with a message a user can act on.
    """
    builtin: tuple[type[Game | RealtimeGame], ...] = (*BUILTIN_GAMES, *REALTIME_GAMES)
    for cls in builtin:
        if spec == cls.name:
            return cls()
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{spec!r}: name a built-in game or use package.module:ClassName")
    try:
        module = importlib.import_module(module_name)
    except (ImportError, TypeError) as exc:  # TypeError: a relative name such as ".mod"
        raise ValueError(f"cannot import {module_name!r}: {exc}") from None
    if not hasattr(module, attr):
        raise ValueError(f"module {module_name!r} has no {attr!r}")
    obj = getattr(module, attr)
    if isinstance(obj, type):
        if not issubclass(obj, Game | RealtimeGame):
            raise ValueError(f"{spec!r} is not a netplay.Game or netplay.RealtimeGame subclass")
        obj = obj()
    if not isinstance(obj, Game | RealtimeGame):
        raise ValueError(f"{spec!r} is not a netplay.Game or netplay.RealtimeGame subclass")
    game = obj
    if not game.name:
        raise ValueError(f"{spec!r} has no 'name'")
    return game
