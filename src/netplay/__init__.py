"""netplay: make a Python game multiplayer. Pure game rules, an authoritative server, relay rooms,
and clients for asyncio programs and for game loops."""

__version__ = "0.1.0"

from .client import Client, ConnectionClosed, NetplayError, ThreadedClient
from .games import ConnectFour, Game, Outcome, RealtimeGame, TicTacToe
from .server import Server, ServerConfig

__all__ = [
    "Client",
    "ConnectFour",
    "ConnectionClosed",
    "Game",
    "NetplayError",
    "Outcome",
    "RealtimeGame",
    "Server",
    "ServerConfig",
    "ThreadedClient",
    "TicTacToe",
    "__version__",
]
