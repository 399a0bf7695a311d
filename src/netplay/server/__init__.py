"""The asyncio server: hub, rooms, the room directory and the process that runs them."""

from .app import Server, install_uvloop, run
from .config import ServerConfig
from .directory import InMemoryDirectory, RoomDirectory, RoomInfo
from .hub import Hub
from .rooms import MatchRoom, RelayRoom, Room
from .session import Link, Session

__all__ = [
    "Hub",
    "InMemoryDirectory",
    "Link",
    "MatchRoom",
    "RelayRoom",
    "Room",
    "RoomDirectory",
    "RoomInfo",
    "Server",
    "ServerConfig",
    "Session",
    "install_uvloop",
    "run",
]
