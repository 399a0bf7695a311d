"""A client for game loops (pygame, tkinter): it never blocks a frame.

An asyncio client runs on a background thread. Every send returns at once; ``poll()`` hands back
the events that arrived since the last call, so a game calls it once per frame.
"""

from __future__ import annotations

import asyncio
import collections
import ssl as ssl_module
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from ..games.realtime import RealtimeGame
from .aio import Address, Client, ConnectionClosed, NetplayError, ServerSpec, server_addresses
from .realtime import RealtimeView

__all__ = ["ThreadedClient"]


class ThreadedClient:
    """Thread-safe, non-blocking access to a netplay server from any thread.

    >>> net = ThreadedClient("127.0.0.1", 7777, name="Ann")
    >>> net.connect()                      # the only call that waits (for the handshake)
    >>> net.quick_match("tictactoe")
    >>> for event in net.poll(): ...       # once per frame

    ``servers``: several addresses instead of ``host``/``port`` (``"HOST:PORT"`` or
    ``(host, port)``), tried as ``Client.connect`` tries them; a bad one is a ValueError here.
    """

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        name: str | None = None,
        reconnect: bool = True,
        ssl: ssl_module.SSLContext | bool | None = None,
        servers: Sequence[ServerSpec] | None = None,
    ) -> None:
        #: Every address this client may use, in the order it tries them.
        self.servers = server_addresses(host, port, servers)
        self._name = name
        self._reconnect = reconnect
        self._ssl = ssl
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="netplay-client", daemon=True)
        self._client: Client | None = None
        self._events: collections.deque[dict[str, Any]] = collections.deque()
        self._arrived = threading.Condition()
        self._pump: Future[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def connect(self, timeout: float = 10.0) -> ThreadedClient:
        """Connect and complete the handshake (blocks up to ``timeout`` for each address); raise
        NetplayError if refused, an OSError if unreachable (ServersUnreachable for several)."""
        if not self._thread.is_alive():
            self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            Client.connect(
                servers=self.servers,
                name=self._name,
                timeout=timeout,
                reconnect=self._reconnect,
                ssl=self._ssl,
            ),
            self._loop,
        )
        try:
            self._client = future.result(timeout * len(self.servers) + 1)  # ``timeout`` per address
        except BaseException:
            self._stop_thread(timeout)  # no thread left behind by a failed connect
            raise
        self._pump = asyncio.run_coroutine_threadsafe(self._pump_events(), self._loop)
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Close the connection and stop the background thread."""
        try:
            if self._client is not None and self._thread.is_alive():
                asyncio.run_coroutine_threadsafe(self._client.close(), self._loop).result(timeout)
        finally:
            self._stop_thread(timeout)  # even if saying goodbye took too long

    def _stop_thread(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        if not self._thread.is_alive() and not self._loop.is_closed():
            self._loop.close()

    def __enter__(self) -> ThreadedClient:
        return self.connect() if self._client is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def server(self) -> Address:
        """The address of the current connection (before ``connect()``: the first to be tried)."""
        client = self._client
        return self.servers[0] if client is None else client.server

    @property
    def host(self) -> str:
        return self.server[0]

    @property
    def port(self) -> int:
        return self.server[1]

    @property
    def id(self) -> str:
        return self._require().id

    @property
    def room(self) -> str | None:
        """The room most recently joined."""
        return self._require().room

    @property
    def connected(self) -> bool:
        """Whether the link is up right now (False while it reconnects, and once it has ended)."""
        return self._client is not None and self._client.connected

    def seat(self, room: str | None = None) -> int | None:
        return self._require().seat(room)

    # -- sending: every call returns at once ------------------------------------------------------
    def send(self, message: dict[str, Any], *, ack: bool = True) -> None:
        """Queue any protocol message for sending; errors come back through ``poll()``."""
        client = self._require()
        self._loop.call_soon_threadsafe(self._send_now, client, message, ack)

    def _send_now(self, client: Client, message: dict[str, Any], ack: bool) -> None:
        try:
            client.send_nowait(message, ack=ack)
        except NetplayError as exc:
            self._push({"type": "error", "code": exc.code, "message": exc.message})

    def quick_match(
        self,
        game: str,
        *,
        kind: str = "match",
        clock: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        """Join an open public room of ``game`` with ``clock``, made with the ``options`` named
        (none: any), or open one."""
        message: dict[str, Any] = {"type": "quick_match", "game": game, "kind": kind}
        if clock is not None:
            message["clock"] = clock
        if options:
            message["options"] = options
        self.send(message)

    def create_room(
        self,
        game: str | None = None,
        *,
        kind: str = "match",
        private: bool = False,
        options: dict[str, Any] | None = None,
        max_members: int | None = None,
        spectate: bool = False,
        clock: str | None = None,
        **extra: Any,
    ) -> None:
        """Create a room and join it (``clock``: a time control such as ``"300+5"`` or ``"30/move"``)."""
        message: dict[str, Any] = {"type": "create_room", "kind": kind, "private": private, **extra}
        if game is not None:
            message["game"] = game
        if options:
            message["options"] = options
        if max_members is not None:
            message["max_members"] = max_members
        if spectate:
            message["spectate"] = True
        if clock is not None:
            message["clock"] = clock
        self.send(message)

    def join(self, room: str | None = None, *, code: str | None = None, spectate: bool = False) -> None:
        message: dict[str, Any] = {"type": "join_room", "spectate": spectate}
        if room is not None:
            message["room"] = room
        if code is not None:
            message["code"] = code
        self.send(message)

    def leave(self, room: str | None = None) -> None:
        self.send({"type": "leave_room", "room": self._room(room)})

    def move(self, move: Any, *, room: str | None = None, version: int | None = None) -> None:
        """Send a move against ``version`` (default: the latest state this client has seen)."""
        client = self._require()
        room_id = self._room(room)
        message: dict[str, Any] = {"type": "move", "room": room_id, "move": move}
        if version is None and room_id in client.states:
            version = client.states[room_id]["version"]
        if version is not None:
            message["version"] = version
        self.send(message)

    def rematch(self, room: str | None = None) -> None:
        self.send({"type": "rematch", "room": self._room(room)})

    def resign(self, room: str | None = None) -> None:
        """Give up the game in ``room``; a refusal comes back through ``poll()``."""
        self.send({"type": "resign", "room": self._room(room)})

    def offer_draw(self, room: str | None = None) -> None:
        """Offer a draw, or accept the others' offer (agreed once every seat has offered)."""
        self.send({"type": "offer_draw", "room": self._room(room)})

    def decline_draw(self, room: str | None = None) -> None:
        """Decline the draw offered, or withdraw this client's own offer."""
        self.send({"type": "decline_draw", "room": self._room(room)})

    def add_bot(self, bot: str | None = None, room: str | None = None) -> None:
        message: dict[str, Any] = {"type": "add_bot", "room": self._room(room)}
        if bot is not None:
            message["bot"] = bot
        self.send(message)

    def relay(self, data: Any, room: str | None = None) -> None:
        """Send ``data`` to every other member of a relay room (not acknowledged)."""
        self.send({"type": "relay", "room": self._room(room), "data": data}, ack=False)

    def list_rooms(self, game: str | None = None) -> None:
        self.send({"type": "list_rooms", **({"game": game} if game else {})})

    # -- real-time rooms: call these every frame -----------------------------------------------
    def predict_with(self, rules: RealtimeGame) -> None:
        """Predict this player's own movement in rooms of ``rules.name`` (the game's pure ``tick``)."""
        self._loop.call_soon_threadsafe(self._require().predict_with, rules)

    def send_input(self, data: Any, room: str | None = None) -> dict[str, Any]:
        """Send an input to a real-time room now and return it, stamped; the next ``predicted()``
        already shows it. Raises NetplayError before the room's ``joined`` has arrived."""
        client = self._require()
        view = client.views.get(self._room(room))
        if view is None:
            raise NetplayError("wrong_room_kind", "send_input needs a real-time room")
        message = view.input(data, self._loop.time())  # stamped here: the next frame predicts it
        self._loop.call_soon_threadsafe(self._send_now, client, message, False)
        return message

    def view(self, room: str | None = None) -> RealtimeView | None:
        """This client's copy of a real-time room (None until it has joined one)."""
        client = self._require()
        return client.views.get(room or client.room or "")

    def predicted(self, room: str | None = None) -> Any:
        """The view to draw this player's own entity from: the server's, plus its own inputs."""
        view = self.view(room)
        return None if view is None else view.predicted(self._loop.time())

    def interpolated(self, room: str | None = None) -> Any:
        """The view to draw the others from: smooth between the server's last two patches."""
        view = self.view(room)
        return None if view is None else view.interpolated(self._loop.time())

    # -- receiving ------------------------------------------------------------------------------
    def poll(self) -> list[dict[str, Any]]:
        """Every event received since the last call, oldest first; never blocks."""
        events = []
        popleft = self._events.popleft
        while True:
            try:
                events.append(popleft())
            except IndexError:
                return events

    def wait(self, kind: str | None = None, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """Block until an event (of type ``kind``, with ``fields``) arrives; for scripts and tests,
        not for a game loop. Events skipped on the way are dropped."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                while self._events:
                    event = self._events.popleft()
                    if (kind is None or event["type"] == kind) and all(
                        event.get(k) == v for k, v in fields.items()
                    ):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {kind or 'event'} within {timeout} s")
                self._arrived.wait(left)

    # -- plumbing -------------------------------------------------------------------------------
    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _pump_events(self) -> None:
        client = self._require()
        while True:
            try:
                event = await client.next_event()
            except ConnectionClosed as closed:
                reason = closed.reply or {
                    "type": "error",
                    "code": closed.code,
                    "message": closed.message,
                }
                self._push({**reason, "type": "closed"})
                return
            self._push(event)

    def _push(self, event: dict[str, Any]) -> None:
        with self._arrived:
            self._events.append(event)
            self._arrived.notify_all()

    def _require(self) -> Client:
        if self._client is None:
            raise NetplayError("not_connected", "call connect() first")
        return self._client

    def _room(self, room: str | None) -> str:
        room = room or self._require().room
        if room is None:
            raise NetplayError("not_in_room", "join a room first")
        return room
