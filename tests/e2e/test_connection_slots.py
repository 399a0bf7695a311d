"""Connection slots (issue 9, item 8), end to end: every accepted socket counts, and per address too.

Before: 100 connections from one address that sent one byte each filled ``--max-connections 100``,
and half-sent HTTP requests did not count at all (3,000 held past a cap of 100). Now every socket
any listener accepts takes a slot at once (netplay, HTTP before and after an upgrade, the text port),
one address holds at most ``max_connections_per_address`` of them, a socket over a limit is closed
at once (a netplay client told ``server_full``, a browser 503), and a closed socket frees its slot.
Loopback has many addresses: binding a client to 127.0.0.2 makes it another source.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Awaitable, Callable, Iterable

import pytest

from netplay.server import Server

from ..conftest import RawPeer
from .test_websocket_flood import Players

pytestmark = pytest.mark.timeout(120)

MakeServer = Callable[..., Awaitable[Server]]
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]

HELLO = json.dumps({"type": "hello", "protocol": 1, "name": "slot", "id": 0}).encode()
HELLO_FRAME = struct.pack(">I", len(HELLO)) + HELLO
#: The blank line that ends it never comes (Connection: close, so that once it is let through, its
#: answer ends the connection: HTTP/1.1 connections are kept open).
HALF_SENT = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"


async def open_from(port: int, source: str = "127.0.0.1", first: bytes = b"") -> Stream:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    if first:
        writer.write(first)
    return reader, writer


async def until_eof(reader: asyncio.StreamReader) -> bytes:
    """All the server sends until it closes (a reset counts as closing)."""
    try:
        return await reader.read()
    except ConnectionError:
        return b""


async def closed_within(
    streams: Iterable[Stream], timeout: float, expect: int | None = None
) -> list[asyncio.Task[bytes]]:
    """Read every stream until EOF, until ``expect`` of them (default: all) are closed or ``timeout``
    s have passed; the reading tasks, done or not (the others go on reading)."""
    tasks = [asyncio.ensure_future(until_eof(reader)) for reader, _ in streams]
    wanted = len(tasks) if expect is None else expect
    pending = set(tasks)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(tasks) - len(pending) < wanted and loop.time() < deadline:
        _, pending = await asyncio.wait(
            pending, timeout=deadline - loop.time(), return_when="FIRST_COMPLETED"
        )
    return tasks


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (RST): gone for sure, at once."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def close_all(streams: Iterable[Stream]) -> None:
    for _, writer in streams:
        writer.close()


def server_full(said: bytes) -> dict[str, object]:
    size = struct.unpack(">I", said[:4])[0]
    message = json.loads(said[4 : 4 + size])
    assert isinstance(message, dict)
    return message


async def until_free(server: Server, probe: RawPeer, held: int) -> None:
    """Wait for the server to notice closed sockets: ping until only ``held`` slots are taken."""
    assert server.gate is not None
    for _ in range(300):  # round trips, within the rate limit's burst (400)
        if server.gate.count <= held:
            return
        await probe.sync()
    raise AssertionError(f"{server.gate.count} slots still taken, expected {held}")


async def seat_players(port: int, first: str, second: str) -> Players:
    """Two tic-tac-toe players from the given source addresses, seated in a new room."""
    a = RawPeer(*await open_from(port, first))
    b = RawPeer(*await open_from(port, second))
    await a.hello("Ann")
    await b.hello("Bob")
    a.send({"type": "create_room", "game": "tictactoe", "id": 1})
    room = (await a.recv_type("joined"))["room"]["id"]
    b.send({"type": "join_room", "room": room, "id": 1})
    await b.recv_type("joined")
    state = await a.recv_type("state")
    assert await b.recv_type("state") == state
    return Players(a, b, room, state)


async def test_one_address_holds_its_share_of_slots_and_another_still_plays(make_server: MakeServer) -> None:
    # A handshake timeout far away: whatever is closed within seconds was refused, not timed out.
    server = await make_server(max_connections_per_address=50, handshake_timeout=60)
    assert server.gate is not None
    streams = [await open_from(server.port, first=b"\x00") for _ in range(300)]  # one byte each
    refused = await closed_within(streams[50:], timeout=10)
    closed = [t for t in refused if t.done()]
    assert len(closed) == 250, f"{len(closed)} of the 250 connections past the limit were closed"
    for task in closed:  # each was a netplay client (its byte says so): it is told why
        said = server_full(task.result())
        assert said["code"] == "server_full" and said["fatal"] is True, said
    assert server.gate.count == server.gate.from_address("127.0.0.1") == 50
    # The first 50 were let in: they finish their hello and are welcomed.
    held = [RawPeer(*stream) for stream in streams[:50]]
    for peer in held:
        peer.send_bytes(HELLO_FRAME[1:])
    for peer in held:
        assert (await peer.recv())["type"] == "welcome"
    # Other addresses still get in and play a whole game.
    players = await seat_players(server.port, "127.0.0.2", "127.0.0.3")
    await players.one_game()
    # Slots are given back: once the 50 have gone, 50 more from the same address are let in.
    for peer in held:
        await peer.close()
    close_all(streams[50:])
    await until_free(server, players.peers["Ann"], held=2)
    again = [await open_from(server.port, first=HELLO_FRAME) for _ in range(50)]
    for reader, writer in again:
        assert (await RawPeer(reader, writer).recv())["type"] == "welcome"
    over = await open_from(server.port, first=HELLO_FRAME)
    assert server_full(await asyncio.wait_for(until_eof(over[0]), 5))["code"] == "server_full"
    close_all([*again, over])
    await players.close()


async def test_silent_connections_past_the_limit_are_closed_without_a_word(make_server: MakeServer) -> None:
    server = await make_server(max_connections_per_address=5, handshake_timeout=60)
    held = [await open_from(server.port) for _ in range(5)]
    # More than wait at once to be told in their own protocol: some are closed at once, the rest
    # after at most a second; none is kept until the handshake timeout.
    silent = [await open_from(server.port) for _ in range(40)]
    tasks = await closed_within(silent, timeout=10)
    assert all(t.done() for t in tasks), f"{sum(not t.done() for t in tasks)} of 40 still open"
    assert {t.result() for t in tasks} == {b""}
    assert server.gate is not None and server.gate.count == 5
    close_all([*held, *silent])


@pytest.mark.parametrize("own_port", [False, True], ids=["shared-port", "web-port"])
async def test_half_sent_http_requests_count_and_are_refused_past_the_cap(
    make_server: MakeServer, own_port: bool
) -> None:
    server = await make_server(
        max_connections=100,
        max_connections_per_address=0,  # this test is about the cap for everyone
        handshake_timeout=60,
        web_port=0 if own_port else None,
    )
    assert server.gate is not None and server.web_port is not None
    port = server.web_port
    streams: list[Stream] = []
    for _ in range(30):  # 3,000, a hundred at a time
        streams += await asyncio.gather(*(open_from(port, first=HALF_SENT) for _ in range(100)))
    tasks = await closed_within(streams, timeout=30, expect=2900)
    closed = [t for t in tasks if t.done()]
    assert len(closed) == 2900, f"{3000 - len(closed)} half-sent requests held open; the cap is 100"
    # Each was told (503) or, while many were being refused at once, just closed.
    assert {t.result()[:12] for t in closed} <= {b"", b"HTTP/1.1 503"}
    assert any(t.result().startswith(b"HTTP/1.1 503") for t in closed)
    assert server.gate.count == 100
    # The 100 held finish their requests and are answered.
    held = [stream for stream, task in zip(streams, tasks, strict=True) if not task.done()]
    for _, writer in held:
        writer.write(b"\r\n")
    answers = await asyncio.gather(*(asyncio.wait_for(t, 10) for t in tasks if not t.done()))
    assert all(a.startswith(b"HTTP/1.1 200") for a in answers)
    close_all(streams)
    # No slot leaks: once the server has seen them go, the probe and 99 new half-sent requests
    # fill the 100 slots again, and the next one is refused.
    probe = RawPeer(*await open_from(server.port, first=HELLO_FRAME))
    assert (await probe.recv())["type"] == "welcome"
    await until_free(server, probe, held=1)
    again = [await open_from(port, first=HALF_SENT) for _ in range(100)]
    tasks = await closed_within(again, timeout=10, expect=1)
    assert [t.done() for t in tasks] == [False] * 99 + [True]
    assert server.gate.count == 100
    close_all(again)
    await probe.close()


async def test_one_count_for_every_listener(make_server: MakeServer) -> None:
    server = await make_server(text_port=0, max_connections_per_address=3, handshake_timeout=60)
    assert server.text_port is not None and server.gate is not None
    netplay = RawPeer(*await open_from(server.port))
    await netplay.hello("Ann")
    browser = await open_from(server.port, first=HALF_SENT)
    text_reader, text_writer = await open_from(server.text_port)
    async with asyncio.timeout(5):
        assert (await text_reader.readuntil(b" \n")).startswith(b"myIDis ")
    assert server.gate.from_address("127.0.0.1") == 3
    # The address has its three: a fourth of any kind is refused, each in its own way.
    refused_text = await open_from(server.text_port)
    assert await asyncio.wait_for(until_eof(refused_text[0]), 5) == b""  # the text protocol has no words
    refused_http = await open_from(server.port, first=b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert (await asyncio.wait_for(until_eof(refused_http[0]), 5)).startswith(b"HTTP/1.1 503")
    refused_netplay = await open_from(server.port, first=HELLO_FRAME)
    said = server_full(await asyncio.wait_for(until_eof(refused_netplay[0]), 5))
    assert said["code"] == "server_full"
    # Another address gets in on the text port, and leaving frees the slot for the first address.
    other = await open_from(server.text_port, "127.0.0.2")
    async with asyncio.timeout(5):
        assert b"myIDis " in await other[0].readuntil(b" \n")
    reset(text_writer)  # a FIN alone could be a half-close, which the text port keeps serving
    await until_free(server, netplay, held=3)  # netplay, the browser, and 127.0.0.2's text client
    again = await open_from(server.text_port)
    async with asyncio.timeout(5):
        assert b"myIDis " in await again[0].readuntil(b" \n")
    close_all([browser, refused_text, refused_http, refused_netplay, other, again])
    await netplay.close()


async def test_without_the_web_side_a_netplay_client_is_told_at_once(make_server: MakeServer) -> None:
    server = await make_server(web=False, max_connections=2, handshake_timeout=60)
    held = [await open_from(server.port) for _ in range(2)]  # silent: on a netplay-only port, counted
    refused = await open_from(server.port)  # it need not say anything to be told
    said = server_full(await asyncio.wait_for(until_eof(refused[0]), 5))
    assert said["code"] == "server_full" and said["fatal"] is True
    close_all([*held, refused])
