"""A WebSocket client that floods ping frames and never reads (issue 9, item 2), end to end.

The attacker speaks WebSocket by hand (the ``websockets`` library's Sans-I/O client for the
handshake, then raw frames in big writes) so that it can do what no well-behaved client does, on a
blocking socket in a thread of its own, so that its writing costs the event loop nothing, as if it
were on another machine. The server runs in this process, so its RSS is this process's: the
attacker's own memory stays small (one prebuilt 1 MiB chunk, written again and again, each write
waiting for the kernel to take it), and the honest players' is a few KiB.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psutil
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from netplay.server import Server

from ..conftest import RawPeer

MakeServer = Callable[..., Awaitable[Server]]
MiB = 1024 * 1024

#: One ping frame as a client sends it: masked, with the largest payload a control frame may carry.
PING = Frame(Opcode.PING, b"p" * 125).serialize(mask=True, extensions=[])
#: What the attacker writes at once: about 1 MiB of pings (8,192 frames of 131 bytes).
CHUNK = PING * 8192
#: The whole flood: on the server before the fix, about 64 MiB of pongs it can never deliver.
FLOOD = 64 * MiB
#: The server's RSS may grow this much during the attack. The limits allow 1 MiB of unread output
#: (max_send_buffer) and one read (256 KiB) waiting to be parsed; the rest is margin for allocator
#: and test noise (the players' games, the attacker's thread and its 1 MiB chunk). Measured: under
#: 2.5 MiB; before the fix, the same flood grew it by 61 MiB (all of it pongs nobody read).
RSS_BOUND = 16 * MiB
#: Honest players' move round trip, 99th percentile, the median of three attacks. Measured on a
#: quiet 2-core box: 0.6 to 1 ms with no attack, 1 to 2.5 ms during one; before the fix, 60 to
#: 120 ms. The margin is for the box's other processes: a time slice they take (about 5 ms) stalls
#: a move with or without an attack, and on a loaded box that alone puts one run's p99 near 5 ms.
P99_BOUND = 0.010


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


class Attacker:
    """A WebSocket client for a thread of its own: handshake and hello by the book, then ping
    frames in big writes, never reading."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.written = 0  # bytes of pings the kernel took

    def run(self, total: int, timeout: float = 20.0) -> bool:
        """Write up to ``total`` bytes of pings; True if the server cut the attacker off first.

        A server that stops reading without closing makes a write wait: that is the timeout.
        """
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            self.handshake(sock)
            try:
                while self.written < total:
                    sock.sendall(CHUNK)
                    self.written += len(CHUNK)
            except ConnectionError:
                return True
            except TimeoutError:
                return False
        return False

    def handshake(self, sock: socket.socket) -> None:
        ws = ClientProtocol(parse_uri(f"ws://127.0.0.1:{self.port}/ws"))
        ws.send_request(ws.connect())
        sock.sendall(b"".join(ws.data_to_send()))
        while ws.state is State.CONNECTING:
            ws.receive_data(sock.recv(65536))
        response = ws.events_received()[0]
        assert isinstance(response, Response) and response.status_code == 101, response
        ws.send_text(json.dumps({"type": "hello", "protocol": 1, "name": "pinger", "id": 0}).encode())
        sock.sendall(b"".join(ws.data_to_send()))
        while True:
            frames = [e for e in ws.events_received() if isinstance(e, Frame) and e.opcode is Opcode.TEXT]
            if frames:
                assert json.loads(frames[0].data)["type"] == "welcome", frames
                return
            ws.receive_data(sock.recv(65536))


class Players:
    """Two honest players playing tic-tac-toe over TCP, game after game, timing every move.

    A move's round trip is from sending it to the mover's reading the new state.
    """

    def __init__(self, a: RawPeer, b: RawPeer, room: str, first: dict[str, Any]) -> None:
        self.peers = {"Ann": a, "Bob": b}
        self.room = room
        self.state = first
        self.round_trips: list[float] = []
        self.peak_rss = rss()

    @classmethod
    async def seat(cls, port: int) -> Players:
        a, b = await RawPeer.open(port), await RawPeer.open(port)
        await a.hello("Ann")
        await b.hello("Bob")
        a.send({"type": "create_room", "game": "tictactoe", "id": 1})
        room = (await a.recv_type("joined"))["room"]["id"]
        b.send({"type": "join_room", "room": room, "id": 1})
        await b.recv_type("joined")
        first = await a.recv_type("state")
        assert await b.recv_type("state") == first
        return cls(a, b, room, first)

    async def play(self, moves: int, started: asyncio.Event) -> None:
        """Play ``moves`` moves (whole games); set ``started`` after the first game.

        300 moves are about 210 messages per player, inside the default burst of 400 however fast
        they go: the players are never rate limited themselves.
        """
        while len(self.round_trips) < moves:
            await self.one_game()
            started.set()
            self.peak_rss = max(self.peak_rss, rss())

    async def one_game(self) -> None:
        # X (whoever holds seat 0 this game) takes the top row while O answers in the middle one.
        x, o = (self.peers[p["name"]] for p in self.state["players"])
        for peer, cell in [(x, 0), (o, 3), (x, 1), (o, 4), (x, 2)]:
            other = o if peer is x else x
            started = time.perf_counter()
            peer.send({"type": "move", "room": self.room, "move": cell, "version": self.state["version"]})
            state = await peer.recv_type("state")
            self.round_trips.append(time.perf_counter() - started)
            assert await other.recv_type("state") == state
            self.state = state
        assert self.state["outcome"]["winner"] == 0
        for peer in (x, o):
            peer.send({"type": "rematch", "room": self.room})
        self.state = await x.recv_type("state")
        assert await o.recv_type("state") == self.state

    def p99(self) -> float:
        ordered = sorted(self.round_trips)
        return ordered[int(len(ordered) * 0.99)]

    async def close(self) -> None:
        for peer in self.peers.values():
            await peer.close()


async def attack_while_playing(server: Server, moves: int = 300) -> tuple[Attacker, bool, Players, int]:
    """Two players play ``moves`` moves; an attacker floods meanwhile, from their first game on.

    Returns the attacker, whether the server cut it off, the players, and the RSS growth.
    """
    players = await Players.seat(server.port)
    await players.one_game()  # warm up: the first moves allocate what every later one reuses
    players.round_trips.clear()
    baseline = rss()
    started = asyncio.Event()
    playing = asyncio.create_task(players.play(moves, started))
    attacker = Attacker(server.port)
    try:
        await asyncio.wait_for(started.wait(), 10)
        cut_off = await asyncio.to_thread(attacker.run, FLOOD)
        players.peak_rss = max(players.peak_rss, rss())  # before anything is freed
        during = len(players.round_trips)
        await asyncio.wait_for(playing, 30)
        # The attack was over before the players were: every figure below was taken while it lasted.
        assert during < moves, "the players finished before the attack did"
    finally:
        playing.cancel()
        await players.close()
    return attacker, cut_off, players, players.peak_rss - baseline


async def test_a_ping_flood_past_the_burst_is_cut_off_and_other_players_do_not_notice(
    make_server: MakeServer,
) -> None:
    # Default limits: 200 messages a second, a burst of 400, 1 MiB of unread output.
    server = await make_server()
    p99s = []
    for _ in range(3):  # three attackers in turn, each with two new players
        attacker, cut_off, players, growth = await attack_while_playing(server)
        # Cut off by the rate limit at its 800th ping (100 KiB in, 50 KiB of pongs): it could write
        # what the kernel's socket buffers took meanwhile (3 to 4 MiB here), never the whole flood.
        written = attacker.written / MiB
        assert cut_off, f"the server read {written:.0f} MiB of pings and never cut the attacker off"
        assert growth < RSS_BOUND, f"RSS grew {growth / MiB:.1f} MiB"
        p99s.append(players.p99())
    p99 = sorted(p99s)[1]
    assert p99 < P99_BOUND, f"other players' p99 was {p99 * 1000:.1f} ms (runs: {p99s})"


async def test_pongs_count_against_the_send_buffer_when_the_rate_limit_is_off(
    make_server: MakeServer,
) -> None:
    # Without a rate limit only the send buffer stops the attacker: its pongs fill the kernel's
    # buffers, then max_send_buffer, and it is dropped as any client that does not read. (Without
    # the byte rate either: it would only slow the attacker down, to 1 MiB/s by default.)
    server = await make_server(rate_limit=0, byte_rate=0, max_send_buffer=256 * 1024)
    attacker, cut_off, _, growth = await attack_while_playing(server)
    written = attacker.written / MiB  # 8 to 9 MiB here: about what the kernel's buffers hold
    assert cut_off, f"the server read {written:.0f} MiB of pings and never cut the attacker off"
    assert growth < RSS_BOUND, f"RSS grew {growth / MiB:.1f} MiB"
