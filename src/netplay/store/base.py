"""What the server remembers about matches and match rooms, behind an interface: SQLite by default,
nothing for tests."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["MatchStore", "NullStore", "SavedMatch", "SavedMove", "SavedPlayer", "SavedRoom", "StoreError"]


class StoreError(Exception):
    """The database cannot be used. The message is one line that names the file, says what is wrong
    and what to do, ready to be shown after ``error: --db ``."""


@dataclass(slots=True)
class SavedPlayer:
    """A seat at a stored match. Only a hash of the player's session token is ever stored."""

    seat: int
    id: str
    name: str
    bot: str | None = None
    token_hash: str | None = None


@dataclass(slots=True)
class SavedMove:
    """One recorded action of a match: a move (``kind`` "move", or "auto" when played for a seat out
    of time), or "resign", "forfeit", "timeout", "draw_offer", "draw_decline" (``move`` is None)."""

    seat: int
    move: Any
    version: int
    at: float
    kind: str = "move"


@dataclass(slots=True)
class SavedMatch:
    """One game of a room: enough to rebuild it by replaying its actions through the engine."""

    id: str
    room_id: str
    room_code: str | None
    game: str
    number: int
    options: dict[str, Any]
    start_version: int
    players: list[SavedPlayer]
    started_at: float
    moves: list[SavedMove] = field(default_factory=list)
    outcome: dict[str, Any] | None = None
    finished_at: float | None = None
    #: The match's random seed (never sent to a client) and the generator that uses it.
    seed: int = 0
    rng: str | None = None
    #: The time control ("300+5", "30/move") and the server's move limit, when there were any.
    clock: str | None = None
    move_limit: float | None = None

    @property
    def finished(self) -> bool:
        return self.outcome is not None


@dataclass(slots=True)
class SavedRoom:
    """A match room as it stands between its matches' records: its settings, who sits where, and
    how far its series has got. Rewritten when a seat or the series changes (never per move).

    With a match in progress the match's own record says more (its moves); between games and
    while waiting for players this record is all there is of the room.
    """

    id: str
    code: str | None
    game: str
    #: The options the room gives ``setup`` (without a seed: each match draws its own).
    options: dict[str, Any]
    clock: str | None
    move_limit: float | None
    #: How many seats the room has, and who holds them (free seats are not listed).
    seats: int
    players: list[SavedPlayer]
    #: Games started in the room so far; the id of the latest (None before the first).
    games_played: int = 0
    match_id: str | None = None
    #: Seats that asked for the next game since the latest one ended.
    rematch: list[int] = field(default_factory=list)
    created_at: float = 0.0
    updated_at: float = 0.0


class MatchStore(ABC):
    """Durable record of matches. Each write returns only once it is safe from a process crash."""

    #: False for a store that remembers nothing, so rooms need not build records for it.
    keeps: ClassVar[bool] = True
    #: True for a store whose writes become durable later (the cluster's Redis, ``--db-sync full``):
    #: the server holds what it says after a write until ``pending()`` of that moment is done.
    holds_messages: bool = False

    def pending(self) -> Any:
        """The ``asyncio.Future`` of the latest write not yet durable, or None (always, by default)."""
        return None

    @abstractmethod
    def match_started(self, match: SavedMatch) -> None: ...

    @abstractmethod
    def move_applied(self, match_id: str, index: int, move: SavedMove) -> None:
        """Record the ``index``-th move (from 0) of a match, before its new state is sent to anyone."""

    @abstractmethod
    def match_finished(self, match_id: str, outcome: dict[str, Any], at: float) -> None: ...

    @abstractmethod
    def unfinished(self) -> list[SavedMatch]:
        """Matches that were in progress: a restarted server resumes them."""

    @abstractmethod
    def recent(self, limit: int = 20) -> list[SavedMatch]:
        """The most recently started matches, newest first, without their moves."""

    @abstractmethod
    def get(self, match_id: str) -> SavedMatch | None: ...

    @abstractmethod
    def room_saved(self, room: SavedRoom) -> None:
        """Write (or rewrite) a match room's record, before the change is told to anyone."""

    @abstractmethod
    def room_closed(self, room_id: str) -> None:
        """The room is gone (its last member left): forget its record. Nothing for an unknown id."""

    @abstractmethod
    def rooms(self) -> list[SavedRoom]:
        """Every match room still open, oldest first: a restarted server brings them back."""

    def close(self) -> None:  # noqa: B027 - optional: most stores hold nothing to release
        """Release the store's resources."""


class NullStore(MatchStore):
    """Remembers nothing (``--db :memory:`` and library use without a database)."""

    keeps = False

    def match_started(self, match: SavedMatch) -> None:
        pass

    def move_applied(self, match_id: str, index: int, move: SavedMove) -> None:
        pass

    def match_finished(self, match_id: str, outcome: dict[str, Any], at: float) -> None:
        pass

    def unfinished(self) -> list[SavedMatch]:
        return []

    def recent(self, limit: int = 20) -> list[SavedMatch]:
        return []

    def get(self, match_id: str) -> SavedMatch | None:
        return None

    def room_saved(self, room: SavedRoom) -> None:
        pass

    def room_closed(self, room_id: str) -> None:
        pass

    def rooms(self) -> list[SavedRoom]:
        return []
