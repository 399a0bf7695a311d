"""Rooms: a match room runs a turn-based game through the engine, a real-time room a game through
the tick engine; a relay room forwards messages between members."""

from .base import Cancellable, Member, Room, RoomHost, member_json
from .match import MatchRoom
from .realtime import RealtimeRoom
from .relay import RelayRoom
from .seated import Seat, SeatedRoom

__all__ = [
    "Cancellable",
    "MatchRoom",
    "Member",
    "RealtimeRoom",
    "RelayRoom",
    "Room",
    "RoomHost",
    "Seat",
    "SeatedRoom",
    "member_json",
]
