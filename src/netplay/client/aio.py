"""The asyncio client: connect, find a room, send moves, and ``async for event in client``."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl as ssl_module
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..games.realtime import RealtimeGame
from ..protocol import PROTOCOL_VERSIONS, ClientConnection, Message, Rejected
from .realtime import Diverged, RealtimeView

__all__ = [
    "Address",
    "Client",
    "ConnectionClosed",
    "NetplayError",
    "ServersUnreachable",
    "format_server",
    "parse_server",
    "server_addresses",
]

#: A server's address: (host, port).
Address = tuple[str, int]
#: How a caller names a server: ``"HOST:PORT"`` (``"[::1]:7777"`` for IPv6) or ``(host, port)``.
ServerSpec = str | tuple[str, int]
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777
_MAX_PORT = 65535

_CLOSED = object()
_MAX_BACKLOG = 256
#: Ways a connection ends after which reconnecting makes sense (the server may be back soon).
_RETRYABLE = frozenset({"connection_lost", "server_shutdown", "idle_timeout", "server_full", "unavailable"})
#: How often a client in a real-time room times a ping, to know its round trip.
_RTT_EVERY = 2.0


def _lost(message: str) -> dict[str, Any]:
    return {"type": "error", "code": "connection_lost", "message": message}


#: Largest frame a client accepts. The server is trusted more than a client is: this only guards
#: against a broken stream, and leaves room for a relayed message plus the server's envelope.
CLIENT_MAX_FRAME = 16 * 1024 * 1024


class NetplayError(Exception):
    """The server refused a request; ``code`` is the stable error code from docs/protocol.md."""

    def __init__(self, code: str, message: str, reply: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.reply = reply or {}


class ConnectionClosed(NetplayError):
    """The connection ended (the server went away, or closed it with a reason)."""


class ServersUnreachable(ConnectionError):
    """No address of a client with several servers answered; ``failures``: each address, and why.

    An ``OSError`` (as a single unreachable server's error is), so code that catches those for one
    address catches this for several.
    """

    def __init__(self, failures: Sequence[tuple[Address, BaseException]]) -> None:
        self.failures = list(failures)
        tried = "; ".join(f"{format_server(*address)} ({_why(exc)})" for address, exc in self.failures)
        super().__init__(f"cannot reach a netplay server at any of: {tried}")


def _why(exc: BaseException) -> str:
    """Why one address failed, in a few words (for ``ServersUnreachable``'s message)."""
    if isinstance(exc, NetplayError):
        return f"{exc.code}: {exc.message}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def format_server(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets (``[::1]:7777``): what ``parse_server`` reads."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_server(text: str) -> Address:
    """``"HOST:PORT"`` (``"[::1]:7777"`` for IPv6) as ``(host, port)``; ValueError says what is wrong."""
    given = text.strip()
    shown = f"{text!r}: " if text else ""
    if given.startswith("["):
        close = given.find("]")
        if close == -1:
            raise ValueError(f"{shown}missing ']' after the IPv6 address (give [::1]:7777)")
        host, rest = given[1:close], given[close + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"{shown}expected ':PORT' after ']' (give [::1]:7777)")
        port_text = rest[1:]
    else:
        if given.count(":") > 1:
            raise ValueError(f"{shown}put an IPv6 address in brackets: [::1]:7777")
        host, _, port_text = given.partition(":")
    if not host:
        raise ValueError(f"{shown}missing host (give HOST:PORT, e.g. 127.0.0.1:7777)")
    if not port_text:
        raise ValueError(f"{shown}missing port (give HOST:PORT, e.g. {format_server(host, DEFAULT_PORT)})")
    if not port_text.isdigit():
        raise ValueError(f"{shown}port must be a whole number 1-{_MAX_PORT}, not {port_text!r}")
    port = int(port_text)
    if not 1 <= port <= _MAX_PORT:
        raise ValueError(f"{shown}port must be 1-{_MAX_PORT}")
    return host, port


def server_addresses(
    host: str | None = None, port: int | None = None, servers: Sequence[ServerSpec] | None = None
) -> tuple[Address, ...]:
    """The addresses a client tries, in order: ``servers``, or else ``host``:``port`` (by default
    127.0.0.1:7777). Giving ``servers`` and ``host`` or ``port`` too is a ValueError: which one
    was meant cannot be guessed."""
    if servers is None:
        return ((DEFAULT_HOST if host is None else host, DEFAULT_PORT if port is None else port),)
    if host is not None or port is not None:
        raise ValueError("give either host and port, or servers, not both")
    if isinstance(servers, str):
        raise TypeError(f"servers is a list of addresses: servers=[{servers!r}]")
    addresses: list[Address] = []
    for entry in servers:
        if isinstance(entry, str):
            addresses.append(parse_server(entry))
            continue
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise TypeError(f"a server is 'HOST:PORT' or (host, port), not {entry!r}")
        name, number = entry
        if not isinstance(name, str) or not name:
            raise ValueError(f"{entry!r}: missing host")
        if type(number) is not int or not 1 <= number <= _MAX_PORT:
            raise ValueError(f"{entry!r}: port must be 1-{_MAX_PORT}")
        addresses.append((name, number))
    if not addresses:
        raise ValueError("servers is empty: give at least one address")
    return tuple(addresses)


class Client:
    """A connection to a netplay server, for asyncio programs.

    Events are the server's messages as dicts (``{"type": "state", ...}``); docs/protocol.md lists
    them. Replies to ``await``-ed requests are returned by those calls instead of being queued.

    If the connection drops, the client reconnects on its own (with backoff, for up to the
    server's grace period) and resumes its session with its token: its seats and rooms come back
    and the server sends the current state. The events ``disconnected`` and ``reconnected``
    (``resumed``: whether the server still knew this client) tell the program. Messages sent while
    the link is down wait and go out after the reconnect; a move carries the version it was made
    against, so it is applied once or refused as stale, never twice.

    With several ``servers`` (the nodes of one cluster, where any node resumes any session), the
    first connection tries them in order; a reconnection tries the one after the address just
    lost first, then the others in turn, the lost one last (docs/clients.md, "Several servers").
    """

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        name: str | None = None,
        reconnect: bool = True,
        ssl: ssl_module.SSLContext | bool | None = None,
        max_frame: int = CLIENT_MAX_FRAME,
        token: str | None = None,
        servers: Sequence[ServerSpec] | None = None,
    ) -> None:
        #: Every address this client may use, in the order it tries them.
        self.servers = server_addresses(host, port, servers)
        self._index = 0  # which of them the current (or latest) connection is to
        self._attempt = 0  # ... and which one the attempt under way is to
        self.reconnect = reconnect
        self._name = name
        self._ssl = ssl
        self._max_frame = max_frame
        self._conn = ClientConnection(max_frame)
        self._writer: asyncio.StreamWriter | None = None
        self._ids = itertools.count(1)
        self._waiters: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._reader_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._backlog: list[bytes] = []  # messages sent while the link is down
        self._token: str | None = token  # a secret: never logged, never in a repr
        self._closing = False
        self._reconnecting = False
        self._opening = False  # connect() is trying its addresses: a failed attempt is its own to handle
        self._dropped: dict[str, Any] | None = None  # why the link ended while _opening
        self.welcome: dict[str, Any] = {}
        #: True once the connection has ended for good (no more reconnecting).
        self.closed = False
        #: Whether the link is up right now (False while reconnecting).
        self.connected = False
        self.close_reason: dict[str, Any] | None = None
        #: The room most recently joined; room arguments default to it.
        self.room: str | None = None
        #: The latest ``state`` message of each room.
        self.states: dict[str, dict[str, Any]] = {}
        #: This client's copy of each real-time room it is in (``client/realtime.py``): patches and
        #: keyframes update it as they arrive; they are not queued as events (keyframes are).
        self.views: dict[str, RealtimeView] = {}
        #: Rules to predict with, by game name (``predict_with``).
        self._rules: dict[str, RealtimeGame] = {}
        self._view_waiters: list[tuple[str, int, asyncio.Future[RealtimeView]]] = []
        self._rtt_sent: tuple[str, float] | None = None
        self._rtt_at = 0.0
        self._rtt_n = 0

    @classmethod
    async def connect(
        cls,
        host: str | None = None,
        port: int | None = None,
        *,
        name: str | None = None,
        timeout: float = 10.0,
        reconnect: bool = True,
        ssl: ssl_module.SSLContext | bool | None = None,
        token: str | None = None,
        servers: Sequence[ServerSpec] | None = None,
    ) -> Client:
        """Open a connection and complete the handshake; raise NetplayError if refused.

        ``host``:``port`` default to 127.0.0.1:7777. ``servers``: several addresses instead
        (``"HOST:PORT"`` or ``(host, port)``; not with ``host``/``port``), tried in order until one
        accepts and answers the hello, each within ``timeout``; a refusal that is not about that
        server alone (a bad name, say) is raised at once. If none answers, ServersUnreachable (an
        OSError) names each address and why. ``ssl``: True for TLS with the system's certificates,
        or an ``ssl.SSLContext``. ``token``: the session token of an earlier ``welcome``, to resume
        that session; ``welcome["resumed"]`` says whether the server still knew it (if not, this is
        a new session, in no room).
        """
        client = cls(host, port, name=name, reconnect=reconnect, ssl=ssl, token=token, servers=servers)
        try:
            await client._open_first(timeout)
        except BaseException:
            await client._shutdown(None)
            raise
        return client

    @property
    def server(self) -> Address:
        """The address of the current connection (while reconnecting: of the one lost)."""
        return self.servers[self._index]

    @property
    def host(self) -> str:
        return self.server[0]

    @property
    def port(self) -> int:
        return self.server[1]

    async def _open_first(self, timeout: float) -> None:
        """The first connection: each address in order, until one answers the hello.

        With one address its error is raised as it is; with several, ServersUnreachable lists them.
        """
        failures: list[tuple[Address, BaseException]] = []
        self._opening = True
        try:
            for index, address in enumerate(self.servers):
                try:
                    await self._open(timeout, index)
                except NetplayError as refused:
                    if len(self.servers) == 1 or refused.code not in _RETRYABLE:
                        raise  # the same answer from every node: no point asking the others
                    failures.append((address, refused))
                except OSError as exc:  # refused, unknown host, TLS failed, timed out
                    if len(self.servers) == 1:
                        raise
                    failures.append((address, exc))
                else:
                    break
            else:
                raise ServersUnreachable(failures) from failures[-1][1]
        finally:
            self._opening = False
        if not self.connected:
            # The link died right after its welcome: from here on that is the reconnect loop's to
            # handle, as for any link lost once the client is connected.
            self._link_lost(self._dropped or _lost("the server went away"))

    async def _open(self, timeout: float, index: int) -> dict[str, Any]:
        """Connect to ``self.servers[index]`` and say hello (with the session token, when
        resuming); return the welcome.

        An attempt that fails leaves nothing behind: its reader is cancelled and its socket closed,
        so a late answer on it can never be taken for the current connection's.
        """
        writer: asyncio.StreamWriter | None = None
        reader_task: asyncio.Task[None] | None = None
        self._attempt, self._dropped = index, None
        host, port = self.servers[index]
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, ssl=self._ssl or None)
                conn = ClientConnection(self._max_frame)
                self._conn, self._writer = conn, writer
                reader_task = self._reader_task = asyncio.create_task(self._read_loop(reader, writer, conn))
                hello: dict[str, Any] = {"type": "hello", "protocol": PROTOCOL_VERSIONS[-1]}
                if self._name:
                    hello["name"] = self._name
                if self._token:
                    hello["token"] = self._token
                return await self._call(hello)  # its dispatch marks the link up (see _dispatch)
        except BaseException:
            if writer is not None:
                if self._writer is writer:
                    self._writer = None
                writer.close()
            if reader_task is not None and reader_task is not asyncio.current_task():
                reader_task.cancel()
            raise

    # -- identity -------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The player id the server gave this client (the ``from`` of its relays, its seat's ``id``)."""
        return str(self.welcome.get("player", ""))

    @property
    def name(self) -> str:
        return str(self.welcome.get("name", ""))

    def seat(self, room: str | None = None) -> int | None:
        """This client's seat in the latest state of ``room`` (None for a spectator)."""
        state = self.states.get(room or self.room or "")
        if state is None:
            return None
        for player in state["players"]:
            if player is not None and player["id"] == self.id:
                return int(player["seat"])
        return None

    # -- requests -------------------------------------------------------------------------------
    def send_nowait(self, message: dict[str, Any], *, ack: bool = True) -> None:
        """Send a message without waiting; an error in reply comes back as an event.

        With ``ack`` the message gets an id, so the server answers it (``ok`` replies are dropped);
        relays go without, since acknowledging each one would double the traffic.
        """
        if self.closed:
            raise ConnectionClosed("closed", "the connection is closed")
        if ack and "id" not in message:
            message = {**message, "id": next(self._ids)}
        data = self._conn.send(message)
        if self.connected and self._writer is not None:
            self._writer.write(data)
        elif len(self._backlog) < _MAX_BACKLOG:
            self._backlog.append(data)  # goes out once the link is back
        else:
            raise NetplayError("disconnected", "the link is down and too many messages are waiting")

    async def _call(self, message: dict[str, Any]) -> dict[str, Any]:
        rid = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[rid] = future
        try:
            if self._writer is None or (not self.connected and message["type"] != "hello"):
                raise ConnectionClosed("disconnected", "the link is down; reconnecting")
            self._writer.write(self._conn.send({**message, "id": rid}))
            reply = await future
        finally:
            self._waiters.pop(rid, None)
        if reply.get("type") == "error":
            raise NetplayError(str(reply.get("code")), str(reply.get("message")), reply)
        return reply

    async def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send a request and return the server's reply; raise NetplayError if it refuses."""
        if self.closed:
            raise ConnectionClosed("closed", "the connection is closed")
        async with asyncio.timeout(timeout):
            return await self._call(message)

    async def list_games(self) -> list[dict[str, Any]]:
        return list((await self.request({"type": "list_games"}))["games"])

    async def list_rooms(self, game: str | None = None, *, most: int = 1000) -> list[dict[str, Any]]:
        """The lobby (of ``game``), oldest room first: page after page, up to ``most`` rooms."""
        message: dict[str, Any] = {"type": "list_rooms"}
        if game is not None:
            message["game"] = game
        rooms: list[dict[str, Any]] = []
        while len(rooms) < most:
            reply = await self.request(message)
            rooms.extend(reply["rooms"])
            if reply.get("next") is None:
                break
            message = {**message, "after": reply["next"]}
        return rooms[:most]

    async def create_room(
        self,
        game: str | None = None,
        *,
        kind: str = "match",
        private: bool = False,
        options: dict[str, Any] | None = None,
        max_members: int | None = None,
        spectate: bool = False,
        clock: str | None = None,
    ) -> dict[str, Any]:
        """Create a room and join it; returns the ``joined`` reply (with ``code`` if private).

        ``clock`` is a time control such as ``"300+5"``, ``"5m+3"`` or ``"30/move"``.
        """
        message: dict[str, Any] = {"type": "create_room", "kind": kind, "private": private}
        if game is not None:
            message["game"] = game
        if options:
            message["options"] = options
        if clock is not None:
            message["clock"] = clock
        if max_members is not None:
            message["max_members"] = max_members
        if spectate:
            message["spectate"] = True
        return await self.request(message)

    async def join(
        self, room: str | None = None, *, code: str | None = None, spectate: bool = False
    ) -> dict[str, Any]:
        """Join a room by id, or a private room by its code."""
        message: dict[str, Any] = {"type": "join_room", "spectate": spectate}
        if room is not None:
            message["room"] = room
        if code is not None:
            message["code"] = code
        return await self.request(message)

    async def quick_match(
        self,
        game: str,
        *,
        kind: str = "match",
        clock: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Join an open public room of ``game`` with time control ``clock``, made with each of the
        game ``options`` named (none named: any), or open one with them and wait there."""
        message: dict[str, Any] = {"type": "quick_match", "game": game, "kind": kind}
        if clock is not None:
            message["clock"] = clock
        if options:
            message["options"] = options
        return await self.request(message)

    async def leave(self, room: str | None = None) -> None:
        await self.request({"type": "leave_room", "room": self._room(room)})

    async def move(self, move: Any, *, room: str | None = None, version: int | None = None) -> None:
        """Send a move. The new state (or an ``error``) arrives as an event.

        ``version`` defaults to the latest state's, so a move made on stale information is refused.
        """
        room_id = self._room(room)
        if version is None and room_id in self.states:
            version = self.states[room_id]["version"]
        message: dict[str, Any] = {"type": "move", "room": room_id, "move": move}
        if version is not None:
            message["version"] = version
        self.send_nowait(message)

    async def rematch(self, room: str | None = None) -> None:
        self.send_nowait({"type": "rematch", "room": self._room(room)})

    async def resign(self, room: str | None = None) -> dict[str, Any]:
        """Give up the game in ``room``; returns the ``ok`` reply, raises NetplayError if refused."""
        return await self.request({"type": "resign", "room": self._room(room)})

    async def offer_draw(self, room: str | None = None) -> dict[str, Any]:
        """Offer a draw, or accept the others' offer (it is agreed once every seat has offered)."""
        return await self.request({"type": "offer_draw", "room": self._room(room)})

    async def decline_draw(self, room: str | None = None) -> dict[str, Any]:
        """Decline the draw offered (or withdraw this client's own offer); returns the ``ok`` reply."""
        return await self.request({"type": "decline_draw", "room": self._room(room)})

    async def add_bot(
        self, bot: str | None = None, room: str | None = None, *, level: int | None = None
    ) -> None:
        """Seat the server's bot (its first, if not named) in a free seat; ``level`` for a bot with
        levels (chess's "stockfish": 0 to 20)."""
        message: dict[str, Any] = {"type": "add_bot", "room": self._room(room)}
        if bot is not None:
            message["bot"] = bot
        if level is not None:
            message["level"] = level
        self.send_nowait(message)

    def predict_with(self, rules: RealtimeGame) -> None:
        """Predict this client's own movement in rooms of ``rules.name`` with ``rules.tick``."""
        self._rules[rules.name] = rules
        for view in self.views.values():
            if view.game_name == rules.name:
                view.rules = rules

    def view(self, room: str | None = None) -> RealtimeView:
        """This client's copy of a real-time room (KeyError if it is in no such room)."""
        return self.views[self._room(room)]

    async def next_view(
        self, room: str | None = None, *, after: int | None = None, timeout: float = 10.0
    ) -> RealtimeView:
        """Wait until a real-time room's view is past tick ``after`` (default: the tick it has now),
        and return it: a bot or a test steps once per view, with no clock of its own."""
        room_id = self._room(room)
        view = self.views[room_id]
        after = view.tick if after is None else after
        if view.tick > after:
            return view
        future: asyncio.Future[RealtimeView] = asyncio.get_running_loop().create_future()
        waiter = (room_id, after, future)
        self._view_waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            if waiter in self._view_waiters:
                self._view_waiters.remove(waiter)

    def send_input(self, data: Any, room: str | None = None) -> dict[str, Any]:
        """Send an input to a real-time room, stamped with its sequence number and tick; return it.

        Errors (an input the game refuses, one far too late) come back as events.
        """
        view = self.view(room)
        message = view.input(data, asyncio.get_running_loop().time())
        self.send_nowait(message, ack=False)
        return message

    async def relay(self, data: Any, room: str | None = None) -> None:
        """Send ``data`` to every other member of a relay room (not acknowledged)."""
        self.send_nowait({"type": "relay", "room": self._room(room), "data": data}, ack=False)

    def _room(self, room: str | None) -> str:
        room = room or self.room
        if room is None:
            raise NetplayError("not_in_room", "join a room first")
        return room

    # -- events ---------------------------------------------------------------------------------
    async def next_event(self, timeout: float | None = None) -> dict[str, Any]:
        """The next event; raise ConnectionClosed once the connection has ended."""
        async with asyncio.timeout(timeout):
            item = await self._events.get()
        if item is _CLOSED:
            self._events.put_nowait(_CLOSED)  # every later call sees the end too
            reason = self.close_reason or {}
            raise ConnectionClosed(
                str(reason.get("code", "closed")),
                str(reason.get("message", "connection closed")),
                reason,
            )
        return dict(item)

    def poll(self) -> list[dict[str, Any]]:
        """Every event already received, without waiting (the end of the connection is not one)."""
        events = []
        while not self._events.empty():
            item = self._events.get_nowait()
            if item is _CLOSED:
                self._events.put_nowait(_CLOSED)
                break
            events.append(dict(item))
        return events

    async def wait_for(self, kind: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """Skip events until one of type ``kind`` whose fields match ``fields``; return it."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.next_event()
                if event["type"] == kind and all(event.get(k) == v for k, v in fields.items()):
                    return event

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            try:
                yield await self.next_event()
            except ConnectionClosed:
                return

    # -- plumbing -------------------------------------------------------------------------------
    async def _read_loop(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: ClientConnection
    ) -> None:
        """Read one connection until it ends; ping a quiet server, and give up on a silent one."""
        reason: dict[str, Any] | None = None
        loop = asyncio.get_running_loop()
        heard = loop.time()
        try:
            while True:
                heartbeat = float(self.welcome.get("heartbeat", 15.0))
                idle = float(self.welcome.get("idle_timeout", 45.0))
                try:
                    async with asyncio.timeout(heartbeat):
                        data = await reader.read(65536)
                except TimeoutError:
                    if loop.time() - heard > idle:
                        reason = _lost("the server stopped answering")
                        break
                    writer.write(conn.send({"type": "ping"}))
                    continue
                if not data:
                    break
                heard = loop.time()
                for event in conn.receive_data(data):
                    if isinstance(event, Rejected):
                        reason = event.error.to_message()
                        reason["fatal"] = True
                        break
                    assert isinstance(event, Message)
                    self._dispatch(event.message, writer, conn)
                if reason is not None:
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            if reason is None:
                reason = self.close_reason if self.close_reason is not None else _lost("the server went away")
            writer.close()
            if self._writer is writer:
                self._link_lost(reason)

    def _dispatch(
        self, message: dict[str, Any], writer: asyncio.StreamWriter, conn: ClientConnection
    ) -> None:
        if writer is not self._writer:
            return  # a connection this client has already given up on
        kind = message["type"]
        if kind == "ping":
            writer.write(conn.send({"type": "pong"}))
            return
        if kind == "welcome":
            # The link is up from here: what follows (room snapshots, our own queued messages) must
            # see it so, and a close() from now on says goodbye.
            self.welcome = message
            self._token = message.get("token", self._token)
            self._index = self._attempt  # before any event of this link is seen: ``server`` is right
            self.connected = True
            self.close_reason = None  # what ended an earlier connection says nothing about this one
            if self._reconnecting:
                resumed = bool(message.get("resumed"))
                backlog, self._backlog = self._backlog, []
                if resumed:  # else they were for rooms the new session is not in
                    for data in backlog:
                        writer.write(data)
                else:  # a new session, in no room: what the old one knew of its rooms is gone
                    self.room = None
                    self.states.clear()
                    self.views.clear()
                self._events.put_nowait({"type": "reconnected", "resumed": resumed})
        if kind == "patch" or kind == "keyframe":
            if self._realtime(message, writer, conn):
                return
        if kind == "joined":
            # On a resume, each room is sent again: keep the one the program was using.
            if not (message.get("resumed") and self.room in self.welcome.get("rooms", ())):
                self.room = message["room"]["id"]
            info = message["room"]
            if info.get("kind") == "realtime" and info["id"] not in self.views:
                self.views[info["id"]] = RealtimeView(info["id"], self._rules.get(info["game"]))
                self.views[info["id"]].game_name = info["game"]
        elif kind in ("left", "room_closed") and message.get("room") == self.room:
            self.room = None
        if kind in ("left", "room_closed"):
            self.views.pop(str(message.get("room")), None)
        if kind == "pong" and self._rtt_sent is not None and message.get("re") == self._rtt_sent[0]:
            rtt = asyncio.get_running_loop().time() - self._rtt_sent[1]
            self._rtt_sent = None
            for view in self.views.values():
                view.add_rtt_sample(rtt)
            return
        elif kind == "state":
            self.states[message["room"]] = message
        elif kind == "error" and message.get("fatal"):
            self.close_reason = message
        waiter = self._waiters.get(message.get("re"))
        if waiter is not None and not waiter.done():
            waiter.set_result(message)
            return
        if kind in ("ok", "pong"):
            return  # an acknowledgement nobody awaits, or the answer to our own keepalive ping
        self._events.put_nowait(message)

    def _realtime(
        self, message: dict[str, Any], writer: asyncio.StreamWriter, conn: ClientConnection
    ) -> bool:
        """Take a patch or keyframe into its room's view, or ask for a keyframe; True: handled."""
        room = message.get("room")
        view = self.views.get(room)  # type: ignore[arg-type]
        if view is None:
            return False
        now = asyncio.get_running_loop().time()
        try:
            tick = view.receive(message, now)
        except Diverged:
            writer.write(conn.send({"type": "resync", "room": room}))
            return True
        if tick is not None:
            for waiter in [w for w in self._view_waiters if w[0] == room and tick > w[1]]:
                self._view_waiters.remove(waiter)
                if not waiter[2].done():
                    waiter[2].set_result(view)
        every = _RTT_EVERY
        if now - self._rtt_at >= every and self._rtt_sent is None:
            self._rtt_n += 1
            self._rtt_sent, self._rtt_at = (f"rtt-{self._rtt_n}", now), now
            writer.write(conn.send({"type": "ping", "id": self._rtt_sent[0]}))
        return bool(message["type"] == "patch")

    def _link_lost(self, reason: dict[str, Any]) -> None:
        """The connection ended: reconnect if that is worth trying, else close for good."""
        self.connected = False
        self._writer = None
        self._rtt_sent = None  # a ping in flight is lost with its link: the next link pings again
        for future in self._waiters.values():
            if not future.done():
                future.set_exception(ConnectionClosed(str(reason["code"]), str(reason["message"]), reason))
        if self._reconnecting or self._opening:
            self._dropped = reason
            return  # an attempt of the running connect or reconnect loop failed: that loop goes on
        retry = (
            self.reconnect
            and not self._closing
            and self._token is not None
            and reason.get("code") in _RETRYABLE
        )
        if not retry:
            self._finish(reason)
            return
        self.close_reason = None
        self._events.put_nowait(
            {"type": "disconnected", "code": reason["code"], "message": reason["message"]}
        )
        self._reconnect_task = asyncio.create_task(self._reconnect(reason))

    async def _reconnect(self, reason: dict[str, Any]) -> None:
        """Try again with growing pauses, for as long as the server keeps seats for the absent."""
        self._reconnecting = True
        try:
            await self._reconnect_until_grace_ends(reason)
        finally:
            self._reconnecting = False

    def _round(self) -> list[int]:
        """The addresses one round of reconnecting tries, in order: the one after the address just
        lost first, then the others in turn, and the lost one last (it is the likeliest to be down;
        in a cluster any node resumes the session)."""
        count = len(self.servers)
        return [(self._index + step) % count for step in range(1, count + 1)]

    async def _reconnect_until_grace_ends(self, reason: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(self.welcome.get("reconnect_grace", 60.0))
        pause = 0.05
        while not self._closing and loop.time() < deadline:
            for index in self._round():  # every address once, then a pause
                if self._closing or loop.time() >= deadline:
                    break
                try:
                    await self._open(max(0.5, min(5.0, deadline - loop.time())), index)
                except NetplayError as refused:
                    if refused.code not in _RETRYABLE:
                        self._finish(refused.reply or _lost(refused.message))
                        return
                except (OSError, TimeoutError, ConnectionClosed):
                    pass
                else:
                    if self.connected:
                        return  # the welcome's dispatch already flushed what waited
                    # The link died right after its welcome: that loss was this loop's to handle.
            await asyncio.sleep(pause)  # backoff between rounds, not synchronisation
            pause = min(pause * 2, 2.0)
        self._finish(reason)

    def _finish(self, reason: dict[str, Any] | None) -> None:
        """The end: no more reconnecting; the event stream ends after what is queued."""
        if self.closed:
            return
        self.closed = True
        self.connected = False
        self.close_reason = reason or _lost("the server went away")
        pending: list[asyncio.Future[Any]] = [*self._waiters.values()]
        pending += (future for _, _, future in self._view_waiters)
        for future in pending:
            if not future.done():
                future.set_exception(
                    ConnectionClosed(
                        str(self.close_reason["code"]), str(self.close_reason["message"]), reason
                    )
                )
        self._events.put_nowait(_CLOSED)

    async def _shutdown(self, goodbye: bytes | None) -> None:
        self._closing = True
        writer = self._writer
        if goodbye is not None and writer is not None and self.connected:
            with contextlib.suppress(Exception):
                writer.write(goodbye)
        if self.close_reason is None:
            self.close_reason = {"type": "error", "code": "closed", "message": "closed by this client"}
        self._finish(self.close_reason)
        for task in (self._reconnect_task, self._reader_task):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):  # a dead TLS peer never finishes its goodbye
                async with asyncio.timeout(2):
                    await writer.wait_closed()

    async def close(self) -> None:
        """Say goodbye (the server frees this client's seats at once), then close the connection."""
        await self._shutdown(self._conn.send({"type": "bye"}))

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
