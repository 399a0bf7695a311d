"""What every room shares: members addressed by id, the host it runs in, the lobby description.

A room holds no sockets and no sessions. It knows its members by id (``Member``) and reaches them
through its ``RoomHost``: ``deliver`` sends a message to members by id, wherever their connections
are. The host also gives it the time (``now``), timers, bot execution and the store, so a room is
as testable as its host is fake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ...store import MatchStore
from ..bots import BotJob

if TYPE_CHECKING:
    from ...protocol.outgoing import OutgoingRun
    from ..metrics import Stats

__all__ = ["Cancellable", "Member", "Room", "RoomHost", "member_json"]


@dataclass(frozen=True, slots=True)
class Member:
    """A room member as the room knows it: an id to address, a name to show, a token hash to store."""

    id: str
    name: str
    #: SHA-256 of the member's session token, kept in match records so a restart can seat it again.
    token_hash: str | None = None


class Cancellable(Protocol):
    """A timer the room armed (``asyncio.TimerHandle`` fits)."""

    def cancel(self) -> None: ...


class RoomHost(Protocol):
    """What a room needs from the server around it."""

    store: MatchStore
    #: Counters for ``/metrics`` (matches started and finished, bots' moves).
    stats: Stats

    def now(self) -> float:
        """Wall-clock seconds (the engine's time; stored with every move)."""

    def monotonic(self) -> float:
        """Seconds of a clock that never jumps (real-time rooms schedule their ticks by it)."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable: ...

    def backlog(self, member_id: str) -> int:
        """Bytes sent to a member that its connection has not delivered yet (0 when away)."""

    def run_bot(self, job: BotJob, done: Callable[[Any, BaseException | None], None]) -> None:
        """Think ``job`` off the event loop (within the server's time budget), then call
        ``done(move, error)`` back on it."""

    def new_match(self) -> tuple[str, int]:
        """A fresh match id (public) and a 63-bit seed for its randomness (never sent)."""

    def deliver(self, member_ids: Iterable[str], message: dict[str, Any], exclude: str | None = None) -> None:
        """Send ``message`` to each of ``member_ids`` (but ``exclude``) that is connected; encoded once."""

    def deliver_run(self, member_ids: Iterable[str], run: OutgoingRun, exclude: str) -> None:
        """``deliver`` each message of ``run`` in order, to the same members: one call per member
        for all of them (a relay room passing on a ``RelayRun``)."""

    def send(self, member_id: str, message: dict[str, Any]) -> None:
        """Send ``message`` to one member, if it is connected."""

    def is_connected(self, member_id: str) -> bool: ...

    def room_emptied(self, room: Room) -> None: ...

    def room_changed(self, room: Room) -> None:
        """The room's lobby description changed (members, status): publish it."""


def member_json(member: Member, role: str, seat: int | None = None, bot: str | None = None) -> dict[str, Any]:
    """How a member appears in member events and room listings (the same keys for every room)."""
    return {"id": member.id, "name": member.name, "role": role, "seat": seat, "bot": bot}


class Room:
    """Members, privacy and the lobby description shared by every kind of room."""

    kind: ClassVar[str] = ""

    def __init__(self, host: RoomHost, game: str, *, room_id: str, code: str | None) -> None:
        self.host = host
        self.id = room_id
        self.game = game
        self.code = code
        self.closed = False

    @property
    def private(self) -> bool:
        return self.code is not None

    @property
    def clock(self) -> str | None:
        """The room's time control, as quick-match compares them (None: no clock)."""
        return None

    def is_open(self) -> bool:
        """Whether quick-match may put a new player here."""
        raise NotImplementedError

    def member_ids(self) -> Iterator[str]:
        """Every member (players and spectators, connected or away), by id."""
        raise NotImplementedError

    def has_member(self, member_id: str) -> bool:
        raise NotImplementedError

    def join(self, member: Member, *, spectate: bool) -> dict[str, Any]:
        """Add a member and return the ``joined`` reply; raise ProtocolError to refuse."""
        raise NotImplementedError

    def after_join(self, member_id: str) -> None:
        """Called once the joined reply has been sent: bring the member up to date, maybe start."""

    def leave(self, member_id: str) -> None:
        raise NotImplementedError

    def member(self, member_id: str) -> dict[str, Any]:
        """How a member appears in member events: id, name, role, seat, bot."""
        raise NotImplementedError

    def joined(self, member_id: str, *, resumed: bool = False) -> dict[str, Any]:
        """The ``joined`` message for a member (the code too: a member may share it)."""
        info = self.member(member_id)
        message: dict[str, Any] = {
            "type": "joined",
            "room": self.info(),
            "role": info["role"],
            "seat": info["seat"],
        }
        if self.code is not None:
            message["code"] = self.code
        if resumed:
            message["resumed"] = True
        return message

    def member_away(self, member_id: str) -> None:
        """A member's connection dropped; it may come back within the grace period."""
        self.host.room_changed(self)
        self.broadcast({"type": "member_disconnected", "room": self.id, "member": self.member(member_id)})

    def member_back(self, member_id: str, *, announce: bool = True) -> None:
        """A member came back: bring it up to date, then (if it had been away) tell the others."""
        self.host.room_changed(self)
        self.host.send(member_id, self.joined(member_id, resumed=True))
        if announce:
            self.broadcast(
                {"type": "member_reconnected", "room": self.id, "member": self.member(member_id)}, member_id
            )

    def info(self) -> dict[str, Any]:
        """The room as the lobby lists it (never the private code)."""
        raise NotImplementedError

    def broadcast(self, message: dict[str, Any], exclude: str | None = None) -> None:
        """Send ``message`` to every member but ``exclude``, encoded once."""
        self.host.deliver(self.member_ids(), message, exclude)

    def close(self) -> None:
        self.closed = True

    def _check_empty(self) -> None:
        if next(self.member_ids(), None) is None:
            self.host.room_emptied(self)
