"""15-112 text clients in netplay's relay rooms: ids, room assignment, rendering, and the rate limit.

A text client is an ordinary session of the hub (in ``Hub.sessions``, counted against
``max_connections``) and an ordinary member of a ``RelayRoom`` whose game label is ``"15-112"``
(``TEXT_GAME``): the rooms have ids, sit in the directory, show in the lobby, and netplay clients
join them with ``join_room`` or ``quick_match("15-112", kind="relay")``. Its link (``TextMember``)
renders what the room sends it as lines, and drops everything else:

    member_joined        -> newPlayer ID
    member_left          -> playerLeft ID                         (only with text_leave_notice)
    relay from a netplay member, data {"instr": I, "details": D} or "I D"  -> I SENDER D

A line from a text member goes through ``RelayRoom.relay`` like any relay, with data
``{"instr", "details", "line"}`` for the netplay members (see ``data_from_line``); the other text
members get the line byte for byte. Lines are rate limited by the hub's ``rate_limit`` and
``rate_burst``, by backpressure: past the rate the connection stops reading until the token bucket
allows the next line, so nothing is dropped and a flooding client only slows itself.

Room assignment: a new text client joins the oldest public 15-112 relay room with fewer than
``text_room_size`` members (netplay members count; without the setting, the room's own cap) where
someone can still send, else the oldest such room at all, else a new room. A seat freed by someone
leaving is filled by the next client to connect. Ids: ``IdPool``, a name free again the moment its
holder has left; nothing is kept of a client that left.

In a cluster (``--redis``), a text client is seated like a netplay client's quick-match: in the
oldest public 15-112 room with a place on any node (claimed atomically in Redis), else in a new
room of its own node. So the clients of a class meet whichever node (or ``--workers`` process)
each connected to, and share rooms with netplay clients of every node. Its node reads none of its
lines until it is seated, then greets it from the room's ``joined``; its lines for a room of
another node go there as the relay requests of a netplay client. Ids come from blocks of numbers
each node reserves in Redis (``IdBlocks``), unique across the cluster; a names list
(``text_names``) is one process's only.

Half-closed clients (``TextConnection``: they shut their sending side, or closed; a FIN cannot say
which) are still members and still sent everything, but they give way: before a newcomer would be
refused (no name free, the server at ``max_connections``) or start a room alone while every room is
full, the client that stopped sending longest ago leaves, and the newcomer takes its place. So a
client that closed its socket in a quiet room (no line reaches it, so no reset tells the server it
is gone) never locks anyone out.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..protocol import ProtocolError
from ..protocol.outgoing import Outgoing, OutgoingRun
from ..protocol.text112 import (
    DEFAULT_MAX_LINE,
    TEXT_GAME,
    IdBlocks,
    IdPool,
    data_from_line,
    greeting,
    is_token,
    line_from_data,
    new_player_line,
    parse_line,
    player_left_line,
    relay_line,
)
from ..transports.text import TextConnection
from .rooms import Member, RelayRoom
from .session import Session

if TYPE_CHECKING:
    from .config import ServerConfig
    from .hub import Hub

__all__ = ["TEXT_GAME", "TextLobby", "TextMember", "serve_text"]

log = logging.getLogger("netplay.text")

#: Ids a node of a cluster reserves in Redis at a time (the next block when half are used).
ID_BLOCK = 256


class TextMember:
    """One text client: the session ``Link`` that renders room messages as lines, and its room."""

    __slots__ = ("conn", "id", "lobby", "peer", "room", "room_id", "session", "token")
    kind = "text"

    def __init__(self, lobby: TextLobby, conn: TextConnection[TextMember], player: str, now: float) -> None:
        self.lobby = lobby
        self.conn = conn
        self.peer = conn.peer
        self.id = player
        self.token = player.encode("ascii")
        self.session: Session | None = Session(player, self, now)
        self.session.advance("hello")  # the server speaks first: the greeting is the handshake
        self.session.heartbeat = False  # no pings in this protocol: the kernel's keepalive instead
        #: Its room when this process seated it (one process alone); in a cluster, None.
        self.room: RelayRoom | None = None
        #: Its room's id, once it is seated (the greeting has gone).
        self.room_id: str | None = None

    # -- Link ----------------------------------------------------------------------------------
    def rebind(self, session: Session | None) -> None:
        """Text clients have no token, so the hub never moves one to another session; None detaches."""
        self.session = session

    def send(self, out: Outgoing) -> None:
        line = self.lobby.render(self, out)
        if line is not None:
            self.conn.write(line)

    def send_run(self, run: OutgoingRun) -> None:
        for out in run.outs():
            self.send(out)

    def close(self, error: ProtocolError | None = None) -> None:
        """Flush and close; ``error`` is not sent (there is no way to say it in this protocol)."""
        self.conn.close()

    def abort(self) -> None:
        self.conn.abort()

    def backlog(self) -> int:
        """Text clients are never in real-time rooms (they have relay rooms only)."""
        return 0


class TextLobby:
    """Every text client of one server: hands out ids, seats clients in rooms, takes their lines.

    It is the text connections' ``LineHandler``.
    """

    def __init__(self, hub: Hub, config: ServerConfig) -> None:
        self.hub = hub
        self.game = TEXT_GAME
        #: The hub's side of a cluster (``--redis``), or None: this process alone.
        self.cluster = hub.cluster
        if self.cluster is not None and config.text_names:  # (one list, held in Redis: not yet)
            raise ValueError(
                "text_names cannot be used in a cluster: each node would hand out the same names"
            )
        self.ids: IdPool | IdBlocks = IdBlocks() if self.cluster is not None else IdPool(config.text_names)
        self._reserving: asyncio.Task[None] | None = None
        room_size = config.text_room_size
        if room_size is not None and not 1 <= room_size <= config.max_relay_members:
            raise ValueError(
                f"text_room_size must be from 1 to max_relay_members ({config.max_relay_members})"
            )
        self.room_size = room_size or config.max_relay_members
        if self.cluster is not None and self.room_size < 2:
            raise ValueError("text_room_size must be at least 2 in a cluster (its rooms are quick-matched)")
        self.leave_notice = config.text_leave_notice
        self.max_line = config.text_max_line or DEFAULT_MAX_LINE
        if self.max_line < 1:
            raise ValueError("text_max_line must be at least 1")
        self.max_send_buffer = config.max_send_buffer
        self.rate = config.rate_limit
        self.burst = float(config.rate_burst)
        self.sessions: dict[str, TextMember] = {}
        #: Members that have stopped sending (half-closed), in the order they did.
        self.stopped: dict[str, TextMember] = {}
        self.closing = False
        self._time = hub.loop.time
        # The line being relayed (its data dict, and the line text members get), so that rendering
        # the relay gives them the client's bytes, not a re-encoding of the UTF-8-decoded data.
        #: Lines the room's check refused (dropped: the text protocol cannot say so).
        self.refused = 0
        self._line_data: dict[str, str] | None = None
        self._line: bytes | None = None
        # The last relay rendered: one line for every text member a broadcast reaches.
        self._rendered_for: Outgoing | None = None
        self._rendered: bytes | None = None

    async def start(self) -> None:
        """In a cluster, reserve the first block of ids before the first client comes."""
        if self.cluster is not None:
            await self._reserve_ids()

    async def _reserve_ids(self) -> None:
        assert self.cluster is not None and isinstance(self.ids, IdBlocks)
        first = await self.cluster.reserve_text_ids(ID_BLOCK)
        self.ids.add(first, ID_BLOCK)

    def _more_ids(self) -> None:
        """Fewer than half a block left: reserve the next, while this one lasts."""
        if self._reserving is None or self._reserving.done():
            self._reserving = asyncio.create_task(self._reserve_more(), name="netplay-text-ids")

    async def _reserve_more(self) -> None:
        try:
            await self._reserve_ids()
        except Exception as exc:  # Redis out of reach: tried again at the next client
            log.warning("could not reserve text ids in Redis: %s", exc, extra={"event": "cluster_error"})

    # -- LineHandler ---------------------------------------------------------------------------
    def open(self, conn: TextConnection[TextMember]) -> TextMember | None:
        """Seat a new client and queue its greeting; None (close it) when it cannot be given an id."""
        hub = self.hub
        if self.closing or hub.closing:
            return None
        if hub.connections >= hub.config.max_connections and not self._make_way():
            log.warning(
                "refusing text client %s: the server is at max_connections", conn.peer,
                extra={"event": "refused", "peer": conn.peer, "transport": "text",
                       "reason": "max_connections"},
            )  # fmt: skip
            return None  # strict protocol: no error line, the connection is just closed
        player = self.ids.take()
        if isinstance(self.ids, IdBlocks):
            if self.ids.left < ID_BLOCK // 2:
                self._more_ids()
        elif player is None and self._make_way():
            player = self.ids.take()
        if player is None:
            log.info(
                "refusing text client %s: every player name is taken", conn.peer,
                extra={"event": "refused", "peer": conn.peer, "transport": "text", "reason": "names_taken"},
            )  # fmt: skip
            return None
        member = TextMember(self, conn, player, hub.loop.time())
        session = member.session
        assert session is not None
        if not hub.admit(session):
            log.warning(
                "refusing text client %s: the id %s is a netplay session's", conn.peer, player,
                extra={"event": "refused", "peer": conn.peer, "transport": "text", "reason": "id_taken"},
            )  # fmt: skip
            self.ids.release(player)
            return None
        if self.cluster is not None:
            return self._seat_in_cluster(member)
        room: RelayRoom | None = None
        try:
            room = self._room_for(player)
            existing = [member_id for member_id in room.members if is_token(member_id)]
            room.join(Member(player, player), spectate=False)  # tells the members: newPlayer / member_joined
        except Exception:
            hub.disconnect(session)
            self.ids.release(player)
            if room is not None and not room.members:  # a room made for it must not stay behind
                hub.room_emptied(room)
            raise
        session.rooms[room.id] = room
        member.room = room
        member.room_id = room.id
        self.sessions[player] = member
        conn.write(greeting(player, existing))
        log.debug(
            "text client %s (%s) joined room %s", player, conn.peer, room.id,
            extra={"event": "hello", "player": player, "peer": conn.peer, "room": room.id},
        )  # fmt: skip
        return member

    def _seat_in_cluster(self, member: TextMember) -> TextMember:
        """Quick-match the new client into a 15-112 room of any node; its lines wait until then."""
        session = member.session
        assert session is not None
        self.sessions[member.id] = member
        member.conn.pause()
        request = {
            "type": "quick_match",
            "kind": "relay",
            "game": self.game,
            "max_members": self.room_size,
            "id": 0,
        }
        self.hub.handle_request(session, request)
        return member

    def line(self, member: TextMember, line: bytes) -> float:
        """Relay one line from ``member`` to the others in its room (or drop it); then the rate limit."""
        session = member.session
        if session is None:
            return 0.0
        parsed = parse_line(line)
        room_id = member.room_id
        if parsed is not None and room_id is not None:
            instr, details = parsed
            data = data_from_line(instr, details)
            room = member.room if self.cluster is None else session.rooms.get(room_id)
            if isinstance(room, RelayRoom):
                self._line_data, self._line = data, relay_line(instr, member.token, details)
                try:
                    room.relay(session.id, data)
                except ProtocolError:  # refused by the room's check: the protocol has no errors to say so
                    self.refused += 1
                finally:
                    self._line_data = self._line = None
            elif room is None and room_id in session.remote:  # another node's room: its owner relays
                self.hub.handle_request(session, {"type": "relay", "room": room_id, "data": data})
        return self._wait(session) if self.rate else 0.0

    def half_closed(self, member: TextMember) -> None:
        """The client sends no more: it stays, written to, until it is gone or its place is needed."""
        if self.sessions.get(member.id) is member:
            self.stopped[member.id] = member

    def lost(self, member: TextMember) -> None:
        """The client is gone: it leaves its room (telling the others), and its id is free again."""
        if self.sessions.get(member.id) is not member:
            return
        del self.sessions[member.id]
        self.stopped.pop(member.id, None)
        member.room = None
        if member.session is not None:
            if member.conn.ending is not None:
                member.session.ending = member.conn.ending
            self.hub.disconnect(member.session, member)  # leaves its room: it has no token to come back
        self.ids.release(member.id)
        log.debug("text client %s left", member.id, extra={"event": "left", "player": member.id})

    # -- the rate limit ------------------------------------------------------------------------
    def _wait(self, session: Session) -> float:
        """Token bucket of the hub's rate limit: a line took a token; the seconds until the next may.

        The same ``rate_limit`` and ``rate_burst`` as netplay clients, but a text client is slowed
        down instead of refused: its protocol has no error to say so.
        """
        now = self._time()
        allowance = session.allowance + (now - session.rate_checked) * self.rate
        if allowance > self.burst:
            allowance = self.burst
        session.rate_checked = now
        session.allowance = allowance = allowance - 1.0
        return 0.0 if allowance >= 1.0 else (1.0 - allowance) / self.rate

    # -- rendering -----------------------------------------------------------------------------
    def render(self, member: TextMember, out: Outgoing) -> bytes | None:
        """The line ``member`` receives for a room message, or None (most messages have none)."""
        message = out.message
        kind = message.get("type")
        if kind == "relay":
            if out is not self._rendered_for:
                self._rendered_for, self._rendered = out, self._relay_line(message)
            return self._rendered
        if self.cluster is not None and (member.room_id is None or kind in ("error", "room_closed")):
            return self._seat_or_end(member, message)
        info = message.get("member")
        member_id = info.get("id") if isinstance(info, dict) else None
        if not isinstance(member_id, str) or not is_token(member_id):
            return None
        if kind == "member_joined":
            return new_player_line(member_id)
        if kind == "member_left" and self.leave_notice:
            return player_left_line(member_id)
        return None

    def _seat_or_end(self, member: TextMember, message: dict[str, Any]) -> bytes | None:
        """In a cluster: the greeting once the quick-match seats it (or the end, if it cannot be);
        a refusal counted; the end when its room closes (its node is gone)."""
        kind = message.get("type")
        if member.room_id is None:
            if kind == "joined":
                room = message["room"]
                member.room_id = room["id"]
                others = [m["id"] for m in room["members"] if m["id"] != member.id and is_token(m["id"])]
                member.conn.resume()
                log.debug(
                    "text client %s (%s) joined room %s", member.id, member.peer, room["id"],
                    extra={"event": "hello", "player": member.id, "peer": member.peer, "room": room["id"]},
                )  # fmt: skip
                return greeting(member.id, others)
            if kind == "error":
                log.warning(
                    "text client %s (%s) could not be seated: %s", member.id, member.peer, message["message"],
                    extra={"event": "refused", "peer": member.peer, "transport": "text",
                           "reason": message.get("code")},
                )  # fmt: skip
                member.conn.close()  # strict protocol: no error line, the connection is just closed
        elif kind == "error" and message.get("code") == "relay_refused":
            self.refused += 1  # dropped: the protocol cannot say so
        elif kind == "room_closed" and message.get("room") == member.room_id:
            member.conn.close()  # the protocol has no way to say so: the client sees its server go
        return None

    def _relay_line(self, message: dict[str, Any]) -> bytes | None:
        data = message.get("data")
        if data is not None and data is self._line_data:
            return self._line  # a text member's line, byte for byte
        sender = message.get("from")
        parsed = line_from_data(data)
        if parsed is None or not isinstance(sender, str) or not is_token(sender):
            return None
        return relay_line(parsed[0], sender.encode("ascii"), parsed[1])

    # -- seats -----------------------------------------------------------------------------------
    def _room_for(self, player: str) -> RelayRoom:
        """The room a new client joins (see the module's docstring); made and hosted if need be."""
        quiet: RelayRoom | None = None  # the oldest with a place, where nobody can send any more
        stopped = self.stopped
        for room in self.hub.rooms.values():
            if (
                isinstance(room, RelayRoom)
                and room.game == self.game
                and room.code is None
                and self._has_place(room)
                and player not in room.members
            ):
                if not stopped or any(m not in stopped for m in room.members):
                    return room
                if quiet is None:
                    quiet = room
        if quiet is not None:
            return quiet
        for member in stopped.values():  # every room is full: the longest half-closed gives way
            full = member.room
            if full is not None and full.code is None and not full.closed:
                self._give_way(member)
                if self._has_place(full):
                    return full
                break
        room = RelayRoom(
            self.hub,
            self.game,
            room_id=self.hub.directory.new_room_id(),
            max_members=self.room_size,
            check=self.hub.relay_checks.get(self.game),
        )
        self.hub.host_room(room)
        return room

    def _has_place(self, room: RelayRoom) -> bool:
        return not room.closed and room.is_open() and len(room.members) < self.room_size

    def _make_way(self) -> bool:
        """A newcomer needs a name or a connection: the client that stopped sending longest ago
        leaves. False when every client can still send."""
        oldest = next(iter(self.stopped.values()), None)
        if oldest is None:
            return False
        self._give_way(oldest)
        return True

    def _give_way(self, member: TextMember) -> None:
        """A half-closed client's place is needed: it leaves now (it may well have closed long ago)."""
        log.debug(
            "text client %s (%s) stopped sending and gives its place up", member.id, member.peer,
            extra={"event": "gave_way", "player": member.id, "peer": member.peer},
        )  # fmt: skip
        self.lost(member)
        member.conn.abort()

    def shutdown(self) -> None:
        """Close every text connection (nothing is said: the protocol has no words for it)."""
        self.closing = True
        if self._reserving is not None:
            self._reserving.cancel()  # (a block of ids being reserved: nobody will take them now)
        for member in list(self.sessions.values()):
            member.conn.close()


async def serve_text(hub: Hub, config: ServerConfig) -> tuple[TextLobby, asyncio.Server]:
    """Open the 15-112 text listener on ``config.host``:``config.text_port`` for ``hub``'s rooms."""
    lobby = TextLobby(hub, config)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        TextConnection.factory(
            lobby, loop, max_line=lobby.max_line, max_send_buffer=lobby.max_send_buffer, counts=hub.stats.text
        ),
        config.host,
        config.text_port,
        backlog=1024,
        reuse_address=True,
    )
    return lobby, server
