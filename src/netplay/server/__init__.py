"""The asyncio server: hub, rooms, lobby registry and the process that runs them."""

from .app import Server, install_uvloop, run
from .config import ServerConfig
from .hub import Hub
from .registry import InMemoryRegistry, RoomRegistry
from .rooms import MatchRoom, RelayRoom, Room
from .session import Link, Session

__all__ = [
    "Hub",
    "InMemoryRegistry",
    "Link",
    "MatchRoom",
    "RelayRoom",
    "Room",
    "RoomRegistry",
    "Server",
    "ServerConfig",
    "Session",
    "install_uvloop",
    "run",
]
