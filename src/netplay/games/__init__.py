"""Game rules as pure functions, the built-in games and their bots."""

from .base import Bot, Game, Outcome, State
from .battleship import Battleship
from .bots import random_bot
from .chess import Chess
from .connect4 import ConnectFour
from .crazy_eights import CrazyEights
from .pig import Pig
from .registry import BUILTIN_GAMES, builtin_games, load_game
from .rng import Rng
from .rps import RockPaperScissors
from .tictactoe import TicTacToe

__all__ = [
    "BUILTIN_GAMES",
    "Battleship",
    "Bot",
    "Chess",
    "ConnectFour",
    "CrazyEights",
    "Game",
    "Outcome",
    "Pig",
    "Rng",
    "RockPaperScissors",
    "State",
    "TicTacToe",
    "builtin_games",
    "load_game",
    "random_bot",
]
