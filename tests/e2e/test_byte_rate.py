"""One relay member flooding the others (issue 9, item 3), end to end: the byte rate slows the sender.

Sixteen honest members read as fast as they can, in a process of their own (as if on other
machines), while one member sends 400 relays of 60 KB each in big writes, from a thread of its own:
inside the message burst and the frame limit, but 24 MB, 384 MB once relayed. Before the byte rate,
the server read it all at once and every honest member's send buffer overflowed: all 16 were cut
off. Now the sender is not read faster than ``byte_rate`` (1 MiB/s by default, after a burst of
512 KiB), so TCP slows it down, the members get every message, and two tic-tac-toe players on the
same server notice nothing.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import pytest

from netplay.protocol import frame
from netplay.protocol.codec import encode
from netplay.server import Server, ServerConfig

from ..conftest import RawPeer
from .test_websocket import WsPeer
from .test_websocket_flood import Players

pytestmark = pytest.mark.timeout(180)

MakeServer = Callable[..., Awaitable[Server]]
KiB = 1024

MEMBERS = 16
RELAYS = 400
DATA = "x" * 60_000  # a relay of about 60 KB, under the 64 KiB frame limit
#: The defaults of ``byte_rate`` and ``byte_burst`` (docs/operations.md), which this test is about.
DEFAULT_RATE, DEFAULT_BURST = 1024 * KiB, 512 * KiB
#: Bytes the server may read past its rate before a pause: the one read that overdrew the allowance.
ONE_READ = 256 * KiB
#: The honest players' move round trip, 99th percentile, median of the rounds played during the
#: flood: under this, or three times the median without it (a machine busy with other work).
P99_BOUND = 0.005

#: The honest members: a process of their own, reading all 16 sockets as fast as they can (one
#: select loop, 1 MiB reads, each message decoded), answering the server's pings. Prints
#: "ready" once every one has joined, then, once each has every relay (or a socket closed, or a
#: minute passed without a byte), one JSON line: relays per member and which were closed.
READERS = r"""
import json, selectors, socket, struct, sys
port, room, members, expected = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def frame(message):
    payload = json.dumps(message).encode()
    return struct.pack(">I", len(payload)) + payload

def messages(buf):
    out, at = [], 0
    while len(buf) - at >= 4:
        size = struct.unpack_from(">I", buf, at)[0]
        if len(buf) - at - 4 < size:
            break
        out.append(bytes(buf[at + 4 : at + 4 + size]))
        at += 4 + size
    del buf[:at]
    return out

socks, bufs = [], []
for n in range(members):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(frame({"type": "hello", "protocol": 1, "name": f"reader{n}"}))
    sock.sendall(frame({"type": "join_room", "room": room, "id": 1}))
    buf, joined = bytearray(), False
    while not joined:
        buf += sock.recv(1 << 16)
        joined = any(json.loads(m)["type"] == "joined" for m in messages(buf))
    sock.setblocking(False)
    socks.append(sock)
    bufs.append(buf)
print("ready", flush=True)

relays, closed = [0] * members, [False] * members
selector = selectors.DefaultSelector()
for n, sock in enumerate(socks):
    selector.register(sock, selectors.EVENT_READ, n)
while not all(c or r >= expected for c, r in zip(closed, relays)):
    events = selector.select(timeout=60)
    if not events:
        break
    for key, _ in events:
        n = key.data
        try:
            data = socks[n].recv(1 << 20)
        except BlockingIOError:
            continue
        except ConnectionError:
            data = b""
        if not data:
            closed[n] = True
            selector.unregister(socks[n])
            continue
        bufs[n] += data
        for m in messages(bufs[n]):
            message = json.loads(m)  # as any client does with each message
            if message["type"] == "relay":
                relays[n] += 1
            elif message["type"] == "ping":
                socks[n].setblocking(True)
                socks[n].sendall(frame({"type": "pong"}))
                socks[n].setblocking(False)
print(json.dumps({"relays": relays, "closed": closed}), flush=True)
"""


class Flooder:
    """A relay member on a blocking socket, for a thread of its own: its writes wait for the server."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self._buf = b""

    def request(self, message: dict[str, object], kind: str) -> dict[str, object]:
        self.sock.sendall(frame(encode(message)))
        while True:
            while len(self._buf) < 4 or len(self._buf) < 4 + int.from_bytes(self._buf[:4], "big"):
                chunk = self.sock.recv(1 << 16)
                assert chunk, "the server closed the flooder's connection"
                self._buf += chunk
            size = int.from_bytes(self._buf[:4], "big")
            message = json.loads(self._buf[4 : 4 + size])
            self._buf = self._buf[4 + size :]
            if message["type"] == kind:
                return dict(message)

    def flood(self, room: str) -> int:
        """Send the relays, 16 at a time (about 1 MB a write); return the bytes sent."""
        relay = frame(encode({"type": "relay", "room": room, "data": DATA}))
        chunk = relay * 16
        for _ in range(RELAYS // 16):
            self.sock.sendall(chunk)
        return len(chunk) * (RELAYS // 16)

    def still_connected(self) -> bool:
        """Whether the server still answers (it was slowed down, not cut off)."""
        self.sock.settimeout(30)
        try:
            return self.request({"type": "ping", "id": "last"}, "pong")["re"] == "last"
        except (AssertionError, ConnectionError):
            return False


async def play_rounds(
    port: int, moves: int, until: asyncio.Future[object] | None, rounds: int
) -> list[float]:
    """Two new players each round, 150 timed moves each; p99 of each round. With ``until``, rounds
    go on (at least ``rounds``) until it is done."""
    p99s = []
    while len(p99s) < rounds or (until is not None and not until.done()):
        players = await Players.seat(port)
        await players.one_game()  # warm up
        players.round_trips.clear()
        await players.play(moves, asyncio.Event())
        p99s.append(players.p99())
        await players.close()
    return p99s


async def test_a_flooding_relay_member_is_slowed_and_no_honest_member_is_cut_off(
    make_server: MakeServer,
) -> None:
    server = await make_server()  # the defaults: 1 MiB/s, a burst of 512 KiB, a 1 MiB send buffer
    rate, burst = DEFAULT_RATE, DEFAULT_BURST
    flooder = await asyncio.to_thread(Flooder, server.port)  # blocking calls: never on the loop
    await asyncio.to_thread(flooder.request, {"type": "hello", "protocol": 1, "name": "flooder"}, "welcome")
    create = {"type": "create_room", "kind": "relay", "game": "flood", "id": 1}
    joined = await asyncio.to_thread(flooder.request, create, "joined")
    room = str(joined["room"]["id"])  # type: ignore[index]
    readers = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        READERS,
        str(server.port),
        room,
        str(MEMBERS),
        str(RELAYS),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert readers.stdout is not None
        async with asyncio.timeout(30):
            assert await readers.stdout.readline() == b"ready\n"
        quiet = await play_rounds(server.port, 150, None, rounds=5)

        started = time.perf_counter()
        sending = asyncio.ensure_future(asyncio.to_thread(flooder.flood, room))
        result_line = asyncio.ensure_future(readers.stdout.readline())
        flooded = await play_rounds(server.port, 150, result_line, rounds=3)
        async with asyncio.timeout(120):
            line = await result_line
        took = time.perf_counter() - started
        sent = await sending
        result = json.loads(line)
    finally:
        if readers.returncode is None:
            readers.kill()
        await readers.wait()

    print(
        f"\nflood: {sent / 1e6:.1f} MB in {took:.1f} s; p99 median ms: quiet "
        f"{statistics.median(quiet) * 1000:.2f} ({len(quiet)} rounds), flooded "
        f"{statistics.median(flooded) * 1000:.2f} ({len(flooded)} rounds)"
    )
    cut_off = sum(result["closed"])
    assert cut_off == 0, f"{cut_off} of {MEMBERS} honest members were cut off; relays: {result['relays']}"
    assert result["relays"] == [RELAYS] * MEMBERS
    # The sender was slowed to its rate: the server cannot have read more than the burst, one read
    # and the rate's worth meanwhile (before the byte rate: about 2 s, and 16 members cut off).
    implied = (sent - burst - ONE_READ) / rate
    assert took >= implied, f"{sent / 1e6:.1f} MB relayed in {took:.1f} s: the rate implies {implied:.1f} s"
    assert await asyncio.to_thread(flooder.still_connected)  # slowed down, never cut off
    flooder.sock.close()
    bound = max(P99_BOUND, 3 * statistics.median(quiet))
    during, without = ([round(p * 1000, 2) for p in ps] for ps in (flooded, quiet))
    assert statistics.median(flooded) < bound, (
        f"the players' p99: {during} ms during the flood, {without} without"
    )
    config = ServerConfig()
    assert (config.byte_rate, config.byte_burst) == (rate, burst), "the documented defaults"


async def test_a_websocket_sender_is_slowed_to_its_byte_rate_too(make_server: MakeServer) -> None:
    from websockets.asyncio.client import connect

    rate, burst = 1024 * KiB, 256 * KiB
    server = await make_server(byte_rate=rate, byte_burst=burst)
    owner = await RawPeer.open(server.port)
    await owner.hello("owner")
    owner.send({"type": "create_room", "kind": "relay", "game": "flood", "id": 1})
    room = (await owner.recv_type("joined"))["room"]["id"]
    readers = [owner]
    for n in range(3):
        reader = await RawPeer.open(server.port)
        await reader.hello(f"reader{n}")
        reader.send({"type": "join_room", "room": room, "id": 1})
        await reader.recv_type("joined")
        readers.append(reader)
    ws = await connect(f"ws://127.0.0.1:{server.port}/ws", proxy=None, open_timeout=5, max_size=None)
    sender = WsPeer(ws)
    await sender.hello("web-flooder")
    await sender.send({"type": "join_room", "room": room, "id": 1})
    await sender.recv_type("joined")
    relay = json.dumps({"type": "relay", "room": room, "data": DATA})
    count = 40  # 2.4 MB
    started = time.perf_counter()

    async def read_relays(peer: RawPeer) -> int:
        got = 0
        while got < count:
            if (await peer.recv_type("relay", timeout=30))["data"] == DATA:
                got += 1
        return got

    receiving = asyncio.gather(*(read_relays(r) for r in readers))
    for _ in range(count):
        await ws.send(relay)
    assert await receiving == [count] * len(readers)
    took = time.perf_counter() - started
    implied = (count * len(relay) - burst - ONE_READ) / rate
    assert took >= implied, f"{count} relays in {took:.2f} s: the rate implies {implied:.2f} s"
    assert (await owner.sync()) is not None  # everyone still connected
    await ws.close()
    for reader in readers:
        await reader.close()
