"""What match rooms and real-time rooms share: seats (members or server bots) and spectators."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .base import Member, Room, member_json

__all__ = ["Seat", "SeatedRoom", "player_json"]


@dataclass(slots=True)
class Seat:
    """A seat at a match: a member (by id) or a server-side bot."""

    id: str
    name: str
    bot: str | None = None
    token_hash: str | None = None


def player_json(index: int, seat: Seat, connected: bool) -> dict[str, Any]:
    """A seat as rooms list it (``players``): a bot is always connected."""
    return {
        "seat": index,
        "id": seat.id,
        "name": seat.name,
        "bot": seat.bot,
        "connected": seat.bot is not None or connected,
    }


class SeatedRoom(Room):
    """Seats and spectators by member id; the subclass runs the game and fills ``seats``."""

    seats: list[Seat | None]
    spectators: dict[str, Member]

    def free_seats(self) -> int:
        return sum(seat is None for seat in self.seats)

    def member_ids(self) -> Iterator[str]:
        for seat in self.seats:
            if seat is not None and seat.bot is None:
                yield seat.id
        yield from self.spectators

    def has_member(self, member_id: str) -> bool:
        return member_id in self.spectators or self.seat_of(member_id) is not None

    def has_players(self) -> bool:
        """Whether a seat is held by a member (not a bot): someone who can come back after a restart."""
        return any(seat is not None and seat.bot is None for seat in self.seats)

    def seat_of(self, member_id: str) -> int | None:
        for i, seat in enumerate(self.seats):
            if seat is not None and seat.bot is None and seat.id == member_id:
                return i
        return None

    def member(self, member_id: str) -> dict[str, Any]:
        seat = self.seat_of(member_id)
        if seat is None:
            return member_json(self.spectators[member_id], "spectator")
        s = self.seats[seat]
        assert s is not None
        return {"id": s.id, "name": s.name, "role": "player", "seat": seat, "bot": None}
