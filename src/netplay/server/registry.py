"""Room bookkeeping behind an interface, so a shared (Redis) registry can replace the in-memory one."""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Container
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .rooms import Room

__all__ = ["InMemoryRegistry", "RoomRegistry", "new_code", "new_id"]

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud


def new_id(prefix: str) -> str:
    """A random identifier of 64 bits, e.g. ``r-3f9a1c2e5b7d9f01``."""
    return f"{prefix}-{secrets.token_hex(8)}"


def new_code(length: int = 6) -> str:
    """A private-room code that is easy to read out and type."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


class RoomRegistry(ABC):
    """Where rooms are found: by id, by private code, by game for matchmaking, for the lobby.

    It also hands out room ids and private codes, so they are unique wherever rooms are made.
    """

    @abstractmethod
    def new_room_id(self) -> str:
        """An id no room of this registry has."""

    @abstractmethod
    def new_code(self) -> str:
        """A private code no room of this registry has."""

    @abstractmethod
    def add(self, room: Room) -> None: ...

    @abstractmethod
    def remove(self, room: Room) -> None: ...

    @abstractmethod
    def get(self, room_id: str) -> Room | None: ...

    @abstractmethod
    def by_code(self, code: str) -> Room | None: ...

    @abstractmethod
    def find_open(
        self, game: str, kind: str, skip: Container[str] = (), clock: str | None = None
    ) -> Room | None:
        """The oldest public room of ``game`` (with time control ``clock``) waiting for players,
        whose id is not in ``skip``."""

    @abstractmethod
    def rooms(self, game: str | None = None) -> list[Room]: ...

    @abstractmethod
    def __len__(self) -> int: ...


class InMemoryRegistry(RoomRegistry):
    """The embedded default: rooms in dictionaries of this process."""

    def __init__(self) -> None:
        self._rooms: dict[str, Room] = {}
        self._codes: dict[str, Room] = {}

    def new_room_id(self) -> str:
        while (room_id := new_id("r")) in self._rooms:
            pass
        return room_id

    def new_code(self) -> str:
        while (code := new_code()) in self._codes:
            pass
        return code

    def add(self, room: Room) -> None:
        if room.id in self._rooms or (room.code is not None and room.code in self._codes):
            raise ValueError(f"room {room.id} (or its code) is already registered")
        if room.code is not None:
            self._codes[room.code] = room
        self._rooms[room.id] = room

    def remove(self, room: Room) -> None:
        self._rooms.pop(room.id, None)
        if room.code is not None:
            self._codes.pop(room.code, None)

    def get(self, room_id: str) -> Room | None:
        return self._rooms.get(room_id)

    def by_code(self, code: str) -> Room | None:
        return self._codes.get(code.strip().upper())

    def find_open(
        self, game: str, kind: str, skip: Container[str] = (), clock: str | None = None
    ) -> Room | None:
        for room in self._rooms.values():  # insertion order: the oldest room first
            if (
                room.kind == kind
                and room.game == game
                and room.code is None
                and room.clock == clock
                and room.id not in skip
                and room.is_open()
            ):
                return room
        return None

    def rooms(self, game: str | None = None) -> list[Room]:
        return [r for r in self._rooms.values() if game is None or r.game == game]

    def __len__(self) -> int:
        return len(self._rooms)
