"""15-112 half-close, over real sockets: a text client that shuts down only its sending side
(``shutdown(SHUT_WR)``) is still relayed to, as by the original starter server, and leaves once its
socket is really closed or reset (issue 9, item 15).

To the server a FIN is a half-close: a peer that has closed its socket answers the next write with a
reset, which the server notices at that write; a reset with nothing written is noticed by looking at
the socket (``HALF_CLOSED_PROBE``), since the event loop no longer reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from netplay.client import Client
from netplay.server import Server

from .test_text_protocol import TextClient, member_event

pytestmark = pytest.mark.timeout(60)

MakeServer = Callable[..., Awaitable[Server]]


@pytest.fixture
async def texts() -> AsyncIterator[list[TextClient]]:
    opened: list[TextClient] = []
    yield opened
    for client in opened:
        await client.close()


async def joined(port: int, texts: list[TextClient], *others: str) -> TextClient:
    client = await TextClient.open(port)
    texts.append(client)
    await client.greet(*others)
    return client


def shut_sending_side(client: TextClient) -> None:
    """``sock.shutdown(SHUT_WR)``, as a script (or ``nc -N``) does at the end of its input."""
    client.writer.write_eof()


async def reset(client: TextClient) -> None:
    """Close with a reset (SO_LINGER 0)."""
    sock = client.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.writer.transport.abort()
    with contextlib.suppress(Exception):
        await client.writer.wait_closed()


async def test_a_half_closed_client_is_still_sent_everything(
    make_server: MakeServer, texts: list[TextClient]
) -> None:
    server = await make_server(text_port=0, text_leave_notice=True)
    port = server.text_port
    assert port is not None
    a = await joined(port, texts)
    half = await joined(port, texts, "Player1")
    await a.expect(b"newPlayer Player2\n")
    # Its last lines are relayed; the unfinished one after them is dropped, as the starter's was.
    await half.send(b"playerMoved 1 2\nplayerMoved 3")
    shut_sending_side(half)
    await a.expect(b"playerMoved Player2 1 2\n")
    # Lines, newcomers, a netplay member and its relays all still reach it, byte for byte.
    await a.send(b"playerMoved  -5 0\r\n")
    await half.expect(b"playerMoved Player1  -5 0\r\n")
    c = await joined(port, texts, "Player1", "Player2")
    await a.expect(b"newPlayer Player3\n")
    await half.expect(b"newPlayer Player3\n")
    net = await Client.connect("127.0.0.1", server.port)
    try:
        room = await net.quick_match("15-112", kind="relay")
        assert [m["id"] for m in room["room"]["members"]] == ["Player1", "Player2", "Player3", net.id]
        await half.expect(f"newPlayer {net.id}\n".encode())
        await net.relay({"instr": "playerTeleported", "details": "100 200"})
        await half.expect(f"playerTeleported {net.id} 100 200\n".encode())
        await c.close()
        await half.expect(b"playerLeft Player3\n")
        await a.send(b"marker a\n")
        await half.expect(b"marker Player1 a\n")
        event = await net.wait_for("relay")
        assert (event["from"], event["data"]["line"]) == ("Player1", "marker a")
    finally:
        await net.close()
    await half.expect(f"playerLeft {net.id}\n".encode())
    await a.expect(
        f"newPlayer {net.id}\n".encode(),
        f"playerTeleported {net.id} 100 200\n".encode(),
        b"playerLeft Player3\n",
        f"playerLeft {net.id}\n".encode(),
    )


async def test_a_half_closed_client_that_closes_leaves_at_the_next_line_it_is_sent(
    make_server: MakeServer, texts: list[TextClient]
) -> None:
    server = await make_server(text_port=0, text_names=("Rohan", "Eddie"), text_leave_notice=True)
    port = server.text_port
    assert port is not None
    rohan = await joined(port, texts)
    eddie = await joined(port, texts, "Rohan")
    await rohan.expect(b"newPlayer Eddie\n")
    watcher = await Client.connect("127.0.0.1", server.port)
    try:
        shut_sending_side(eddie)
        await rohan.send(b"playerMoved 1 0\n")
        await eddie.expect(b"playerMoved Rohan 1 0\n")
        eddie.writer.close()  # really closed now, with nothing unread: no byte tells the server
        await eddie.writer.wait_closed()
        rooms = await watcher.list_rooms("15-112")
        assert [[m["id"] for m in r["members"]] for r in rooms] == [["Rohan", "Eddie"]]
        # The next line for it is answered by a reset: Eddie leaves, and its name is free again.
        await rohan.send(b"playerMoved 2 0\n")
        await rohan.expect(b"playerLeft Eddie\n")
        again = await joined(port, texts, "Rohan")
        assert again.id == "Eddie"
        await rohan.expect(b"newPlayer Eddie\n")
        rooms = await watcher.list_rooms("15-112")
        assert [[m["id"] for m in r["members"]] for r in rooms] == [["Rohan", "Eddie"]]
    finally:
        await watcher.close()


async def test_a_half_closed_client_that_resets_leaves_though_nothing_is_sent_to_it(
    make_server: MakeServer, texts: list[TextClient]
) -> None:
    server = await make_server(text_port=0, text_leave_notice=True)
    port = server.text_port
    assert port is not None
    a = await joined(port, texts)
    half = await joined(port, texts, "Player1")
    await a.expect(b"newPlayer Player2\n")
    watcher = await Client.connect("127.0.0.1", server.port)
    try:
        await watcher.quick_match("15-112", kind="relay")
        await a.expect(f"newPlayer {watcher.id}\n".encode())
        await half.expect(f"newPlayer {watcher.id}\n".encode())
        shut_sending_side(half)
        await a.send(b"playerMoved 1 0\n")
        await half.expect(b"playerMoved Player1 1 0\n")
        # A reset in a quiet room: the server looks at the socket every HALF_CLOSED_PROBE seconds.
        await reset(half)
        await member_event(watcher, "member_left", "Player2")  # within its 5 s
        await a.expect(b"playerLeft Player2\n")
    finally:
        await watcher.close()


async def test_a_half_closed_client_that_never_reads_is_still_cut_off(
    make_server: MakeServer, texts: list[TextClient]
) -> None:
    server = await make_server(text_port=0, text_leave_notice=True, max_send_buffer=64 * 1024, rate_limit=0)
    port = server.text_port
    assert port is not None
    a = await joined(port, texts)
    b = await joined(port, texts, "Player1")
    await a.expect(b"newPlayer Player2\n")
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    silent.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(silent, ("127.0.0.1", port))
        silent.shutdown(socket.SHUT_WR)  # sends nothing and reads nothing
        await a.expect(b"newPlayer Player3\n")
        await b.expect(b"newPlayer Player3\n")
        padding = b"." * 1000
        received, left = 0, False
        for batch in range(100):  # 10,000 lines of about 1 kB: far more than the kernel buffers
            await a.send(b"".join(b"line %d %s\n" % (batch * 100 + i, padding) for i in range(100)))
            while received < (batch + 1) * 100:
                line = await b.line()
                if line == b"playerLeft Player3\n":  # dropped once its send buffer was full
                    assert not left
                    left = True
                    continue
                assert line == b"line Player1 %d %s\n" % (received, padding)
                received += 1
        if not left:
            await b.expect(b"playerLeft Player3\n")
        await a.expect(b"playerLeft Player3\n")
    finally:
        silent.close()
