"""15-112 text clients under the server's limits: the connection cap (shared with netplay clients, both
ways), the rate limit (by backpressure: nothing dropped), and dead peers found by keepalive."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from netplay.client import Client
from netplay.server import Server
from netplay.transports.text import KEEPALIVE_COUNT, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL

from ..conftest import RawPeer
from .test_text_protocol import TextClient, member_event

pytestmark = pytest.mark.timeout(60)

MakeServer = Callable[..., Awaitable[Server]]


async def text_client(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    async with asyncio.timeout(5):
        greeting = await reader.readuntil(b" \n")  # ends with "myIDis K \n"
    return reader, writer, greeting


async def test_text_clients_count_against_max_connections(make_server: MakeServer) -> None:
    server = await make_server(text_port=0, max_connections=2)
    assert server.text_port is not None
    first = await text_client(server.text_port)
    second = await text_client(server.text_port)
    assert first[2].startswith(b"myIDis ") and b"newPlayer" in second[2]
    reader, writer = await asyncio.open_connection("127.0.0.1", server.text_port)
    async with asyncio.timeout(5):
        assert await reader.read() == b""  # refused: closed without a byte, as the protocol wants
    for _, w, _ in (first, second):
        w.close()
    writer.close()


@pytest.mark.skipif(sys.platform != "linux", reason="TCP_KEEPIDLE and friends are Linux options")
async def test_text_client_sockets_probe_for_dead_peers(make_server: MakeServer) -> None:
    server = await make_server(text_port=0)
    assert server.text_port is not None and server.text is not None
    _, writer, _ = await text_client(server.text_port)
    (session,) = server.text.sessions.values()
    sock = session.conn.transport.get_extra_info("socket")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == KEEPALIVE_IDLE
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == KEEPALIVE_INTERVAL
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == KEEPALIVE_COUNT
    writer.close()


async def refused_netplay(port: int) -> dict[str, Any]:
    """Open a netplay connection that the server refuses; its one message, once it has closed."""
    peer = await RawPeer.open(port)
    peer.send({"type": "hello", "protocol": 1})
    refused = await peer.recv()
    assert await peer.closed()
    await peer.close()
    return refused


async def refused_text(port: int) -> bytes:
    """Open a text connection that the server refuses; what it said (nothing, by the protocol)."""
    client = await TextClient.open(port)
    said = await client.closed_by_server()
    await client.close()
    return said


async def test_text_and_netplay_clients_share_max_connections_both_ways(make_server: MakeServer) -> None:
    server = await make_server(text_port=0, max_connections=2, text_leave_notice=True)
    port, text_port = server.port, server.text_port
    assert text_port is not None
    clients: list[Client] = []
    texts: list[TextClient] = []
    try:
        # Netplay clients fill the server: a text client is refused (closed without a byte).
        n1 = await Client.connect("127.0.0.1", port)
        n2 = await Client.connect("127.0.0.1", port)
        clients += [n1, n2]
        await n1.quick_match("15-112", kind="relay")
        await n2.quick_match("15-112", kind="relay")
        await n1.wait_for("member_joined")
        assert await refused_text(text_port) == b""
        # One leaves: a text client takes its place, and now a netplay client is refused.
        await n2.close()
        await member_event(n1, "member_left", n2.id)
        t1 = await TextClient.open(text_port)
        texts.append(t1)
        assert await t1.greet(n1.id) == "Player1"
        refused = await refused_netplay(port)
        assert refused["code"] == "server_full" and refused["fatal"] is True
        # Text clients fill the server: a netplay client is refused, and so is a third text client.
        await n1.close()
        await t1.expect(f"playerLeft {n1.id}\n".encode())
        t2 = await TextClient.open(text_port)
        texts.append(t2)
        assert await t2.greet("Player1") == "Player2"  # the refused clients were given no id
        await t1.expect(b"newPlayer Player2\n")
        refused = await refused_netplay(port)
        assert refused["code"] == "server_full" and refused["fatal"] is True
        assert await refused_text(text_port) == b""
        # A text client leaving frees its place for a netplay client.
        await t1.close()
        await t2.expect(b"playerLeft Player1\n")
        n3 = await Client.connect("127.0.0.1", port)
        clients.append(n3)
        joined = await n3.quick_match("15-112", kind="relay")
        assert [m["id"] for m in joined["room"]["members"]] == ["Player2", n3.id]
        await t2.expect(f"newPlayer {n3.id}\n".encode())
    finally:
        for client in clients:
            await client.close()
        for text in texts:
            await text.close()


async def test_a_flooding_text_client_is_slowed_to_the_rate_and_loses_nothing(
    make_server: MakeServer,
) -> None:
    rate, burst, count = 5000.0, 400, 20_000
    server = await make_server(text_port=0, rate_limit=rate, rate_burst=burst)
    assert server.text_port is not None
    flooder = await TextClient.open(server.text_port, chunk=65536)
    reader = await TextClient.open(server.text_port, chunk=65536)
    ping = await Client.connect("127.0.0.1", server.port)
    pong = await Client.connect("127.0.0.1", server.port)
    try:
        await flooder.greet()
        await reader.greet(flooder.id)
        await flooder.expect(f"newPlayer {reader.id}\n".encode())
        # Two netplay clients relay back and forth in a room of their own meanwhile.
        room = (await ping.create_room("elsewhere", kind="relay"))["room"]["id"]
        await pong.join(room)
        await ping.wait_for("member_joined")
        loop = asyncio.get_running_loop()

        async def flood() -> None:
            flooder.writer.write(b"".join(b"seq %d\n" % i for i in range(count)))  # all at once
            await flooder.writer.drain()  # TCP pushes back: the server reads at the rate

        async def receive_all() -> float:
            prefix = b"seq " + flooder.id.encode() + b" "
            for i in range(count):
                assert await reader.line() == prefix + b"%d\n" % i  # every line, in order
            return loop.time()

        async def round_trips() -> float:
            for i in range(100):
                await ping.relay(i)
                assert (await pong.wait_for("relay"))["data"] == i
                await pong.relay(-i)
                assert (await ping.wait_for("relay"))["data"] == -i
            return loop.time()

        started = loop.time()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(flood())
            received = tasks.create_task(receive_all())
            trips = tasks.create_task(round_trips())
        # The first `burst` lines pass at once, the rest at `rate` per second (a few lines of slack
        # for timers that fire early): the flooder's throughput is bounded by the rate limit.
        assert received.result() - started >= (count - burst - 50) / rate
        assert trips.result() < received.result()  # the other room was served during the flood
        # Nothing else was queued for either text client, and both still talk.
        await reader.send(b"marker r\n")
        await flooder.expect(b"marker " + reader.id.encode() + b" r\n")
        await flooder.send(b"marker f\n")
        await reader.expect(b"marker " + flooder.id.encode() + b" f\n")
    finally:
        await ping.close()
        await pong.close()
        await flooder.close()
        await reader.close()


async def test_quiet_text_clients_outlive_the_timeouts_that_end_quiet_netplay_clients(
    make_server: MakeServer,
) -> None:
    server = await make_server(
        text_port=0, handshake_timeout=0.3, heartbeat_interval=0.2, idle_timeout=0.4, sweep_interval=0.05
    )
    assert server.text_port is not None
    quiet = await TextClient.open(server.text_port)
    other = await TextClient.open(server.text_port)
    silent = await RawPeer.open(server.port)
    try:
        await quiet.greet()
        await other.greet(quiet.id)
        await quiet.expect(f"newPlayer {other.id}\n".encode())
        # A netplay client that never says hello is cut off by the handshake timeout, and one that
        # never answers a ping by the idle timeout; by then both text clients have been quiet longer.
        assert (await silent.until_closed())[-1]["code"] == "handshake_timeout"
        mute = await RawPeer.open(server.port)
        await mute.hello()
        assert (await mute.until_closed())[-1]["code"] == "idle_timeout"
        await mute.close()
        await quiet.send(b"still here\n")
        await other.expect(f"still {quiet.id} here\n".encode())  # nothing (no ping) came before it
        await other.send(b"me too\n")
        await quiet.expect(f"me {other.id} too\n".encode())
    finally:
        await silent.close()
        await quiet.close()
        await other.close()
