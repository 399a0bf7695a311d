"""Game rules as pure functions (turn-based and real-time), the built-in games and their bots."""

from .arena import Arena
from .base import Bot, Game, Outcome, State
from .battleship import Battleship
from .bots import random_bot
from .chess import Chess
from .connect4 import ConnectFour
from .crazy_eights import CrazyEights
from .pig import Pig
from .pong import Pong
from .realtime import RealtimeBot, RealtimeGame
from .registry import BUILTIN_GAMES, REALTIME_GAMES, builtin_games, load_game
from .rng import Rng
from .rps import RockPaperScissors
from .tictactoe import TicTacToe

__all__ = [
    "BUILTIN_GAMES",
    "REALTIME_GAMES",
    "Arena",
    "Battleship",
    "Bot",
    "Chess",
    "ConnectFour",
    "CrazyEights",
    "Game",
    "Outcome",
    "Pig",
    "Pong",
    "RealtimeBot",
    "RealtimeGame",
    "Rng",
    "RockPaperScissors",
    "State",
    "TicTacToe",
    "builtin_games",
    "load_game",
    "random_bot",
]
