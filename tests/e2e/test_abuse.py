"""Abuse: rate limits, connection limits, slow trickles, and what one seat may see of another's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from netplay.client import Client
from netplay.games import Game, Outcome
from netplay.server import Server

from ..conftest import RawPeer

MakeServer = Callable[..., Awaitable[Server]]


async def test_a_flood_is_slowed_then_cut_off_and_others_carry_on(make_server: MakeServer) -> None:
    server = await make_server(rate_limit=50, rate_burst=20)
    bystander = await Client.connect("127.0.0.1", server.port)
    flood = await RawPeer.open(server.port)
    await flood.hello()
    for i in range(200):
        flood.send({"type": "ping", "id": i})
    replies = await flood.until_closed()
    pongs = [r for r in replies if r["type"] == "pong"]
    refused = [r for r in replies if r["type"] == "error" and not r.get("fatal")]
    assert 20 <= len(pongs) < 200  # the burst got through, the rest did not
    # Each refused request is answered (its id comes back), then the client is cut off.
    assert {r["code"] for r in refused} == {"rate_limited"}
    assert sorted(r["re"] for r in pongs + refused) == list(range(len(pongs) + len(refused)))
    assert replies[-1]["code"] == "rate_limited" and replies[-1]["fatal"] is True
    assert (await bystander.request({"type": "ping"}))["type"] == "pong"
    await bystander.close()


async def test_a_flood_without_ids_is_warned_once(make_server: MakeServer) -> None:
    server = await make_server(rate_limit=50, rate_burst=20)
    flood = await RawPeer.open(server.port)
    await flood.hello()
    for _ in range(200):
        flood.send({"type": "pong"})  # nothing to answer
    replies = await flood.until_closed()
    assert [(r["code"], bool(r.get("fatal"))) for r in replies] == [
        ("rate_limited", False),
        ("rate_limited", True),
    ]


async def test_malformed_messages_count_against_the_rate_too(make_server: MakeServer) -> None:
    server = await make_server(rate_limit=50, rate_burst=20)
    flood = await RawPeer.open(server.port)
    await flood.hello()
    junk = b"{not json"
    for _ in range(200):
        flood.send_bytes(len(junk).to_bytes(4, "big") + junk)
    replies = await flood.until_closed()
    codes = [r["code"] for r in replies]
    assert 20 <= codes.count("invalid_json") < 200  # answered while within the rate...
    assert codes[-1] == "rate_limited" and replies[-1]["fatal"] is True  # ...then cut off


async def test_a_client_within_the_rate_is_never_limited(make_server: MakeServer) -> None:
    server = await make_server(rate_limit=100_000, rate_burst=50)  # 40 at a time, far under the rate
    client = await Client.connect("127.0.0.1", server.port)
    for _ in range(10):
        replies = await asyncio.gather(*(client.request({"type": "ping"}) for _ in range(40)))
        assert all(r["type"] == "pong" for r in replies)
    await client.close()


async def test_connections_beyond_the_limit_are_refused_clearly(make_server: MakeServer) -> None:
    server = await make_server(max_connections=2)
    first = await Client.connect("127.0.0.1", server.port)
    second = await Client.connect("127.0.0.1", server.port)
    third = await RawPeer.open(server.port)
    third.send({"type": "hello", "protocol": 1})  # on the shared port, netplay waits for the client
    refused = await third.recv()
    assert refused["code"] == "server_full" and refused["fatal"] is True
    assert await third.closed()
    await second.close()
    # A place is free again once a client has gone: wait for the server to notice, then join.
    for _ in range(200):
        assert server.hub is not None
        if server.hub.connections < 2:
            break
        await first.request({"type": "ping"})
    fourth = await Client.connect("127.0.0.1", server.port)
    await fourth.close()
    await first.close()


async def test_a_trickled_hello_is_cut_off_by_the_handshake_timeout(make_server: MakeServer) -> None:
    server = await make_server(handshake_timeout=0.3)
    peer = await RawPeer.open(server.port)
    hello = b'\x00\x00\x00\x1d{"type":"hello","protocol":1}'
    closed = asyncio.create_task(peer.recv(timeout=5))
    for byte in hello[:-1]:  # one byte at a time, never the last
        if closed.done():
            break
        peer.send_bytes(bytes([byte]))
        await asyncio.wait([closed], timeout=0.05)  # the trickle's pace, while watching for the close
    error = await closed
    assert error["code"] == "handshake_timeout"


async def test_a_trickled_frame_after_hello_is_cut_off_by_the_idle_timeout(make_server: MakeServer) -> None:
    server = await make_server(heartbeat_interval=0.2, idle_timeout=0.5)
    peer = await RawPeer.open(server.port)
    await peer.hello()
    frame = b'\x00\x00\x01\x00{"type":"relay"'
    messages: list[dict[str, Any]] = []

    async def read_all() -> None:
        try:
            while True:
                messages.append(await peer.recv(timeout=5))
        except (EOFError, ConnectionError):
            return

    reader = asyncio.create_task(read_all())
    for byte in frame:
        if reader.done():
            break
        peer.send_bytes(bytes([byte]))
        await asyncio.wait([reader], timeout=0.05)
    await reader
    assert messages[-1]["code"] == "idle_timeout" and messages[-1]["fatal"] is True


class Secret(Game):
    """Each player picks a secret number; nobody sees another's until both have picked."""

    name = "secret"
    players = 2

    def setup(self, options: dict[str, Any]) -> Any:
        return {"picks": [None, None]}

    def validate(self, state: Any, seat: int, move: Any) -> str | None:
        return None if isinstance(move, int) and not isinstance(move, bool) else "pick a number"

    def apply(self, state: Any, seat: int, move: Any) -> Any:
        picks = list(state["picks"])
        picks[seat] = move
        return {"picks": picks}

    def outcome(self, state: Any) -> Outcome | None:
        a, b = state["picks"]
        if a is None or b is None:
            return None
        return Outcome.draw() if a == b else Outcome.win(0 if a > b else 1)

    def view(self, state: Any, seat: int | None) -> Any:
        done = None not in state["picks"]
        return {
            "picks": [p if done or i == seat else ("hidden" if p is not None else None)
                      for i, p in enumerate(state["picks"])]
        }  # fmt: skip


async def test_each_seat_sees_only_its_own_view_even_after_a_reconnect(make_server: MakeServer) -> None:
    server = await make_server(games=[Secret()])
    a, b, spy = [await RawPeer.open(server.port) for _ in range(3)]
    await a.hello("A")
    wb = await b.hello("B")
    await spy.hello("Spy")
    a.send({"type": "quick_match", "game": "secret", "id": 1})
    room = (await a.recv_type("joined"))["room"]["id"]
    b.send({"type": "quick_match", "game": "secret", "id": 1})
    await b.recv_type("state")
    await a.recv_type("state")
    spy.send({"type": "join_room", "room": room, "spectate": True, "id": 2})
    await spy.recv_type("state")
    a.send({"type": "move", "room": room, "move": 42})
    mine, theirs, watched = [await p.recv_type("state") for p in (a, b, spy)]
    assert mine["state"]["picks"] == [42, None] and mine["last"] == {"seat": 0, "move": 42}
    # The others see that seat 0 moved, never what it picked: not in the state, not in `last`.
    assert theirs["state"]["picks"] == ["hidden", None] and theirs["last"] == {"seat": 0}
    assert watched["state"]["picks"] == ["hidden", None] and watched["last"] == {"seat": 0}
    # B's link drops and comes back: its resumed view still hides A's pick.
    await b.close()
    b2 = await RawPeer.open(server.port)
    b2.send({"type": "hello", "protocol": 1, "token": wb["token"], "id": 0})
    assert (await b2.recv())["resumed"] is True
    assert (await b2.recv_type("state"))["state"]["picks"] == ["hidden", None]
    b2.send({"type": "move", "room": room, "move": 7})
    final = await spy.recv_type("state")
    assert final["state"]["picks"] == [42, 7] and final["outcome"]["winner"] == 0
