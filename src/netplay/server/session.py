"""One connected client, independent of its transport (TCP today, WebSocket and text tomorrow)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..protocol import ProtocolError, codec

if TYPE_CHECKING:
    from .rooms import Room

__all__ = ["Link", "Session"]


class Link(Protocol):
    """What a transport offers a session: queue an encoded message, close, see the peer."""

    peer: str

    def send_payload(self, payload: bytes) -> None:
        """Queue one encoded message; the transport frames it and coalesces writes."""

    def close(self, error: ProtocolError | None = None) -> None:
        """Send ``error`` if given, flush, then close."""

    def abort(self) -> None:
        """Drop the connection now, discarding anything queued."""


class Session:
    """A client's identity, its rooms, and the link to reach it."""

    __slots__ = ("connected_at", "greeted", "id", "last_seen", "link", "name", "pinged", "rooms")

    def __init__(self, session_id: str, link: Link, now: float) -> None:
        self.id = session_id
        self.name = session_id
        self.link = link
        self.rooms: dict[str, Room] = {}
        self.connected_at = now
        self.last_seen = now
        self.greeted = False
        self.pinged = False

    def send(self, message: dict[str, Any]) -> None:
        """Encode and queue one message for this client."""
        self.link.send_payload(codec.encode(message))

    def send_payload(self, payload: bytes) -> None:
        """Queue a message already encoded (a broadcast encodes once for every recipient)."""
        self.link.send_payload(payload)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}

    def __repr__(self) -> str:
        return f"<Session {self.id} {self.name!r} {self.link.peer}>"
