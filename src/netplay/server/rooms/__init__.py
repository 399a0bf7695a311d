"""Rooms: a match room runs a game through the engine; a relay room forwards messages between members."""

from .base import Cancellable, Member, Room, RoomHost, member_json
from .match import MatchRoom, Seat
from .relay import RelayRoom

__all__ = ["Cancellable", "MatchRoom", "Member", "RelayRoom", "Room", "RoomHost", "Seat", "member_json"]
