"""Nesting past the limit (64 levels) is refused with an error, over TCP and WebSocket, and costs the
sender nothing else: its connection stays, the others in its room notice nothing.

Before the limit, relay data nested 300 deep parsed, could not be re-encoded for the other members,
and the sender was dropped without a word while a traceback was logged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect

from netplay.client import Client
from netplay.games import Game, Outcome, builtin_games
from netplay.server import Server

from ..conftest import RawPeer
from .test_websocket import WsPeer

MakeServer = Callable[..., Awaitable[Server]]
TOO_DEEP = "nested deeper than 64 levels"


def nested(levels: int) -> Any:
    """``levels`` arrays, one inside the other: ``nested(2) == [[]]``."""
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


class Peer:
    """A raw peer over TCP or WebSocket, with the same calls for both."""

    def __init__(self, raw: RawPeer | WsPeer) -> None:
        self.raw = raw

    async def send(self, message: dict[str, Any]) -> None:
        sent = self.raw.send(message)
        if sent is not None:
            await sent

    async def reply(self, rid: Any) -> dict[str, Any]:
        """The reply to the request with id ``rid``, skipping events."""
        while True:
            message = await self.raw.recv()
            if message.get("re") == rid:
                return message

    async def recv_type(self, kind: str) -> dict[str, Any]:
        return await self.raw.recv_type(kind)


OpenPeer = Callable[[Server], Awaitable[Peer]]


@pytest.fixture(params=["tcp", "websocket"])
async def open_peer(request: pytest.FixtureRequest) -> AsyncIterator[OpenPeer]:
    """Open greeted peers over the transport of the parameter; close them afterwards."""
    closers: list[Callable[[], Awaitable[None]]] = []

    async def open_one(server: Server) -> Peer:
        if request.param == "tcp":
            raw: RawPeer | WsPeer = await RawPeer.open(server.port)
            closers.append(raw.close)
        else:
            ws = await ws_connect(f"ws://127.0.0.1:{server.port}/ws", proxy=None, open_timeout=5)
            raw = WsPeer(ws)
            closers.append(ws.close)
        await raw.hello("deep")
        return Peer(raw)

    yield open_one
    for close in closers:
        await close()


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_relay_data_too_deep_is_refused_and_the_sender_keeps_its_connection(
    server: Server, open_peer: OpenPeer, caplog: pytest.LogCaptureFixture
) -> None:
    sender = await open_peer(server)
    await sender.send({"type": "create_room", "kind": "relay", "game": "deep", "id": 1})
    room = (await sender.reply(1))["room"]["id"]
    others = [await Client.connect("127.0.0.1", server.port, name=n) for n in ("B", "C")]
    try:
        for other in others:
            await other.join(room)
            await sender.recv_type("member_joined")

        await sender.send({"type": "relay", "room": room, "data": nested(300), "id": 2})
        error = await sender.reply(2)
        assert error["type"] == "error" and error["code"] == "invalid_message", error
        assert TOO_DEEP in error["message"] and "fatal" not in error

        # Still connected, still in the room: 63 levels of data (64 with the message) are relayed.
        await sender.send({"type": "relay", "room": room, "data": nested(63), "id": 3})
        assert await sender.reply(3) == {"type": "ok", "re": 3}
        await sender.send({"type": "relay", "room": room, "data": nested(64), "id": 4})
        assert TOO_DEEP in (await sender.reply(4))["message"]
        for other in others:
            relayed = await other.wait_for("relay")  # the first relay they see: never the refused ones
            assert relayed["data"] == nested(63)
        await others[0].relay("still here")
        assert (await sender.recv_type("relay"))["data"] == "still here"
        assert (await others[1].wait_for("relay"))["data"] == "still here"
        await sender.send({"type": "ping", "id": 5})
        assert await sender.reply(5) == {"type": "pong", "re": 5}
        for other in others:  # nobody left or was disconnected
            assert not [e for e in other.poll() if e["type"] in ("member_left", "member_disconnected")]
    finally:
        for other in others:
            await other.close()
    assert errors_logged(caplog) == []


class Keeper(Game):
    """Keeps every move and its option ``x`` in its state: whatever is nested comes back out."""

    name = "keeper"
    players = 2

    def setup(self, options: dict[str, Any]) -> Any:
        return {"moves": [], "x": options.get("x")}

    def validate(self, state: Any, seat: int, move: Any) -> str | None:
        return None

    def apply(self, state: Any, seat: int, move: Any) -> Any:
        return {"moves": [*state["moves"], move], "x": state["x"]}

    def outcome(self, state: Any) -> Outcome | None:
        return None


async def test_moves_and_options_too_deep_are_refused(
    make_server: MakeServer, open_peer: OpenPeer, caplog: pytest.LogCaptureFixture
) -> None:
    server = await make_server([*builtin_games().values(), Keeper()])
    peer = await open_peer(server)
    # Options 250 deep used to open the room and then fail to start its game, with a traceback.
    for rid, levels in enumerate((250, 300), start=1):
        options = {"x": nested(levels)}
        await peer.send({"type": "create_room", "game": "keeper", "options": options, "id": rid})
        error = await peer.reply(rid)
        assert error["code"] == "invalid_message" and TOO_DEEP in error["message"], error
    await peer.send({"type": "create_room", "game": "keeper", "options": {"x": nested(62)}, "id": 3})
    room = (await peer.reply(3))["room"]["id"]
    opponent = await Client.connect("127.0.0.1", server.port, name="opponent")
    try:
        await opponent.join(room)
        await peer.recv_type("state")
        # A move 300 deep used to reach the game and fail as "the game's rules failed on that move".
        await peer.send({"type": "move", "room": room, "move": nested(300), "id": 4})
        error = await peer.reply(4)
        assert error["code"] == "invalid_message" and TOO_DEEP in error["message"], error
        await peer.send({"type": "move", "room": room, "move": nested(63), "id": 5})
        assert await peer.reply(5) == {"type": "ok", "re": 5}
        state = await opponent.wait_for("state")
        while state["last"] is None:  # the game's first state, before any move
            state = await opponent.wait_for("state")
        assert state["last"]["move"] == nested(63) and state["state"]["moves"] == [nested(63)]
    finally:
        await opponent.close()
    assert errors_logged(caplog) == []
