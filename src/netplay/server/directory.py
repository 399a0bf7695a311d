"""The room directory: descriptions of rooms, not rooms. Where a room is found, and who names it.

A room lives in the process that hosts it; the directory only holds what the lobby needs to know of
it (a ``RoomInfo``: id, kind, game, code, clock, whether quick-match may seat someone there, and its
lobby listing), published by the host each time it changes. Ids and private codes are allocated
here, in one place, so they are unique wherever rooms are made. A directory shared between
processes (Redis) implements the same interface with the same data.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "CODE_LENGTH",
    "LISTING_PAGE",
    "InMemoryDirectory",
    "RoomDirectory",
    "RoomInfo",
    "has_options",
    "new_code",
    "new_id",
    "normal_code",
]

#: Rooms in one ``list_rooms`` reply unless the request asks for fewer; also the most it may ask.
LISTING_PAGE = 50

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud


def new_id(prefix: str) -> str:
    """A random identifier of 64 bits, e.g. ``r-3f9a1c2e5b7d9f01``."""
    return f"{prefix}-{secrets.token_hex(8)}"


#: Characters in a private code: 32^8 (about 10^12) codes, so that at the limit of wrong guesses
#: (``CODE_GUESSES``), finding any one of 1,000 open private rooms takes about 200 years.
CODE_LENGTH = 8


def new_code(length: int = CODE_LENGTH) -> str:
    """A private-room code that is easy to read out and type."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def normal_code(text: str) -> str:
    """A code as typed ("abcd-efgh", "ABCD EFGH") as it is kept ("ABCDEFGH")."""
    return text.replace("-", "").replace(" ", "").strip().upper()


@dataclass(slots=True)
class RoomInfo:
    """What the directory knows of a room: enough to find it, match into it and list it.

    A value: nothing changes one once published (not frozen, because one is made each time a room
    changes, twice a game, and a frozen one costs several times as much to build).
    """

    id: str
    kind: str
    game: str
    code: str | None
    clock: str | None
    #: Quick-match may seat a newcomer here (public, waiting for players).
    open: bool
    #: The room as ``list_rooms`` shows it (never the code).
    listing: dict[str, Any] = field(compare=False)
    #: The game's options the room was made with (empty: the game's defaults).
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Seats (members, for a relay room) still free: what a cluster's quick-match may claim.
    free: int = 0


def has_options(made: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether a room made with the options ``made`` suits a quick-match asking for ``wanted``:
    each option named there has the same value here, as JSON (``1`` is not ``true``; key order in
    objects does not count). Options it does not name may be anything."""
    for name, value in wanted.items():
        if name not in made:
            return False
        if _json(made[name]) != _json(value):
            return False
    return True


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


class RoomDirectory(ABC):
    """Where rooms are found: by id, by private code, by game for matchmaking, for the lobby."""

    @abstractmethod
    def new_room_id(self) -> str:
        """An id no room in the directory has."""

    @abstractmethod
    def new_code(self) -> str:
        """A private code no room in the directory has."""

    @abstractmethod
    def publish(self, info: RoomInfo) -> None:
        """Add a room, or replace its description."""

    @abstractmethod
    def withdraw(self, room_id: str) -> None:
        """The room is gone."""

    @abstractmethod
    def get(self, room_id: str) -> RoomInfo | None: ...

    @abstractmethod
    def by_code(self, code: str) -> RoomInfo | None: ...

    @abstractmethod
    def find_open(
        self,
        game: str,
        kind: str,
        skip: Container[str] = (),
        clock: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> RoomInfo | None:
        """The oldest open public room of ``game``, ``kind`` and time control ``clock`` not in
        ``skip`` that was made with ``options`` (each one named with the same value, see
        ``has_options``; none named: any room)."""

    @abstractmethod
    def listing(
        self, game: str | None = None, *, after: int = 0, limit: int = LISTING_PAGE
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A page of the rooms' lobby listings (of ``game``), oldest first: at most ``limit`` rooms
        listed after the cursor ``after`` (0: from the start), and the cursor of the next page
        (None: this was the last). A cursor is a room's place in the order rooms were listed."""

    @abstractmethod
    def __len__(self) -> int: ...


class InMemoryDirectory(RoomDirectory):
    """The embedded default: descriptions in dictionaries of this process, open rooms indexed."""

    def __init__(self) -> None:
        self._rooms: dict[str, RoomInfo] = {}
        self._codes: dict[str, str] = {}
        #: (kind, game, clock) -> open public room ids, oldest first (a dict keeps insertion order).
        self._open: dict[tuple[str, str, str | None], dict[str, None]] = {}
        #: Each listed room's place (the cursor of list_rooms), in the order rooms were listed.
        self._order: dict[int, str] = {}
        self._place: dict[str, int] = {}
        self._places = 0

    def new_room_id(self) -> str:
        while (room_id := new_id("r")) in self._rooms:
            pass
        return room_id

    def new_code(self) -> str:
        while (code := new_code()) in self._codes:
            pass
        return code

    def publish(self, info: RoomInfo) -> None:
        old = self._rooms.get(info.id)
        if old is not None and old.code != info.code:
            raise ValueError(f"room {info.id} cannot change its code")
        if old is None and info.code is not None:
            if info.code in self._codes:
                raise ValueError(f"the code of room {info.id} is taken")
            self._codes[info.code] = info.id
        self._rooms[info.id] = info
        if old is None:
            self._places += 1
            self._order[self._places] = info.id
            self._place[info.id] = self._places
        key = (info.kind, info.game, info.clock)
        if info.open and info.code is None:
            self._open.setdefault(key, {}).setdefault(info.id)
        else:
            self._unindex(key, info.id)

    def withdraw(self, room_id: str) -> None:
        info = self._rooms.pop(room_id, None)
        if info is None:
            return
        del self._order[self._place.pop(room_id)]
        if info.code is not None:
            self._codes.pop(info.code, None)
        self._unindex((info.kind, info.game, info.clock), room_id)

    def _unindex(self, key: tuple[str, str, str | None], room_id: str) -> None:
        ids = self._open.get(key)
        if ids is not None and ids.pop(room_id, 0) is None and not ids:
            del self._open[key]

    def get(self, room_id: str) -> RoomInfo | None:
        return self._rooms.get(room_id)

    def by_code(self, code: str) -> RoomInfo | None:
        room_id = self._codes.get(normal_code(code))
        return None if room_id is None else self._rooms.get(room_id)

    def find_open(
        self,
        game: str,
        kind: str,
        skip: Container[str] = (),
        clock: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> RoomInfo | None:
        for room_id in self._open.get((kind, game, clock), ()):  # with options: a scan, oldest first
            if room_id not in skip:
                info = self._rooms[room_id]
                if not options or has_options(info.options, options):
                    return info
        return None

    def listing(
        self, game: str | None = None, *, after: int = 0, limit: int = LISTING_PAGE
    ) -> tuple[list[dict[str, Any]], int | None]:
        page: list[dict[str, Any]] = []
        page_end = after
        for place, room_id in self._order.items():
            if place <= after:
                continue
            info = self._rooms[room_id]
            if game is not None and info.game != game:
                continue
            if len(page) == limit:
                return page, page_end
            page.append(info.listing)
            page_end = place
        return page, None

    def __len__(self) -> int:
        return len(self._rooms)
