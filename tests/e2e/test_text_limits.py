"""15-112 text clients under the server's limits: the connection cap, and dead peers found by keepalive."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Awaitable, Callable

import pytest

from netplay.server import Server
from netplay.transports.text import KEEPALIVE_COUNT, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL

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
