"""Server settings, each with a safe default. docs/operations.md lists them for operators."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

from ..protocol import DEFAULT_MAX_FRAME
from .bots import default_bot_workers

__all__ = ["ServerConfig"]


@dataclass(slots=True)
class ServerConfig:
    """Limits and timeouts for one server. Times are in seconds, sizes in bytes."""

    host: str = "127.0.0.1"
    port: int = 7777
    #: Largest message a client may send (and the server will send).
    max_frame: int = DEFAULT_MAX_FRAME
    #: A client must say hello within this time of connecting.
    handshake_timeout: float = 10.0
    #: The server pings a client it has not heard from for this long.
    heartbeat_interval: float = 15.0
    #: A client silent for this long (no pong either) is disconnected.
    idle_timeout: float = 45.0
    #: Bytes queued for a client that is not reading; past this it is disconnected.
    max_send_buffer: int = 1024 * 1024
    #: Rooms one connection may be in at once.
    max_rooms_per_client: int = 8
    #: Members of a relay room unless the creator asks for fewer.
    max_relay_members: int = 64
    #: Spectators per match room.
    max_spectators: int = 64
    #: Seconds a player may take over a move in a room without a time control; past it the game's
    #: timeout policy applies (by default the player loses on time). 0: no limit.
    move_timeout: float = 300.0
    #: Pause before a server-side bot moves, so humans can follow the game.
    bot_delay: float = 0.4
    #: Worker processes server-side bots think in (started at a bot's first move), off the event
    #: loop's core; 0: threads of the server process. Default: one per core but the server's.
    bot_workers: int = field(default_factory=default_bot_workers)
    #: Seconds a bot may think over one move; past them a random legal move is played for it.
    bot_time: float = 10.0
    #: How often timeouts are checked.
    sweep_interval: float = 1.0
    #: A player who drops keeps its seats this long, waiting to come back with its session token.
    reconnect_grace: float = 60.0
    #: Messages per second a connection may send on average (0: no limit) ...
    rate_limit: float = 200.0
    #: ... and in a burst. A client that keeps sending this many more while limited is cut off.
    rate_burst: int = 400
    #: Bytes per second a TCP or WebSocket connection may send on average (0: no limit) ...
    byte_rate: float = 1024 * 1024
    #: ... and at once. Past them the server stops reading from that connection until it is back
    #: within the rate (TCP slows the sender down): nothing is refused or lost. Keep the burst plus
    #: one read (256 KiB) under ``max_send_buffer``, so that a burst relayed to members who read
    #: at the sender's rate never fills their send buffers.
    byte_burst: int = 512 * 1024
    #: Sockets at once, of every listener and whatever they speak (netplay, HTTP, WebSocket,
    #: 15-112 text); one more is refused (a netplay client with ``server_full``) and closed.
    max_connections: int = 20_000
    #: Sockets at once from one IP address (IPv6: one /64); one more is refused like one past
    #: ``max_connections``. 0: no limit (behind a reverse proxy every client has the proxy's address).
    max_connections_per_address: int = 256
    #: SQLite file where matches are kept (None or ":memory:": nothing is kept).
    db: str | None = None
    #: fsync every move (survives power loss), not only write it (survives a crash of the process).
    db_durable: bool = False
    #: PEM certificate and key: the TCP port (and the web page and WebSocket on it) speak TLS.
    tls_cert: str | None = None
    tls_key: str | None = None

    def ssl_context(self) -> ssl.SSLContext | None:
        """The server's TLS context, or None for plain TCP."""
        if self.tls_cert is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.tls_cert, self.tls_key)
        return context

    # -- the 15-112 text protocol (docs/15-112.md) --
    #: Port of the text listener; None: no text listener; 0: any free port (see Server.text_port).
    text_port: int | None = None
    #: Ids handed to text clients in join order; the list length caps the players. Empty: Player1, ...
    text_names: tuple[str, ...] = ()
    #: The first N text clients share a room, the next N the next one. None: up to max_relay_members.
    text_room_size: int | None = None
    #: Tell text clients ``playerLeft ID`` when a member leaves (an extension the original lacks).
    text_leave_notice: bool = False
    #: Longest line a text client may send (bytes, without the newline); longer: it is disconnected.
    text_max_line: int = 64 * 1024
    # -- the browser: web page over HTTP, netplay over WebSocket (docs/javascript.md) --
    #: Serve the web client and accept WebSocket connections (at /ws).
    web: bool = True
    #: None: on ``port``, told apart from TCP clients by their first bytes; else a port of its own
    #: (0: any free port, see Server.web_port).
    web_port: int | None = None
    #: None: pages from any origin may open a WebSocket. Else only the server's own pages and these
    #: origins (e.g. "https://example.com"); clients that send no Origin (not browsers) always may.
    web_origins: tuple[str, ...] | None = None

    # -- operations (docs/operations.md) --
    #: The admin token (``/admin``, ``netplay admin``); None: no admin at all. Never logged.
    admin_token: str | None = field(default=None, repr=False)
    #: A port of its own for ``/metrics``, ``/healthz`` and ``/readyz`` (0: any free port); None:
    #: only on the web port (they are always there while the web side is on).
    metrics_port: int | None = None

    # -- a cluster of nodes (docs/cluster.md) --
    #: ``redis://HOST:PORT/DB``: join the cluster that Redis holds together; None: one process alone.
    redis: str | None = None
    #: This node's name in the cluster (None: one is made up, unique).
    node_name: str | None = None
    #: Seconds a node's lease lasts: a node silent for this long is taken for dead, and the other
    #: nodes adopt its rooms.
    cluster_lease: float = 10.0
    #: Seconds a batch of messages for another node waits for more before it goes: a little
    #: latency across nodes for much less CPU per message (0: at the end of each loop turn).
    cluster_batch_delay: float = 0.001
    #: Listening sockets are shared with other processes of this machine (``serve --workers``).
    reuse_port: bool = False

    def __post_init__(self) -> None:
        smallest = min(self.handshake_timeout, self.heartbeat_interval, self.idle_timeout)
        self.sweep_interval = min(self.sweep_interval, max(smallest / 4, 0.01))
