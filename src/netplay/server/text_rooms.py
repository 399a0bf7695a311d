"""15-112 text clients in netplay's relay rooms: ids, room assignment, and the bridge both ways.

Text clients are members of ordinary ``RelayRoom``s whose game label is ``"15-112"``
(``TEXT_GAME``): the rooms have ids, sit in the registry, show in the lobby, and netplay clients
join them with ``join_room`` or ``quick_match("15-112", kind="relay")``. A text member takes room
events through the room's per-member hook (``RelayRoom.hooks``) and turns them into lines:

    member_joined        -> newPlayer ID
    member_left          -> playerLeft ID                         (only with text_leave_notice)
    relay from a netplay member, data {"instr": I, "details": D} or "I D"  -> I SENDER D

A line from a text member goes byte for byte to the other text members, and as a ``relay`` event
with data ``{"instr", "details", "line"}`` to the netplay members (see ``data_from_line``).

Room assignment: a new text client joins the oldest public 15-112 relay room with fewer than
``text_room_size`` members (netplay members count; without the setting, the room's own cap), else
a new room. A seat freed by someone leaving is filled by the next client to connect.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..transports.text import (
    DEFAULT_MAX_LINE,
    TEXT_GAME,
    IdPool,
    TextConnection,
    data_from_line,
    greeting,
    is_token,
    line_from_data,
    new_player_line,
    player_left_line,
    relay_line,
)
from .rooms import Member, RelayRoom
from .session import Session

if TYPE_CHECKING:
    from .config import ServerConfig
    from .hub import Hub

__all__ = ["TEXT_GAME", "TextLobby", "TextSession", "serve_text"]

log = logging.getLogger("netplay.text")


class TextSession(Session):
    """A text client: its id as a token for lines, its one room, and who it has seen."""

    __slots__ = ("conn", "lobby", "room", "seen", "token")

    def __init__(self, session_id: str, conn: TextConnection, now: float, lobby: TextLobby) -> None:
        super().__init__(session_id, conn, now)
        self.greeted = True
        self.conn = conn
        self.lobby = lobby
        self.token = session_id.encode("ascii")
        self.room: RelayRoom | None = None
        #: Every member this client has shared its room with: they may remember its id.
        self.seen: set[Session] = set()

    def on_room_event(self, message: dict[str, Any]) -> None:
        """The room hook: a message the room would have sent a netplay member, as lines."""
        kind = message.get("type")
        if kind == "relay":
            line = self.lobby.render(message)
            if line is not None:
                self.conn.write(line)
            return
        member = message.get("member")
        member_id = member.get("id") if isinstance(member, dict) else None
        if not isinstance(member_id, str) or not is_token(member_id):
            return
        if kind == "member_joined":
            self.conn.write(new_player_line(member_id))
            witness = self.lobby.hub.sessions.get(member_id)  # a netplay member (text ones: connect)
            if witness is not None:
                self.seen.add(witness)
        elif kind == "member_left" and self.lobby.leave_notice:
            self.conn.write(player_left_line(member_id))


class TextLobby:
    """Every text client of one server: hands out ids, seats clients in rooms, relays their lines."""

    def __init__(self, hub: Hub, config: ServerConfig) -> None:
        self.hub = hub
        self.game = TEXT_GAME
        self.ids = IdPool(config.text_names)
        room_size = config.text_room_size
        if room_size is not None and not 1 <= room_size <= config.max_relay_members:
            raise ValueError(
                f"text_room_size must be from 1 to max_relay_members ({config.max_relay_members})"
            )
        self.room_size = room_size or config.max_relay_members
        self.leave_notice = config.text_leave_notice
        self.max_line = config.text_max_line or DEFAULT_MAX_LINE
        if self.max_line < 1:
            raise ValueError("text_max_line must be at least 1")
        self.max_send_buffer = config.max_send_buffer
        self.sessions: dict[str, TextSession] = {}
        self.closing = False
        self._rendered_for: dict[str, Any] | None = None
        self._rendered: bytes | None = None

    # -- connections -------------------------------------------------------------------------------
    def connect(self, conn: TextConnection) -> TextSession | None:
        """Seat a new client and queue its greeting; None (close it) when no id is left to give."""
        if self.closing:
            return None
        if self.hub.connections + len(self.sessions) >= self.hub.config.max_connections:
            log.warning("refusing text client %s: the server is at max_connections", conn.peer)
            return None  # strict protocol: no error line, the connection is just closed
        player = self.ids.take(self.is_connected)
        if player is None:
            log.info("refusing text client %s: every player name is taken", conn.peer)
            return None
        session = TextSession(player, conn, self.hub.loop.time(), self)
        room = self._room_for(session)
        existing = [m for m in map(self._session_of, room.members) if m is not None]
        try:
            room.join(Member(player, player), spectate=False)  # tells the members: newPlayer / member_joined
        except Exception:
            self.ids.release(player)
            raise
        self.sessions[player] = session
        room.hooks[player] = session.on_room_event
        session.seen.update(existing)
        for member in existing:
            if isinstance(member, TextSession):
                member.seen.add(session)
        session.rooms[room.id] = room
        session.room = room
        conn.write(greeting(player, [m.id for m in existing if is_token(m.id)]))
        log.debug("text client %s (%s) joined room %s", player, conn.peer, room.id)
        return session

    def _room_for(self, session: TextSession) -> RelayRoom:
        for room in self.hub.registry.rooms(self.game):
            if (
                isinstance(room, RelayRoom)
                and room.code is None
                and not room.closed
                and room.is_open()
                and len(room.members) < self.room_size
                and session.id not in room.members
            ):
                return room
        room = RelayRoom(
            self.hub, self.game, room_id=self.hub.registry.new_room_id(), max_members=self.room_size
        )
        self.hub.registry.add(room)
        return room

    def disconnect(self, session: TextSession) -> None:
        """The client is gone: leave its room (telling the others), free its id when safe."""
        if self.sessions.get(session.id) is not session:
            return
        del self.sessions[session.id]
        room = session.room
        session.room = None
        if room is not None:
            session.rooms.pop(room.id, None)
            room.leave(session.id)
            room.hooks.pop(session.id, None)
        self.ids.release(session.id, session.seen)
        log.debug("text client %s left", session.id)

    def _session_of(self, member_id: str) -> Session | None:
        return self.sessions.get(member_id) or self.hub.sessions.get(member_id)

    def is_connected(self, session: Any) -> bool:
        if isinstance(session, TextSession):
            return self.sessions.get(session.id) is session
        return isinstance(session, Session) and self.hub.sessions.get(session.id) is session

    def shutdown(self) -> None:
        """Close every text connection (nothing is said: the protocol has no words for it)."""
        self.closing = True
        for session in list(self.sessions.values()):
            session.conn.close()

    # -- lines ---------------------------------------------------------------------------------
    def relay_line(self, sender: TextSession, line: bytes) -> None:
        """Relay one line from ``sender`` to every other member of its room (or drop it)."""
        space = line.find(b" ")
        if space < 0 or space == len(line) - 1:
            return
        room = sender.room
        if room is None:
            return
        out = b"".join((line[:space], b" ", sender.token, line[space:], b"\n"))
        netplay_members = []
        for member_id in room.members:
            if member_id == sender.id:
                continue
            text_member = self.sessions.get(member_id)
            if text_member is not None:
                text_member.conn.write(out)
            else:
                netplay_members.append(member_id)
        if netplay_members:
            data = data_from_line(line[:space], line[space + 1 :])
            self.hub.deliver(
                netplay_members, {"type": "relay", "room": room.id, "from": sender.id, "data": data}
            )

    def render(self, message: dict[str, Any]) -> bytes | None:
        """The line for a netplay member's ``relay`` message, or None; computed once per message."""
        if message is self._rendered_for:
            return self._rendered
        sender = message.get("from")
        parsed = line_from_data(message.get("data"))
        line = None
        if parsed is not None and isinstance(sender, str) and is_token(sender):
            line = relay_line(parsed[0], sender.encode("ascii"), parsed[1])
        self._rendered_for, self._rendered = message, line
        return line


async def serve_text(hub: Hub, config: ServerConfig) -> tuple[TextLobby, asyncio.Server]:
    """Open the 15-112 text listener on ``config.host``:``config.text_port`` for ``hub``'s rooms."""
    lobby = TextLobby(hub, config)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        TextConnection.factory(lobby, loop),
        config.host,
        config.text_port,
        backlog=1024,
        reuse_address=True,
    )
    return lobby, server
