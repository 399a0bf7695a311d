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

    def rebind(self, session: Session | None) -> None:
        """Report this connection's events for ``session`` from now on (None: report nothing).

        The hub calls it when a client resumes an earlier session with its token.
        """

    def send_payload(self, payload: bytes) -> None:
        """Queue one encoded message; the transport frames it and coalesces writes."""

    def close(self, error: ProtocolError | None = None) -> None:
        """Send ``error`` if given, flush, then close."""

    def abort(self) -> None:
        """Drop the connection now, discarding anything queued."""


class Session:
    """A player's identity, its rooms, and the link to reach it (None while it is away).

    A session outlives its connection: when the link drops, the session waits for its owner to
    come back with the session token (see Hub) before it gives up its seats.
    """

    __slots__ = (
        "allowance",
        "connected_at",
        "expiry",
        "greeted",
        "id",
        "last_seen",
        "link",
        "name",
        "pinged",
        "rate_checked",
        "rate_warned",
        "rooms",
        "token_hash",
    )

    def __init__(self, session_id: str, link: Link | None, now: float) -> None:
        self.id = session_id
        self.name = session_id
        self.link = link
        self.rooms: dict[str, Room] = {}
        self.connected_at = now
        self.last_seen = now
        self.greeted = False
        self.pinged = False
        #: SHA-256 of the session token: the token itself is never kept, logged or stored.
        self.token_hash: str | None = None
        #: While the link is down: the timer that ends the grace period.
        self.expiry: Any = None
        #: Token bucket of the message rate limit.
        self.allowance = 0.0
        self.rate_checked = now
        self.rate_warned = False

    @property
    def connected(self) -> bool:
        return self.link is not None

    def send(self, message: dict[str, Any]) -> None:
        """Encode and queue one message for this client (dropped while it is away)."""
        if self.link is not None:
            self.link.send_payload(codec.encode(message))

    def send_payload(self, payload: bytes) -> None:
        """Queue a message already encoded (a broadcast encodes once for every recipient)."""
        if self.link is not None:
            self.link.send_payload(payload)

    def __repr__(self) -> str:
        peer = self.link.peer if self.link is not None else "away"
        return f"<Session {self.id} {self.name!r} {peer}>"
