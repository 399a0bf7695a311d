"""The 15-112 text protocol end to end, over real sockets on 127.0.0.1.

Text clients behave like the CMU 15-112 starter code: they read 10 bytes at a time and split on
``\\n``. "Nothing else is sent" is checked by reading the exact next lines: a marker line sent
afterwards by another client must be the next thing received.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import socket
import struct
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from netplay.client import Client
from netplay.server import Server

pytestmark = pytest.mark.timeout(60)


class TextClient:
    """A starter-code client: the server speaks first; lines are read ``chunk`` bytes at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, chunk: int) -> None:
        self.reader = reader
        self.writer = writer
        self.chunk = chunk
        self.id = ""
        self._buffer = b""

    @classmethod
    async def open(cls, port: int, *, chunk: int = 10) -> TextClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # Small writes leave as separate segments, so the server really sees lines in fragments.
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, chunk)

    async def line(self, timeout: float = 5.0) -> bytes:
        """The next line, its ``\\n`` included; EOFError if the server closes first."""
        async with asyncio.timeout(timeout):
            while b"\n" not in self._buffer:
                data = await self.reader.read(self.chunk)
                if not data:
                    raise EOFError(f"connection closed; unfinished line {self._buffer[:80]!r}")
                self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line + b"\n"

    async def expect(self, *lines: bytes, timeout: float = 5.0) -> None:
        """The next lines are exactly ``lines``, in order."""
        for expected in lines:
            assert await self.line(timeout) == expected

    async def greet(self, *others: str) -> str:
        """Read the greeting: ``newPlayer`` for each of ``others``, then ``myIDis ID \\n``."""
        for other in others:
            assert await self.line() == f"newPlayer {other}\n".encode()
        mine = await self.line()
        match = re.fullmatch(rb"myIDis (\S+) \n", mine)
        assert match is not None, mine
        self.id = match.group(1).decode()
        return self.id

    async def send(self, data: bytes, piece: int | None = None) -> None:
        """Send ``data`` whole, or in pieces of ``piece`` bytes (each its own write)."""
        step = piece or len(data) or 1
        for start in range(0, len(data), step):
            self.writer.write(data[start : start + step])
            await self.writer.drain()

    async def closed_by_server(self, timeout: float = 5.0) -> bytes:
        """Wait until the server closes the connection; return what arrived unread before that."""
        rest = self._buffer
        self._buffer = b""
        async with asyncio.timeout(timeout):
            with contextlib.suppress(ConnectionError):
                while data := await self.reader.read(65536):
                    rest += data
        return rest

    async def close(self) -> None:
        """Leave as a client whose process exits with lines unread does: with a reset, which the
        server sees at once. (A plain close sends a FIN, which the server cannot tell from a
        half-close until a write to it is answered by a reset: tests/e2e/test_text_half_close.py.)"""
        sock = self.writer.get_extra_info("socket")
        if sock is not None and sock.fileno() >= 0:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


OpenText = Callable[..., Awaitable[TextClient]]


@pytest.fixture
async def text_server(make_server: Callable[..., Awaitable[Server]]) -> Callable[..., Awaitable[Server]]:
    """Start a server with a text listener on a free port (settings as ServerConfig fields)."""

    async def start(**settings: Any) -> Server:
        server = await make_server(text_port=0, **settings)
        assert server.text_port
        return server

    return start


@pytest.fixture
async def open_text() -> AsyncIterator[OpenText]:
    """Open text clients to a server; close them afterwards."""
    clients: list[TextClient] = []

    async def open_client(server: Server, *, chunk: int = 10) -> TextClient:
        assert server.text_port is not None
        client = await TextClient.open(server.text_port, chunk=chunk)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()


@pytest.fixture
async def open_netplay() -> AsyncIterator[Callable[[Server], Awaitable[Client]]]:
    """Open netplay-protocol clients to a server; close them afterwards."""
    clients: list[Client] = []

    async def open_client(server: Server) -> Client:
        client = await Client.connect("127.0.0.1", server.port)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()


async def next_event(client: Client) -> dict[str, Any]:
    """The client's next event other than an acknowledgement of its own request."""
    while (event := await client.next_event(timeout=5))["type"] == "ok":
        pass
    return event


async def member_event(client: Client, kind: str, member: str) -> dict[str, Any]:
    """Skip events until a ``member_joined``/``member_left`` (``kind``) about ``member``."""
    async with asyncio.timeout(5):
        while True:
            event = await client.wait_for(kind)
            if event["member"]["id"] == member:
                return event


async def join_text(open_text: OpenText, server: Server, *others: str) -> TextClient:
    client = await open_text(server)
    await client.greet(*others)
    return client


# -- the greeting and the format of relayed lines ------------------------------------------------------
async def test_greeting_and_relay_format_byte_for_byte(text_server: Any, open_text: OpenText) -> None:
    server = await text_server()
    a = await open_text(server)
    assert await a.greet() == "Player1"
    b = await open_text(server)
    assert await b.greet("Player1") == "Player2"
    await a.expect(b"newPlayer Player2\n")
    c = await open_text(server)
    assert await c.greet("Player1", "Player2") == "Player3"
    await a.expect(b"newPlayer Player3\n")
    await b.expect(b"newPlayer Player3\n")

    relayed = {
        b"playerMoved 5 0\n": b"playerMoved Player1 5 0\n",
        b"playerMoved  5  0  \n": b"playerMoved Player1  5  0  \n",
        b"playerMoved 5 0\r\n": b"playerMoved Player1 5 0\r\n",
        b" lonely\n": b" Player1 lonely\n",
        b"a \t\x00\x7f\n": b"a Player1 \t\x00\x7f\n",
    }
    dropped = [b"noSpace\n", b"trailing \n", b"\n", b" \n", b"\r\n"]
    for line in [*dropped[:2], *relayed, *dropped[2:]]:
        await a.send(line, piece=3)
    await a.send(b"marker 1\n")
    for receiver in (b, c):
        await receiver.expect(*relayed.values(), b"marker Player1 1\n")
    # No echo: the next thing A receives is B's line, not anything of its own.
    await b.send(b"marker 2\n")
    await a.expect(b"marker Player2 2\n")
    await c.expect(b"marker Player2 2\n")


async def test_lines_arrive_split_and_merged_in_both_directions(
    text_server: Any, open_text: OpenText
) -> None:
    server = await text_server()
    a = await join_text(open_text, server)
    b = await join_text(open_text, server, "Player1")
    await a.expect(b"newPlayer Player2\n")
    lines = [f"move{i} {'x' * (i % 23)} {i}\n".encode() for i in range(200)]
    stream = b"".join(lines)
    rng = random.Random(112)
    cuts = sorted(rng.sample(range(1, len(stream)), 150))
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        a.writer.write(stream[start:end])
        await a.writer.drain()
    await b.send(b"".join(lines[:50]))  # merged: fifty lines in one write
    for i, line in enumerate(lines):
        instr, details = line.split(b" ", 1)
        assert await b.line() == instr + b" Player1 " + details, i
    for line in lines[:50]:
        instr, details = line.split(b" ", 1)
        assert await a.line() == instr + b" Player2 " + details
    await a.send(b"mark er\n", piece=1)  # one byte at a time
    await b.expect(b"mark Player1 er\n")


async def test_join_after_others_left_keeps_ids_unique_and_sends_nothing_else(
    text_server: Any, open_text: OpenText, open_netplay: Any
) -> None:
    server = await text_server()
    watcher = await open_netplay(server)  # a netplay member sees member_left: the sync point
    await watcher.quick_match("15-112", kind="relay")
    w = watcher.id
    a = await join_text(open_text, server, w)
    b = await join_text(open_text, server, w, "Player1")
    await a.expect(b"newPlayer Player2\n")

    await a.close()
    await member_event(watcher, "member_left", "Player1")
    c = await join_text(open_text, server, w, "Player2")
    assert c.id == "Player3"
    await b.expect(b"newPlayer Player3\n")  # strict: no playerLeft came before it

    await b.close()
    await member_event(watcher, "member_left", "Player2")
    d = await join_text(open_text, server, w, "Player3")
    assert d.id == "Player4"
    await c.expect(b"newPlayer Player4\n")

    await d.send(b"playerMoved 1 1\n")
    await c.expect(b"playerMoved Player4 1 1\n")
    await c.send(b"marker c\n")
    await d.expect(b"marker Player3 c\n")


async def test_leave_notice_is_opt_in(text_server: Any, open_text: OpenText) -> None:
    server = await text_server(text_leave_notice=True)
    a = await join_text(open_text, server)
    b = await join_text(open_text, server, "Player1")
    c = await join_text(open_text, server, "Player1", "Player2")
    await a.expect(b"newPlayer Player2\n", b"newPlayer Player3\n")
    await b.expect(b"newPlayer Player3\n")
    await a.close()
    await b.expect(b"playerLeft Player1\n")
    await c.expect(b"playerLeft Player1\n")
    d = await join_text(open_text, server, "Player2", "Player3")
    assert d.id == "Player4"
    await b.close()
    await c.expect(b"newPlayer Player4\n", b"playerLeft Player2\n")
    await d.expect(b"playerLeft Player2\n")
    await c.send(b"marker c\n")
    await d.expect(b"marker Player3 c\n")


# -- many clients --------------------------------------------------------------------------------------
async def test_thirty_clients_at_once(text_server: Any, open_text: OpenText) -> None:
    server = await text_server()
    clients = await asyncio.gather(*(open_text(server) for _ in range(30)))

    async def greet(client: TextClient) -> None:
        others: list[str] = []
        while (line := await client.line()).startswith(b"newPlayer "):
            others.append(line[len(b"newPlayer ") : -1].decode())
        assert line.startswith(b"myIDis ") and line.endswith(b" \n")
        client.id = line[len(b"myIDis ") : -2].decode()
        number = int(client.id.removeprefix("Player"))
        assert others == [f"Player{n}" for n in range(1, number)]  # everyone before it, in order

    await asyncio.gather(*(greet(c) for c in clients))
    assert sorted(int(c.id.removeprefix("Player")) for c in clients) == list(range(1, 31))

    async def later_joiners(client: TextClient) -> None:
        number = int(client.id.removeprefix("Player"))
        await client.expect(*(f"newPlayer Player{n}\n".encode() for n in range(number + 1, 31)))

    await asyncio.gather(*(later_joiners(c) for c in clients))
    for client in clients:
        await client.send(f"hello from {client.id}\n".encode(), piece=7)

    async def hear_everyone(client: TextClient) -> None:
        got = {await client.line() for _ in range(29)}
        assert got == {f"hello {o.id} from {o.id}\n".encode() for o in clients if o is not client}

    await asyncio.gather(*(hear_everyone(c) for c in clients))


async def test_concurrent_senders_keep_per_sender_order(text_server: Any, open_text: OpenText) -> None:
    server = await text_server()
    clients = [await join_text(open_text, server, *(f"Player{n}" for n in range(1, k))) for k in range(1, 5)]
    for k, client in enumerate(clients, start=1):
        await client.expect(*(f"newPlayer Player{n}\n".encode() for n in range(k + 1, 5)))
    count = 400

    async def send_all(client: TextClient, piece: int) -> None:
        data = b"".join(f"seq {i} {client.id}\n".encode() for i in range(count))
        await client.send(data, piece=piece)

    async def receive_all(client: TextClient) -> None:
        seen = {c.id: 0 for c in clients if c is not client}
        for _ in range(count * len(seen)):
            match = re.fullmatch(rb"seq (\S+) (\d+) (\S+)\n", await client.line())
            assert match is not None
            sender, number, claimed = (g.decode() for g in match.groups())
            assert sender == claimed and sender in seen  # no echo, right sender
            assert int(number) == seen[sender]  # in order, nothing lost
            seen[sender] += 1

    await asyncio.gather(
        *(send_all(c, piece) for c, piece in zip(clients, (1, 5, 64, 4096), strict=True)),
        *(receive_all(c) for c in clients),
    )


async def test_a_client_that_never_reads_is_cut_off_without_slowing_the_others(
    text_server: Any, open_text: OpenText
) -> None:
    # 10,000 lines as fast as possible: past the default rate limit, which would only slow the
    # sender (tests/e2e/test_text_limits.py); this test is about a receiver that never reads.
    server = await text_server(text_leave_notice=True, max_send_buffer=256 * 1024, rate_limit=0)
    a = await join_text(open_text, server)
    b = await open_text(server, chunk=65536)
    await b.greet("Player1")
    await a.expect(b"newPlayer Player2\n")
    # A raw socket that never calls recv, with a small receive window.
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    silent.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(silent, ("127.0.0.1", server.text_port))
        await a.expect(b"newPlayer Player3\n")
        await b.expect(b"newPlayer Player3\n")
        padding = b"." * 1000
        received = 0
        left = False
        for batch in range(100):  # 10,000 lines of about 1 kB: far more than the kernel buffers
            await a.send(b"".join(b"line %d %s\n" % (batch * 100 + i, padding) for i in range(100)))
            while received < (batch + 1) * 100:
                line = await b.line()
                if line == b"playerLeft Player3\n":
                    assert not left
                    left = True
                    continue
                assert line == b"line Player1 %d %s\n" % (received, padding)
                received += 1
        assert received == 10_000
        if not left:
            await b.expect(b"playerLeft Player3\n")
        await a.expect(b"playerLeft Player3\n")
        await b.send(b"marker b\n")
        await a.expect(b"marker Player2 b\n")
    finally:
        silent.close()


# -- hostile input -------------------------------------------------------------------------------------
async def test_invalid_utf8_is_relayed_byte_for_byte(
    text_server: Any, open_text: OpenText, open_netplay: Any
) -> None:
    server = await text_server()
    a = await join_text(open_text, server)
    b = await join_text(open_text, server, "Player1")
    await a.expect(b"newPlayer Player2\n")
    member = await open_netplay(server)
    await member.quick_match("15-112", kind="relay")
    await a.expect(f"newPlayer {member.id}\n".encode())
    await b.expect(f"newPlayer {member.id}\n".encode())
    hostile = b"chat \xff\xfe \xc3( \xed\xa0\x80 \xf0\x9f\x98\x80 ok\r"
    await a.send(hostile + b"\n", piece=2)
    await b.expect(b"chat Player1 " + hostile[5:] + b"\n")
    event = await member.wait_for("relay")
    assert event["from"] == "Player1"
    assert event["data"]["instr"] == "chat"
    assert event["data"]["details"] == hostile[5:].decode("utf-8", "replace")


async def test_an_endless_line_gets_its_sender_cut_off(text_server: Any, open_text: OpenText) -> None:
    server = await text_server(text_max_line=4096, text_leave_notice=True)
    a = await join_text(open_text, server)
    b = await join_text(open_text, server, "Player1")
    e = await join_text(open_text, server, "Player1", "Player2")
    await a.expect(b"newPlayer Player2\n", b"newPlayer Player3\n")
    await b.expect(b"newPlayer Player3\n")
    longest = b"big " + b"y" * 4092 + b"\n"  # exactly the limit: fine
    await e.send(longest)
    await a.expect(b"big Player3 " + b"y" * 4092 + b"\n")
    with contextlib.suppress(ConnectionError):
        for _ in range(100):  # 1 MB with no newline, or until the server cuts it off
            await e.send(b"z" * 10_000)
    assert await e.closed_by_server() == b""
    await a.expect(b"playerLeft Player3\n")
    await a.send(b"marker a\n")
    await b.expect(b"big Player3 " + b"y" * 4092 + b"\n", b"playerLeft Player3\n", b"marker Player1 a\n")
    late = await join_text(open_text, server, "Player1", "Player2")
    assert late.id == "Player4"


async def test_half_open_reset_and_silent_connections_leave_the_room_working(
    text_server: Any, open_text: OpenText
) -> None:
    server = await text_server(text_leave_notice=True)  # playerLeft: the point where a leave is done
    a = await join_text(open_text, server)
    b = await join_text(open_text, server, "Player1")
    await a.expect(b"newPlayer Player2\n")

    # Half-closed: half a line, then the client shuts its sending side. It stays, as with the
    # starter server, and is still sent everything (tests/e2e/test_text_half_close.py: how it leaves).
    half = await join_text(open_text, server, "Player1", "Player2")
    await half.send(b"playerMoved 9")
    half.writer.write_eof()
    for text in (a, b):
        await text.expect(b"newPlayer Player3\n")

    # Reset: half a line, then an RST instead of a FIN.
    reset = await join_text(open_text, server, "Player1", "Player2", "Player3")
    await reset.send(b"playerMoved 8")
    sock = reset.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    reset.writer.transport.abort()
    for text in (a, b, half):
        await text.expect(b"newPlayer Player4\n", b"playerLeft Player4\n")

    # Silent: half a line and then nothing at all, the connection kept open.
    silent = await join_text(open_text, server, "Player1", "Player2", "Player3")
    await silent.send(b"playerMoved 7")
    # Garbage without a newline: a netplay frame, NULs, a lone \r.
    junk = await join_text(open_text, server, "Player1", "Player2", "Player3", "Player5")
    await junk.send(b'\x00\x00\x00\x10{"type":"hello"}\x00\r')
    for text in (a, b, half):
        await text.expect(b"newPlayer Player5\n", b"newPlayer Player6\n")
    await silent.expect(b"newPlayer Player6\n")

    await b.send(b"marker b\n")
    for text in (a, half, silent, junk):
        await text.expect(b"marker Player2 b\n")  # none of the half lines was relayed
    # The listener still takes new clients, and everyone left still talks.
    late = await join_text(open_text, server, "Player1", "Player2", "Player3", "Player5", "Player6")
    await a.send(b"marker a\n")
    for text in (b, half, silent, junk):
        await text.expect(b"newPlayer Player7\n", b"marker Player1 a\n")
    await late.expect(b"marker Player1 a\n")


async def _greeting_others(client: TextClient) -> list[str]:
    others = []
    while (line := await client.line()).startswith(b"newPlayer "):
        others.append(line[len(b"newPlayer ") : -1].decode())
    assert re.fullmatch(rb"myIDis \S+ \n", line)
    return others


# -- names and rooms -----------------------------------------------------------------------------------
async def test_the_names_list_is_the_player_cap(text_server: Any, open_text: OpenText) -> None:
    names = ("Rohan", "Eddie", "Kim", "Tara")
    server = await text_server(text_names=names, text_leave_notice=True)
    clients = [await join_text(open_text, server, *names[:k]) for k in range(4)]
    assert [c.id for c in clients] == list(names)
    for k, client in enumerate(clients):
        await client.expect(*(f"newPlayer {n}\n".encode() for n in names[k + 1 :]))
    extra = await open_text(server)
    assert await extra.closed_by_server() == b""  # no id, nothing sent, closed
    await clients[3].close()
    for client in clients[:3]:
        await client.expect(b"playerLeft Tara\n")
    another = await join_text(open_text, server, "Rohan", "Eddie", "Kim")  # Tara's name is free again
    assert another.id == "Tara"
    for client in clients[:3]:
        await client.expect(b"newPlayer Tara\n")
    assert await (await open_text(server)).closed_by_server() == b""  # and the cap holds again
    await clients[0].send(b"playerMoved 1 2\n")
    for client in (clients[1], clients[2], another):
        await client.expect(b"playerMoved Rohan 1 2\n")


async def test_a_name_is_free_again_once_its_holder_left(text_server: Any, open_text: OpenText) -> None:
    server = await text_server(text_names=("Rohan", "Eddie", "Kim"), text_leave_notice=True)
    rohan = await join_text(open_text, server)
    eddie = await join_text(open_text, server, "Rohan")
    await rohan.expect(b"newPlayer Eddie\n")
    await rohan.close()
    await eddie.expect(b"playerLeft Rohan\n")
    # The first free name of the list, announced to Eddie like any newcomer: Eddie's client makes
    # a new Rohan of it, and every line from the name comes after that newPlayer.
    again = await join_text(open_text, server, "Eddie")
    assert again.id == "Rohan"
    await eddie.expect(b"newPlayer Rohan\n")
    kim = await join_text(open_text, server, "Eddie", "Rohan")
    assert kim.id == "Kim"
    assert await (await open_text(server)).closed_by_server() == b""  # all three are held
    await again.send(b"hi eddie\n")
    await eddie.expect(b"newPlayer Kim\n", b"hi Rohan eddie\n")
    await kim.expect(b"hi Rohan eddie\n")


async def test_rooms_of_two(text_server: Any, open_text: OpenText, open_netplay: Any) -> None:
    server = await text_server(text_room_size=2, text_leave_notice=True)
    a = await join_text(open_text, server)
    b = await join_text(open_text, server, "Player1")
    c = await join_text(open_text, server)  # a new room
    d = await join_text(open_text, server, "Player3")
    await a.expect(b"newPlayer Player2\n")
    await c.expect(b"newPlayer Player4\n")
    lobby = await open_netplay(server)
    rooms = await lobby.list_rooms("15-112")
    assert [[m["id"] for m in r["members"]] for r in rooms] == [
        ["Player1", "Player2"],
        ["Player3", "Player4"],
    ]
    assert all(r["kind"] == "relay" and r["max_members"] == 2 for r in rooms)

    await a.send(b"room one\n")
    await c.send(b"room two\n")
    await b.expect(b"room Player1 one\n")
    await d.expect(b"room Player3 two\n")
    # A seat freed by someone leaving goes to the next client.
    await b.close()
    await a.expect(b"playerLeft Player2\n")
    e = await join_text(open_text, server, "Player1")
    assert e.id == "Player5"
    await a.expect(b"newPlayer Player5\n")
    await e.send(b"hi a\n")
    await a.expect(b"hi Player5 a\n")
    await d.send(b"marker d\n")
    await c.expect(b"marker Player4 d\n")  # and nothing from room one before it


# -- the bridge ----------------------------------------------------------------------------------------
async def test_bridge_netplay_client_and_text_clients_both_ways(
    text_server: Any, open_text: OpenText, open_netplay: Any
) -> None:
    server = await text_server(text_leave_notice=True)
    a = await join_text(open_text, server)
    b = await join_text(open_text, server, "Player1")
    await a.expect(b"newPlayer Player2\n")
    net = await open_netplay(server)
    joined = await net.quick_match("15-112", kind="relay")
    assert [m["id"] for m in joined["room"]["members"]] == ["Player1", "Player2", net.id]
    new_player = f"newPlayer {net.id}\n".encode()
    await a.expect(new_player)
    await b.expect(new_player)

    # netplay -> text: both data forms; forms a text client cannot take are not sent to it.
    await net.relay({"instr": "playerMoved", "details": "5 0"})
    await net.relay("playerTeleported 100  200 ")
    for unmappable in ({"instr": "x", "details": "a\nforged Player1 1"}, "noSpace", [1, 2], {"x": 1}):
        await net.relay(unmappable)
    await net.relay({"instr": "marker", "details": "net"})
    for text in (a, b):
        await text.expect(
            f"playerMoved {net.id} 5 0\n".encode(),
            f"playerTeleported {net.id} 100  200 \n".encode(),
            f"marker {net.id} net\n".encode(),
        )

    # text -> netplay: a relay event from the text client's id; the other text client gets the line.
    await a.send(b"playerMoved  -5 0\r\n", piece=4)
    event = await next_event(net)
    assert event == {
        "type": "relay",
        "room": joined["room"]["id"],
        "from": "Player1",
        "data": {"instr": "playerMoved", "details": " -5 0\r", "line": "playerMoved  -5 0\r"},
    }
    await b.expect(b"playerMoved Player1  -5 0\r\n")
    await a.send(b"dropped\n")  # no details: dropped for netplay members too
    await b.send(b"marker b\n")
    event = await next_event(net)
    assert (event["from"], event["data"]["line"]) == ("Player2", "marker b")
    await a.expect(b"marker Player2 b\n")

    # Leaving is seen on both sides.
    await b.close()
    await member_event(net, "member_left", "Player2")
    await a.expect(b"playerLeft Player2\n")
    await net.close()
    await a.expect(f"playerLeft {net.id}\n".encode())


async def test_bridge_netplay_client_first_then_text_clients(
    text_server: Any, open_text: OpenText, open_netplay: Any
) -> None:
    server = await text_server(text_room_size=2)
    net = await open_netplay(server)
    other = await open_netplay(server)
    joined = await net.quick_match("15-112", kind="relay")  # the room is netplay's own
    a = await join_text(open_text, server, net.id)
    event = await net.wait_for("member_joined")
    assert event["member"]["id"] == "Player1"
    b = await join_text(open_text, server)  # the first room holds two now: a new one
    await other.join(joined["room"]["id"])  # a second netplay member joins the first room
    await a.expect(f"newPlayer {other.id}\n".encode())
    await net.relay({"any": ["json", 1]})  # netplay members still relay anything among themselves
    assert (await other.wait_for("relay"))["data"] == {"any": ["json", 1]}
    await a.send(b"playerMoved 1 2\n")
    for member in (net, other):
        event = await member.wait_for("relay")
        assert (event["from"], event["data"]["instr"], event["data"]["details"]) == (
            "Player1",
            "playerMoved",
            "1 2",
        )
    await net.relay("marker net")
    await a.expect(f"marker {net.id} net\n".encode())
    await b.send(b"alone here\n")
    await a.send(b"marker a\n")
    event = await next_event(other)
    assert (event["type"], event["from"], event["data"]) == ("relay", net.id, "marker net")
    event = await next_event(other)  # nothing from the other room before it
    assert (event["type"], event["from"], event["data"]["line"]) == ("relay", "Player1", "marker a")


async def test_stopping_the_server_closes_text_clients_without_a_word(
    text_server: Any, open_text: OpenText
) -> None:
    server = await text_server()
    a = await join_text(open_text, server)
    await server.stop(grace=1.0)
    assert await a.closed_by_server() == b""


# -- the command line ----------------------------------------------------------------------------------
async def test_serve_command_line_flags() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "netplay",
        "serve",
        "--port",
        "0",
        "--text-port",
        "0",
        "--text-names",
        "Rohan,Eddie,Kim",
        "--text-room-size",
        "2",
        "--text-leave-notice",
        "--log-level",
        "WARNING",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    clients: list[TextClient] = []
    try:
        assert process.stdout is not None
        port = None
        async with asyncio.timeout(20):
            while port is None:
                line = (await process.stdout.readline()).decode()
                assert line, "the server exited before listening"
                found = re.search(r"15-112 text clients: port (\d+)", line)
                port = int(found.group(1)) if found else None

        async def join(*others: str) -> TextClient:
            client = await TextClient.open(port)
            clients.append(client)
            await client.greet(*others)
            return client

        rohan = await join()
        eddie = await join("Rohan")
        kim = await join()  # rooms of two: Kim starts the second room
        assert (rohan.id, eddie.id, kim.id) == ("Rohan", "Eddie", "Kim")
        await rohan.expect(b"newPlayer Eddie\n")
        fourth = await TextClient.open(port)  # three names: no fourth player
        clients.append(fourth)
        assert await fourth.closed_by_server() == b""
        await rohan.send(b"playerMoved 5 0\n")
        await eddie.expect(b"playerMoved Rohan 5 0\n")
        await eddie.close()
        await rohan.expect(b"playerLeft Eddie\n")
        await kim.send(b"alone here\n")
        await rohan.send(b"still here\n")
        await rohan.close()
    finally:
        for client in clients:
            await client.close()
        if process.returncode is None:
            process.terminate()
        async with asyncio.timeout(10):
            await process.wait()
