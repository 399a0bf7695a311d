"""Bad input and bad peers: the offender gets a precise error or is cut off; everyone else carries on."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Awaitable, Callable

from netplay.client import Client
from netplay.server import Server

from ..conftest import RawPeer

MakeServer = Callable[..., Awaitable[Server]]
Open = Callable[[], Awaitable[RawPeer]]


async def live_game(port: int) -> tuple[Client, Client]:
    """Two clients in a tic-tac-toe game, to prove later that bad peers did not disturb it."""
    a = await Client.connect("127.0.0.1", port, name="A")
    b = await Client.connect("127.0.0.1", port, name="B")
    await a.quick_match("tictactoe")
    await b.quick_match("tictactoe")
    await a.wait_for("state")
    await b.wait_for("state")
    return a, b


async def still_playing(a: Client, b: Client) -> None:
    """The game goes on: a move is accepted and seen by both."""
    version = a.states[a.room or ""]["version"]
    mover, other = (a, b) if a.states[a.room or ""]["turn"] == a.seat() else (b, a)
    board = mover.states[mover.room or ""]["state"]["board"]
    await mover.move(board.index(None))
    await other.wait_for("state", version=version + 1)
    await mover.wait_for("state", version=version + 1)
    await a.close()
    await b.close()


async def test_unsupported_version_is_refused_with_the_versions_spoken(raw: Open) -> None:
    peer = await raw()
    peer.send({"type": "hello", "protocol": 7, "id": 1})
    error = await peer.recv()
    assert error["code"] == "unsupported_version" and error["fatal"] is True
    assert error["supported"] == [1] and error["re"] == 1
    assert await peer.closed()


async def test_a_request_before_hello_is_refused(raw: Open) -> None:
    peer = await raw()
    peer.send({"type": "list_rooms"})
    error = await peer.recv()
    assert error["code"] == "handshake_required" and error["fatal"] is True
    assert await peer.closed()


async def test_handshake_timeout(make_server: MakeServer) -> None:
    server = await make_server(handshake_timeout=0.2)
    peer = await RawPeer.open(server.port)
    error = await peer.recv(timeout=5)
    assert error["code"] == "handshake_timeout" and error["fatal"] is True
    assert await peer.closed()


async def test_heartbeats_keep_a_quiet_client_alive_and_silence_is_cut_off(make_server: MakeServer) -> None:
    server = await make_server(heartbeat_interval=0.15, idle_timeout=0.5)
    polite, silent = await RawPeer.open(server.port), await RawPeer.open(server.port)
    await polite.hello()
    await silent.hello()
    loop = asyncio.get_running_loop()
    start = loop.time()
    pings = 0
    while loop.time() - start < 1.0:  # twice the idle timeout, answering every ping
        message = await polite.recv(timeout=2)
        assert message["type"] == "ping"
        pings += 1
        polite.send({"type": "pong"})
    assert pings >= 2
    assert await polite.sync() == []  # still connected, nothing unexpected
    assert (await silent.recv())["type"] == "ping"
    error = await silent.recv(timeout=2)
    assert error["code"] == "idle_timeout" and error["fatal"] is True
    assert await silent.closed()


async def test_garbage_bytes_close_only_that_connection(server: Server, raw: Open) -> None:
    a, b = await live_game(server.port)
    peer = await raw()
    peer.send_bytes(b"hello server\r\n")  # not HTTP either: that port serves web pages too
    error = await peer.recv()
    assert error["code"] == "frame_too_large" and error["fatal"] is True
    assert await peer.closed()
    await still_playing(a, b)


async def test_invalid_json_and_unknown_types_get_errors_and_the_connection_stays(raw: Open) -> None:
    peer = await raw()
    await peer.hello()
    bad = b"{not json"
    peer.send_bytes(struct.pack(">I", len(bad)) + bad)
    assert (await peer.recv())["code"] == "invalid_json"
    peer.send({"type": "fly", "id": 9})
    unknown = await peer.recv()
    assert unknown["code"] == "unknown_type" and unknown["re"] == 9
    peer.send({"type": "join_room", "room": 12, "id": 10})
    invalid = await peer.recv()
    assert invalid["code"] == "invalid_message" and "'room'" in invalid["message"]
    assert await peer.sync() == []


async def test_oversized_frame_is_refused_and_the_game_next_door_goes_on(make_server: MakeServer) -> None:
    server = await make_server(max_frame=1024)
    a, b = await live_game(server.port)
    peer = await RawPeer.open(server.port)
    await peer.hello()
    peer.send({"type": "relay", "room": "r", "data": "x" * 2000})
    error = await peer.recv()
    assert error["code"] == "frame_too_large" and "1024" in error["message"] and error["fatal"]
    assert await peer.closed()
    await still_playing(a, b)


async def test_a_connection_dropped_mid_frame_is_cleaned_up(server: Server) -> None:
    peer = await RawPeer.open(server.port)
    await peer.hello()
    peer.send_bytes(struct.pack(">I", 100) + b'{"type":')
    await peer.close()
    assert server.hub is not None
    client = await Client.connect("127.0.0.1", server.port)
    for _ in range(100):  # each round trip lets the server process the other socket's close
        if len(server.hub.sessions) == 1:
            break
        await client.request({"type": "ping"})
    assert len(server.hub.sessions) == 1
    await client.close()


async def test_a_client_that_stops_reading_is_cut_off_and_others_carry_on(make_server: MakeServer) -> None:
    server = await make_server(max_send_buffer=256 * 1024, rate_limit=0)  # the flood is the point
    sender = await Client.connect("127.0.0.1", server.port, name="sender")
    reader = await Client.connect("127.0.0.1", server.port, name="reader")
    room = (await sender.create_room("flood", kind="relay"))["room"]["id"]
    await reader.join(room)
    stalled = await RawPeer.open(server.port)
    await stalled.hello("stalled")
    stalled.send({"type": "join_room", "room": room, "id": 1})
    assert (await stalled.recv_type("joined"))["room"]["id"] == room
    await sender.wait_for("member_joined")
    # The stalled peer never reads again. Flood the room until the server cuts it off.
    blob = "x" * 60_000
    sent = 0
    left = None
    while left is None and sent < 2000:
        await sender.relay(blob)
        sent += 1
        if sent % 20 == 0:
            pong = await sender.request({"type": "ping"})
            assert pong["type"] == "pong"
            left = next((e for e in sender.poll() if e["type"] == "member_disconnected"), None)
    assert left is not None, "the stalled reader was never disconnected"
    assert left["member"]["name"] == "stalled"
    # The reading member got every message, in order of sending, and the sender is still fine.
    for _ in range(sent):
        assert (await reader.wait_for("relay"))["data"] == blob
    await sender.relay("after")
    assert (await reader.wait_for("relay"))["data"] == "after"
    await sender.close()
    await reader.close()
    await stalled.close()


async def test_shutdown_tells_every_client_why(make_server: MakeServer) -> None:
    server = await make_server()
    client = await Client.connect("127.0.0.1", server.port, reconnect=False)
    await client.quick_match("tictactoe")
    await server.stop("maintenance")
    event = await client.wait_for("error")
    assert event["code"] == "server_shutdown" and event["message"] == "maintenance" and event["fatal"]
    assert client.close_reason is not None and client.close_reason["code"] == "server_shutdown"
    await client.close()


async def test_many_hostile_peers_at_once_leave_the_game_untouched(server: Server) -> None:
    a, b = await live_game(server.port)
    payloads = [
        b"\x00\x00\x00\x05hello",
        b"\x00\x00\x00\x02[]",
        b"\xff" * 64,
        struct.pack(">I", 3) + b"nul",
        b"\x00",
        json.dumps({"type": "hello", "protocol": "1"}).encode(),
    ]
    peers = [await RawPeer.open(server.port) for _ in payloads]
    for peer, data in zip(peers, payloads, strict=True):
        peer.send_bytes(data)
    await still_playing(a, b)
    for peer in peers:
        await peer.close()
