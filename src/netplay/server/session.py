"""One connected client, independent of its transport (TCP, WebSocket or the 15-112 text dialect)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..protocol import ProtocolError
from ..protocol.outgoing import Outgoing, OutgoingRun
from .lifecycle import SessionState, advance

if TYPE_CHECKING:
    from .rooms import Room

__all__ = ["Link", "Session"]


class Link(Protocol):
    """What a transport offers a session: queue a message, close, see the peer."""

    peer: str
    #: The transport, as ``/metrics`` names it: "tcp", "websocket" or "text".
    kind: str

    def rebind(self, session: Session | None) -> None:
        """Report this connection's events for ``session`` from now on (None: report nothing).

        The hub calls it when a client resumes an earlier session with its token.
        """

    def send(self, out: Outgoing) -> None:
        """Queue one message. A netplay link sends it encoded (``out.frame()`` or ``out.encode()``:
        made once for every link handed the same ``out``), with coalesced writes; a link of another
        protocol renders ``out.message`` its own way, or drops it (the 15-112 text link does both).
        """

    def send_run(self, run: OutgoingRun) -> None:
        """Queue several messages, in order, as ``send`` would each (``run.framed or run.frame()``,
        ``run.payloads or run.encode()`` or ``run.outs()``: each made once for every link)."""

    def close(self, error: ProtocolError | None = None) -> None:
        """Send ``error`` if given, flush, then close."""

    def abort(self) -> None:
        """Drop the connection now, discarding anything queued."""

    def backlog(self) -> int:
        """Bytes sent to this connection that its peer has not taken yet (queued here and in the
        transport's buffer): a real-time room sends no more views while it is large."""


class Session:
    """A player's identity, its rooms, and the link to reach it (None while it is away).

    A session outlives its connection: when the link drops, the session waits for its owner to
    come back with the session token (see Hub) before it gives up its seats.
    """

    __slots__ = (
        "allowance",
        "connected_at",
        "ending",
        "expiry",
        "heartbeat",
        "id",
        "last_seen",
        "link",
        "name",
        "pinged",
        "rate_checked",
        "rate_warned",
        "remote",
        "rooms",
        "state",
        "token_hash",
        "waiting",
    )

    def __init__(self, session_id: str, link: Link | None, now: float) -> None:
        self.id = session_id
        self.name = session_id
        self.link = link
        self.rooms: dict[str, Room] = {}
        #: In a cluster: the rooms it is in that other nodes own, and which node owns each.
        self.remote: dict[str, str] = {}
        #: In a cluster, while a quick-match is being seated: the requests that wait for it.
        self.waiting: list[dict[str, Any]] | None = None
        self.connected_at = now
        self.last_seen = now
        #: Where the session is in its life (server/lifecycle.py: every transition in one table).
        self.state = SessionState.CONNECTING
        self.pinged = False
        #: Whether the hub's sweep applies its handshake, heartbeat and idle timeouts. Not to a
        #: 15-112 text client: that protocol has no ping, so the kernel's keepalive finds dead peers.
        self.heartbeat = True
        #: SHA-256 of the session token: the token itself is never kept, logged or stored.
        self.token_hash: str | None = None
        #: While the link is down: the timer that ends the grace period.
        self.expiry: Any = None
        #: Why the server is ending the connection (a ``metrics.DISCONNECT_REASONS`` name), set just
        #: before it closes it; None: the client closed it, or the network dropped it.
        self.ending: str | None = None
        #: Token bucket of the message rate limit.
        self.allowance = 0.0
        self.rate_checked = now
        self.rate_warned = False

    @property
    def greeted(self) -> bool:
        """It said hello (or was restored): it has a player identity, connected or away."""
        return self.state is SessionState.GREETED or self.state is SessionState.AWAY

    def advance(self, event: str) -> None:
        """Move through the lifecycle table; an impossible move raises IllegalTransition."""
        self.state = advance(self.state, event)

    def send(self, message: dict[str, Any]) -> None:
        """Queue one message for this client (dropped while it is away)."""
        if self.link is not None:
            self.link.send(Outgoing(message))

    def __repr__(self) -> str:
        peer = self.link.peer if self.link is not None else "away"
        return f"<Session {self.id} {self.name!r} {peer}>"
