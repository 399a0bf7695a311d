"""Server settings, each with a safe default. docs/operations.md lists them for operators."""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol import DEFAULT_MAX_FRAME

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
    #: Pause before a server-side bot moves, so humans can follow the game.
    bot_delay: float = 0.4
    #: How often timeouts are checked.
    sweep_interval: float = 1.0

    def __post_init__(self) -> None:
        smallest = min(self.handshake_timeout, self.heartbeat_interval, self.idle_timeout)
        self.sweep_interval = min(self.sweep_interval, max(smallest / 4, 0.01))
